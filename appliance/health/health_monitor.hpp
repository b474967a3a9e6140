// Health-checks real servers on the daemon's io_context: each target is
// probed every interval at its own spread offset, results go through its
// HealthState, and every up/down transition reaches the callback (and the
// target's notify command). Everything is asynchronous and the io_context
// is the only thing driving it: no thread, and no check waits for another.
//
//   HealthMonitor monitor(io, clock, [&](const std::string& id, bool up, const std::string& why) {
//     ... set the real server's weight (quiesce) or remove / re-add it ...
//   });
//   monitor.upsert({"tcp 192.0.2.10:80 -> 203.0.113.11:8000", "tcp 192.0.2.10:80",
//                   *Endpoint::parse("203.0.113.11:8000"), check});
//
// A new target starts up (down with alpha) without a callback: read its
// initial state with is_up(). Callbacks run from the io_context; they may
// upsert or remove targets, but must not destroy the monitor.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "appliance/asio.hpp"
#include "appliance/clock.hpp"
#include "appliance/health/check_config.hpp"
#include "appliance/health/notifier.hpp"
#include "appliance/health/probe.hpp"
#include "appliance/health/target_status.hpp"

namespace vsd::health {

class HealthState;

struct TargetSpec {
  std::string id;       // opaque key, e.g. "tcp 192.0.2.10:80 -> 203.0.113.11:8000"
  std::string service;  // for notify, e.g. "tcp 192.0.2.10:80"
  Endpoint real;        // the real server with its port (the service's when it has none)
  CheckConfig check;    // the first check: also on_failure, slow_start, notify
  std::vector<CheckConfig> more_checks = {};  // the others; every one must pass
  // ha_suspend: the checks pause while this node holds none of these
  // addresses (the service's VIPs); empty: never.
  std::vector<IpAddress> suspend_unless_held = {};

  std::vector<CheckConfig> checks() const;
  friend bool operator==(const TargetSpec&, const TargetSpec&) = default;
};

// What passing checks do to a real server's weight: `set` replaces the
// configured weight (misc_dynamic), `add` is added to it (file checks); the
// daemon clamps the result to 0..65535.
struct WeightEffect {
  std::optional<std::uint32_t> set;
  std::int64_t add = 0;
  bool none() const { return !set && add == 0; }
  friend bool operator==(const WeightEffect&, const WeightEffect&) = default;
};

class HealthMonitor {
 public:
  using TransitionCallback = std::function<void(const std::string& id, bool up, const std::string& reason)>;
  using WeightCallback = std::function<void(const std::string& id, const WeightEffect& weight, const std::string& reason)>;
  using Log = std::function<void(const std::string&)>;
  // Tests replace the real probes with scripted ones; the spec they get
  // has `check` set to the check being run.
  using ProbeFactory = std::function<std::shared_ptr<Probe>(const TargetSpec&, const Endpoint& destination)>;
  // This node's addresses (ha_suspend), nullopt when they cannot be read
  // (the last known stay).
  using AddressSource = std::function<std::optional<std::vector<IpAddress>>()>;

  HealthMonitor(boost::asio::io_context& io, const Clock& clock, TransitionCallback on_transition = {});
  ~HealthMonitor();  // stops every check; running commands are killed and reaped
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;

  void set_transition_callback(TransitionCallback callback);
  void set_weight_callback(WeightCallback callback);  // a target's WeightEffect changed
  void set_log(Log log);  // failed notify commands, checks paused or resumed (ha_suspend)
  void set_probe_factory(ProbeFactory factory);
  // ha_suspend: where this node's addresses come from, read every
  // `every` while a target needs them. Without a source nothing pauses.
  void set_address_source(AddressSource source,
                          std::chrono::milliseconds every = std::chrono::milliseconds(2000));

  // Adds a target, or replaces the one with the same id. An unchanged spec
  // is a no-op (a reload does not disturb it); a changed one keeps the
  // current up/down state and counters and restarts the schedule.
  void upsert(TargetSpec spec);
  bool remove(const std::string& id);
  void clear();

  std::size_t size() const { return targets_.size(); }
  bool contains(const std::string& id) const { return targets_.count(id) != 0; }
  std::optional<bool> is_up(const std::string& id) const;
  std::optional<WeightEffect> weight(const std::string& id) const;
  std::optional<TargetStatus> status(const std::string& id) const;
  std::vector<TargetStatus> status() const;  // ordered by id
  nlohmann::json status_json() const;        // an array of to_json(TargetStatus)

 private:
  struct Run;  // one check of a target
  struct Target;
  void build_runs(Target& t, const std::vector<HealthState>* keep);
  void schedule_first(const std::shared_ptr<Target>& t, Run& r, std::size_t index, bool with_warmup);
  void arm(const std::shared_ptr<Target>& t, Run& r);
  void run(const std::shared_ptr<Target>& t, Run& r);
  void completed(const std::shared_ptr<Target>& t, Run& r, const ProbeResult& result);
  void next(const std::shared_ptr<Target>& t, Run& r);
  void stop(Target& t);
  bool suspended(const Target& t) const;
  void poll_addresses();
  void arm_address_poll();
  TargetStatus status_of(const Target& t) const;

  boost::asio::io_context& io_;
  const Clock& clock_;
  TransitionCallback on_transition_;
  WeightCallback on_weight_;
  ProbeFactory factory_;
  AddressSource addresses_;
  std::chrono::milliseconds address_every_{2000};
  std::optional<std::vector<IpAddress>> held_;  // last read
  boost::asio::steady_timer address_timer_;
  bool address_poll_armed_ = false;
  ProbeContext probe_context_;
  Notifier notifier_;
  std::mt19937_64 random_;
  std::map<std::string, std::shared_ptr<Target>> targets_;
  Log log_;
};

}  // namespace vsd::health
