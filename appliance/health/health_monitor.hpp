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

struct TargetSpec {
  std::string id;       // opaque key, e.g. "tcp 192.0.2.10:80 -> 203.0.113.11:8000"
  std::string service;  // for notify, e.g. "tcp 192.0.2.10:80"
  Endpoint real;        // the real server with its port (the service's when it has none)
  CheckConfig check;

  friend bool operator==(const TargetSpec&, const TargetSpec&) = default;
};

class HealthMonitor {
 public:
  using TransitionCallback = std::function<void(const std::string& id, bool up, const std::string& reason)>;
  using Log = std::function<void(const std::string&)>;
  // Tests replace the real probes with scripted ones.
  using ProbeFactory = std::function<std::shared_ptr<Probe>(const TargetSpec&, const Endpoint& destination)>;

  HealthMonitor(boost::asio::io_context& io, const Clock& clock, TransitionCallback on_transition = {});
  ~HealthMonitor();  // stops every check; running commands are killed and reaped
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;

  void set_transition_callback(TransitionCallback callback);
  void set_log(Log log);  // failed notify commands
  void set_probe_factory(ProbeFactory factory);

  // Adds a target, or replaces the one with the same id. An unchanged spec
  // is a no-op (a reload does not disturb it); a changed one keeps the
  // current up/down state and counters and restarts the schedule.
  void upsert(TargetSpec spec);
  bool remove(const std::string& id);
  void clear();

  std::size_t size() const { return targets_.size(); }
  bool contains(const std::string& id) const { return targets_.count(id) != 0; }
  std::optional<bool> is_up(const std::string& id) const;
  std::optional<TargetStatus> status(const std::string& id) const;
  std::vector<TargetStatus> status() const;  // ordered by id
  nlohmann::json status_json() const;        // an array of to_json(TargetStatus)

 private:
  struct Target;
  void schedule_first(const std::shared_ptr<Target>& t, bool with_warmup);
  void arm(const std::shared_ptr<Target>& t);
  void run(const std::shared_ptr<Target>& t);
  void completed(const std::shared_ptr<Target>& t, const ProbeResult& result);
  void stop(Target& t);
  TargetStatus status_of(const Target& t) const;

  boost::asio::io_context& io_;
  const Clock& clock_;
  TransitionCallback on_transition_;
  ProbeFactory factory_;
  ProbeContext probe_context_;
  Notifier notifier_;
  std::mt19937_64 random_;
  std::map<std::string, std::shared_ptr<Target>> targets_;
};

}  // namespace vsd::health
