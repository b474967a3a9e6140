// vsadm's end of the control socket: one JSON request line, one JSON reply
// line (server.hpp is the daemon's end).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

namespace vsd {

// Size limits of one line each way: requests are small, listings are not.
inline constexpr std::size_t kMaxControlRequest = 1 << 20;
inline constexpr std::size_t kMaxControlReply = kMaxControlRequest * 64;

// One request, one reply. Throws std::runtime_error naming the socket and
// what to check.
nlohmann::json control_request(const std::string& path, const nlohmann::json& request);

}  // namespace vsd
