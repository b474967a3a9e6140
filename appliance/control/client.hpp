// vsadm's end of the control socket: one JSON request line, one JSON reply
// line, or a reply streamed as lines (server.hpp is the daemon's end).
#pragma once

#include <cstddef>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace vsd {

// Size limits of one line each way: requests are small, a status reply is
// not. A streamed reply (the connection listing) has no limit as a whole:
// only each of its lines is bounded (a few MB at most: one step of the walk).
inline constexpr std::size_t kMaxControlRequest = 1 << 20;
inline constexpr std::size_t kMaxControlReply = kMaxControlRequest * 64;

// One request, one reply. Throws std::runtime_error naming the socket and
// what to check.
nlohmann::json control_request(const std::string& path, const nlohmann::json& request);

// One request, then the reply line by line as it arrives: on_line(line)
// for each, until it returns false (the reply is complete). Returns true
// then, false if vsd closed the connection first. Throws as control_request
// (and when a line is not JSON or longer than max_line bytes).
bool control_request_lines(const std::string& path, const nlohmann::json& request,
                           const std::function<bool(const nlohmann::json& line)>& on_line,
                           std::size_t max_line = kMaxControlReply);

}  // namespace vsd
