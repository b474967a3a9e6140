#include "appliance/daemon/health_policy.hpp"

#include <algorithm>

#include "appliance/health/slow_start.hpp"
#include "nfq/rtnl_socket.hpp"

namespace vsd {

std::optional<std::vector<IpAddress>> node_addresses_now() {
  std::vector<rtnl::LocalAddress> addrs;
  std::string error;
  if (!rtnl::local_addresses(&addrs, &error)) return std::nullopt;
  std::vector<IpAddress> out;
  for (const auto& a : addrs) out.push_back(a.addr);
  return out;
}

std::string health_target_id(const ServiceConfig& s, const RealServerConfig& r) {
  return service_label(s) + " -> " + real_label(s, r);
}

namespace {

// ha_suspend: the addresses whose presence on this node lets the checks run.
std::vector<IpAddress> suspend_unless_held(const ServiceConfig& s) {
  std::vector<IpAddress> out;
  if (!s.ha_suspend) return out;
  if (!s.is_fwmark()) out.push_back(s.address.addr);
  for (const auto& m : s.members)
    if (std::find(out.begin(), out.end(), m.addr) == out.end()) out.push_back(m.addr);
  return out;
}

// The configured weight with its checks' effect, within IPVS's 0..65535.
std::uint32_t weighed(std::uint32_t configured, const health::WeightEffect& e) {
  const std::int64_t w = static_cast<std::int64_t>(e.set.value_or(configured)) + e.add;
  return static_cast<std::uint32_t>(std::clamp<std::int64_t>(w, 0, 65535));
}

}  // namespace

std::vector<health::TargetSpec> HealthPolicy::targets(const Config& config) {
  std::vector<health::TargetSpec> out;
  for (const auto& s : config.services)
    for (const auto& r : s.reals) {
      if (!r.check) continue;
      Endpoint real{r.address.addr, r.address.port ? r.address.port : s.address.port};
      out.push_back({health_target_id(s, r), service_label(s), real, *r.check, r.more_checks, suspend_unless_held(s)});
    }
  return out;
}

void HealthPolicy::track(const std::string& id, bool up) { up_.emplace(id, up); }

std::vector<std::string> HealthPolicy::forget_others(const std::set<std::string>& keep) {
  std::vector<std::string> gone;
  for (auto it = up_.begin(); it != up_.end();) {
    if (keep.count(it->first)) {
      ++it;
      continue;
    }
    gone.push_back(it->first);
    recovered_ms_.erase(it->first);
    weights_.erase(it->first);
    it = up_.erase(it);
  }
  return gone;
}

std::string HealthPolicy::transition(const Config& config, const std::string& id, bool up,
                                     std::uint64_t now_ms) {
  up_[id] = up;
  if (up) recovered_ms_[id] = now_ms;
  for (const auto& s : config.services)
    for (const auto& r : s.reals)
      if (r.check && health_target_id(s, r) == id)
        return up ? "back in service"
                  : r.check->on_failure == health::OnFailure::quiesce ? "quiesced (weight 0)"
                                                                      : "removed from service";
  return "";
}

std::string HealthPolicy::weight(const Config& config, const std::string& id, const health::WeightEffect& effect) {
  if (effect.none())
    weights_.erase(id);
  else
    weights_[id] = effect;
  for (const auto& s : config.services)
    for (const auto& r : s.reals)
      if (r.check && health_target_id(s, r) == id)
        return "weight " + std::to_string(weighed(r.weight, effect)) + " (configured " + std::to_string(r.weight) + ")";
  return "";
}

Config HealthPolicy::effective(const Config& config, std::uint64_t now_ms) const {
  Config eff = config;
  for (auto& s : eff.services) {
    std::vector<RealServerConfig> kept;
    for (auto& r : s.reals) {
      if (r.check) {
        const std::string id = health_target_id(s, r);
        auto it = up_.find(id);
        // misc_dynamic / file checks: the weight they give while up.
        if (auto w = weights_.find(id); w != weights_.end() && (it == up_.end() || it->second))
          r.weight = weighed(r.weight, w->second);
        if (it != up_.end() && !it->second) {
          if (r.check->on_failure == health::OnFailure::remove) continue;
          r.weight = 0;
        } else if (r.check->slow_start_ms) {
          // Recovered lately: the weight ramps up (never 0 once up).
          if (auto rec = recovered_ms_.find(id); rec != recovered_ms_.end() && r.weight > 0)
            r.weight = std::max<std::uint32_t>(
                1, health::slow_start_weight(r.weight, r.check->slow_start_ms, rec->second, now_ms));
        }
      }
      kept.push_back(r);
    }
    s.reals = std::move(kept);
    if (s.sorry_server) {
      bool healthy = std::any_of(s.reals.begin(), s.reals.end(),
                                 [](const RealServerConfig& r) { return r.weight > 0; });
      if (!healthy) {
        s.reals.push_back(sorry_real(s));  // by its method
      }
    }
  }
  return eff;
}

bool HealthPolicy::ramping(const Config& config, std::uint64_t now_ms) const {
  for (const auto& s : config.services)
    for (const auto& r : s.reals)
      if (r.check && r.check->slow_start_ms)
        if (auto rec = recovered_ms_.find(health_target_id(s, r)); rec != recovered_ms_.end())
          if (health::slow_start_next_change_ms(r.weight, r.check->slow_start_ms, rec->second, now_ms))
            return true;
  return false;
}

std::uint64_t served_weight(const ServiceConfig& s) {
  std::uint64_t sum = 0;
  for (const auto& r : s.reals)
    if (!(s.sorry_server && r.address == *s.sorry_server)) sum += r.weight;
  return sum;
}

std::vector<QuorumEvent> HealthPolicy::quorum_changes(const Config& eff) {
  std::vector<QuorumEvent> events;
  for (const auto& s : eff.services) {
    if (!s.quorum) continue;
    const std::uint64_t sum = served_weight(s);
    const std::string label = service_label(s);
    auto it = quorum_.find(label);
    std::optional<bool> changed;
    if (it == quorum_.end()) {
      it = quorum_.emplace(label, health::QuorumTracker(s.quorum, s.hysteresis, sum)).first;
      if (!it->second.up()) changed = false;  // starts without it: say so once
    } else {
      changed = it->second.update(sum);
    }
    if (!changed) continue;
    events.push_back({label, *changed, sum, s.quorum, s.hysteresis,
                      *changed ? s.quorum_up : s.quorum_down});
  }
  return events;
}

std::optional<bool> HealthPolicy::quorum_up(const std::string& label) const {
  auto it = quorum_.find(label);
  if (it == quorum_.end()) return std::nullopt;
  return it->second.up();
}

std::vector<SorryEvent> HealthPolicy::sorry_changes(const Config& eff) {
  std::vector<SorryEvent> events;
  for (const auto& s : eff.services) {
    if (!s.sorry_server) continue;
    const bool serving = !s.reals.empty() && s.reals.back().address == *s.sorry_server;
    bool& was = sorry_active_[service_label(s)];
    if (serving != was) events.push_back({service_label(s), *s.sorry_server, serving});
    was = serving;
  }
  return events;
}

control::Health HealthPolicy::health(const ServiceConfig& s, const RealServerConfig& r) const {
  if (!r.check) return control::Health::unchecked;
  auto it = up_.find(health_target_id(s, r));
  return it == up_.end() || it->second ? control::Health::up : control::Health::down;
}

}  // namespace vsd
