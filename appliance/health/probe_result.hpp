// The outcome of one check: pass or fail, and a reason a human can act on
// ("connect: Connection refused", "HTTP status 500 (expected 2xx)").
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace vsd::health {

struct ProbeResult {
  bool ok = false;
  std::string reason;
  // What a passing check does to the real server's weight: set it
  // (misc_dynamic's exit code) or add to the configured one (a file
  // check); neither: nothing.
  std::optional<std::uint32_t> set_weight = std::nullopt;
  std::optional<std::int64_t> add_weight = std::nullopt;
};

}  // namespace vsd::health
