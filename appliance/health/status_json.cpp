#include "appliance/health/target_status.hpp"

namespace vsd::health {

nlohmann::json to_json(const TargetStatus& s, std::uint64_t now_ms) {
  auto age = [now_ms](std::uint64_t t) { return now_ms >= t ? static_cast<double>(now_ms - t) / 1000.0 : 0.0; };
  nlohmann::json j = {
      {"id", s.id},
      {"service", s.service},
      {"real", s.real.to_string()},
      {"destination", s.destination.to_string()},
      {"type", to_string(s.type)},
      {"state", s.up ? "up" : "down"},
      {"has_run", s.has_run},
      {"running", s.running},
      {"consecutive_passes", s.consecutive_passes},
      {"consecutive_failures", s.consecutive_failures},
      {"checks", s.checks},
      {"failed_checks", s.failed_checks},
      {"seconds_in_state", age(s.since_ms)},
      {"last_reason", s.last_reason},
      {"on_failure", to_string(s.on_failure)},
  };
  j["last_check_seconds_ago"] = s.last_check_ms ? nlohmann::json(age(*s.last_check_ms)) : nlohmann::json(nullptr);
  if (s.suspended) j["suspended"] = true;
  if (s.weight_set) j["weight_set"] = *s.weight_set;
  if (s.weight_add) j["weight_add"] = s.weight_add;
  if (!s.per_check.empty()) {
    j["checks_detail"] = nlohmann::json::array();
    for (const auto& c : s.per_check) {
      auto cj = to_json(c, now_ms);
      for (const char* k : {"id", "service", "real", "on_failure"}) cj.erase(k);
      j["checks_detail"].push_back(std::move(cj));
    }
  }
  if (s.slow_start_ms && s.recovered_ms && now_ms >= *s.recovered_ms &&
      now_ms - *s.recovered_ms < s.slow_start_ms)
    j["slow_start_seconds_left"] = static_cast<double>(s.slow_start_ms - (now_ms - *s.recovered_ms)) / 1000.0;
  return j;
}

}  // namespace vsd::health
