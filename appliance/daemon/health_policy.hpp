// What the health checks do to the services (keepalived's checker-to-LVS
// policy, ipwrapper.c): a real server that is down is quiesced (weight 0)
// or removed, one that came back ramps its weight up (slow start), the
// sorry server serves while no real server is healthy, and a service's
// quorum is kept with hysteresis. Pure: the checks themselves run in
// health::HealthMonitor, time is given, and what changed comes back as
// events for the daemon to log and act on.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "appliance/config/config.hpp"
#include "appliance/control/status.hpp"
#include "appliance/health/health_monitor.hpp"
#include "appliance/health/quorum.hpp"

namespace vsd {

// ha_suspend's look at this node's addresses (rtnetlink), for
// HealthMonitor::set_address_source: the one function here that asks the
// kernel.
std::optional<std::vector<IpAddress>> node_addresses_now();

// "TCP 192.0.2.10:80 -> 203.0.113.11:8000": a checked real server's id.
std::string health_target_id(const ServiceConfig& s, const RealServerConfig& r);

struct QuorumEvent {
  std::string service;  // service_label
  bool gained = false;
  std::uint64_t healthy_weight = 0;
  std::uint32_t quorum = 0, hysteresis = 0;
  std::string command;  // quorum_up / quorum_down to run, may be empty
};

struct SorryEvent {
  std::string service;
  Endpoint sorry_server;
  bool serving = false;  // true: no real server healthy, the sorry server takes new connections
};

// The weight a service's real servers serve with, the sorry server not
// counting: what keepalived's quorum is judged on (on an effective config).
std::uint64_t served_weight(const ServiceConfig& effective);

class HealthPolicy {
 public:
  // The checks the configuration asks for, one per checked real server.
  static std::vector<health::TargetSpec> targets(const Config& config);

  // Starts following a checked real server in state `up` (a new one keeps
  // state it already has); forget() drops every one not in `keep` and
  // returns their ids.
  void track(const std::string& id, bool up);
  std::vector<std::string> forget_others(const std::set<std::string>& keep);

  // A check's transition at `now_ms`; returns what it does to the data
  // path, for the log ("quiesced (weight 0)", "back in service", ...).
  std::string transition(const Config& config, const std::string& id, bool up, std::uint64_t now_ms);
  // What its checks do to a real server's weight now (misc_dynamic, file
  // checks); returns the weight it gets, for the log.
  std::string weight(const Config& config, const std::string& id, const health::WeightEffect& effect);

  // What the data path serves: the configuration with health applied (a
  // failed real server quiesced or removed, a recovering one at its slow
  // start weight, the sorry server while none is healthy).
  Config effective(const Config& config, std::uint64_t now_ms) const;
  // True while some weight is still ramping: republish soon.
  bool ramping(const Config& config, std::uint64_t now_ms) const;

  // Quorum and sorry-server state changes since the last call, judged on
  // an effective configuration.
  std::vector<QuorumEvent> quorum_changes(const Config& effective);
  // A service's quorum as quorum_changes last judged it; nullopt when the
  // service sets none (or was not judged yet).
  std::optional<bool> quorum_up(const std::string& service_label) const;
  std::vector<SorryEvent> sorry_changes(const Config& effective);

  // The check state of one configured real server.
  control::Health health(const ServiceConfig& s, const RealServerConfig& r) const;

 private:
  std::map<std::string, bool> up_;                         // target id -> up
  std::map<std::string, std::uint64_t> recovered_ms_;      // target id -> last down -> up
  std::map<std::string, health::WeightEffect> weights_;    // target id -> its checks' weight effect
  std::map<std::string, bool> sorry_active_;               // service label -> sorry serving
  std::map<std::string, health::QuorumTracker> quorum_;    // service label -> quorum state
};

}  // namespace vsd
