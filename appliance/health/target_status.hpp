// What the daemon shows about one health-checked real server (vsadm
// --json, the control socket): the state, why, and since when.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "appliance/health/check_config.hpp"

namespace vsd::health {

struct TargetStatus {
  std::string id;
  std::string service;
  Endpoint real;
  Endpoint destination;  // what is probed: real with connect_to applied
  CheckType type = CheckType::tcp;
  bool up = true;
  bool has_run = false;  // false: the state is still the initial one
  bool running = false;  // a check is in flight
  std::uint32_t consecutive_passes = 0, consecutive_failures = 0;
  std::uint64_t checks = 0, failed_checks = 0;
  std::uint64_t since_ms = 0;                  // last transition, Clock milliseconds
  std::optional<std::uint64_t> recovered_ms;   // last down -> up (slow start origin)
  std::optional<std::uint64_t> last_check_ms;
  std::string last_reason;
  OnFailure on_failure = OnFailure::remove;
  std::uint32_t slow_start_ms = 0;
  bool suspended = false;  // ha_suspend: this node does not hold the VIP
  std::optional<std::uint32_t> weight_set;  // misc_dynamic
  std::int64_t weight_add = 0;              // file checks
  // With several checks, each one's own state (its `checks` holds none).
  std::vector<TargetStatus> per_check;
};

// Times become ages in seconds relative to `now_ms` (the same Clock).
nlohmann::json to_json(const TargetStatus& status, std::uint64_t now_ms);

}  // namespace vsd::health
