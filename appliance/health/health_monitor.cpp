#include "appliance/health/health_monitor.hpp"

#include "appliance/health/health_state.hpp"
#include "appliance/health/probes.hpp"
#include "appliance/health/schedule.hpp"

namespace vsd::health {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

struct HealthMonitor::Target {
  Target(boost::asio::io_context& io, const Clock& clock, TargetSpec s)
      : spec(std::move(s)), state(clock, spec.check.rise, spec.check.fall, spec.check.alpha), timer(io) {}

  TargetSpec spec;
  HealthState state;
  boost::asio::steady_timer timer;
  std::shared_ptr<Probe> probe;  // the check in flight
  steady_clock::time_point due;  // of the current (or next) check: the schedule's grid
  // Handlers of a removed or reconfigured target see a stale generation.
  bool active = true;
  std::uint64_t generation = 0;
};

HealthMonitor::HealthMonitor(boost::asio::io_context& io, const Clock& clock, TransitionCallback on_transition)
    : io_(io),
      clock_(clock),
      on_transition_(std::move(on_transition)),
      probe_context_(io),
      notifier_(io),
      random_(std::random_device{}()) {}

HealthMonitor::~HealthMonitor() { clear(); }

void HealthMonitor::set_transition_callback(TransitionCallback callback) { on_transition_ = std::move(callback); }
void HealthMonitor::set_log(Log log) { notifier_.set_log(std::move(log)); }
void HealthMonitor::set_probe_factory(ProbeFactory factory) { factory_ = std::move(factory); }

void HealthMonitor::upsert(TargetSpec spec) {
  auto it = targets_.find(spec.id);
  if (it == targets_.end()) {
    auto t = std::make_shared<Target>(io_, clock_, std::move(spec));
    targets_.emplace(t->spec.id, t);
    schedule_first(t, true);
    return;
  }
  const auto& t = it->second;
  if (t->spec == spec) return;
  stop(*t);
  t->active = true;
  t->spec = std::move(spec);
  t->state.reconfigure(t->spec.check.rise, t->spec.check.fall);
  schedule_first(t, false);
}

bool HealthMonitor::remove(const std::string& id) {
  auto it = targets_.find(id);
  if (it == targets_.end()) return false;
  stop(*it->second);
  targets_.erase(it);
  return true;
}

void HealthMonitor::clear() {
  for (auto& [id, t] : targets_) stop(*t);
  targets_.clear();
}

void HealthMonitor::stop(Target& t) {
  t.active = false;
  ++t.generation;
  t.timer.cancel();
  if (t.probe) t.probe->abandon();
  t.probe.reset();
}

void HealthMonitor::schedule_first(const std::shared_ptr<Target>& t, bool with_warmup) {
  const auto& c = t->spec.check;
  std::uint64_t delay = spread_offset_ms(t->spec.id, c.interval_ms);
  if (with_warmup && c.warmup_ms) delay += warmup_delay_ms(c.warmup_ms, random_());
  t->due = steady_clock::now() + milliseconds(delay);
  arm(t);
}

void HealthMonitor::arm(const std::shared_ptr<Target>& t) {
  t->timer.expires_at(t->due);
  t->timer.async_wait([this, t, generation = t->generation](const boost::system::error_code& ec) {
    if (ec || !t->active || t->generation != generation) return;
    run(t);
  });
}

void HealthMonitor::run(const std::shared_ptr<Target>& t) {
  const Endpoint destination = probe_destination(t->spec.real, t->spec.check.connect_to);
  t->probe = factory_ ? factory_(t->spec, destination) : make_probe(probe_context_, t->spec.check, destination);
  if (!t->probe) t->probe = make_failed_probe(io_, "no probe for this check");
  std::weak_ptr<Target> weak = t;
  t->probe->start(milliseconds(t->spec.check.timeout_ms),
                  [this, weak, generation = t->generation](ProbeResult result) {
                    auto t = weak.lock();
                    if (!t || !t->active || t->generation != generation) return;
                    completed(t, result);
                  });
}

void HealthMonitor::completed(const std::shared_ptr<Target>& t, const ProbeResult& result) {
  t->probe.reset();
  const std::uint64_t generation = t->generation;
  if (auto transition = t->state.record(result.ok, result.reason)) {
    if (!t->spec.check.notify.empty())
      notifier_.notify({t->spec.check.notify, t->spec.id, t->spec.service, t->spec.real.to_string(),
                        transition->up, transition->reason});
    if (on_transition_) on_transition_(t->spec.id, transition->up, transition->reason);
    // The callback may have removed or replaced this target.
    if (!t->active || t->generation != generation) return;
  }
  auto ms_since_epoch = [](steady_clock::time_point p) {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<milliseconds>(p.time_since_epoch()).count());
  };
  const std::uint64_t next = next_due_ms(ms_since_epoch(t->due), t->spec.check.interval_ms,
                                         ms_since_epoch(steady_clock::now()));
  t->due = steady_clock::time_point(milliseconds(next));
  arm(t);
}

std::optional<bool> HealthMonitor::is_up(const std::string& id) const {
  auto it = targets_.find(id);
  if (it == targets_.end()) return std::nullopt;
  return it->second->state.up();
}

TargetStatus HealthMonitor::status_of(const Target& t) const {
  TargetStatus s;
  s.id = t.spec.id;
  s.service = t.spec.service;
  s.real = t.spec.real;
  s.destination = probe_destination(t.spec.real, t.spec.check.connect_to);
  s.type = t.spec.check.type;
  s.up = t.state.up();
  s.has_run = t.state.has_run();
  s.running = t.probe != nullptr;
  s.consecutive_passes = t.state.consecutive_passes();
  s.consecutive_failures = t.state.consecutive_failures();
  s.checks = t.state.checks();
  s.failed_checks = t.state.failed_checks();
  s.since_ms = t.state.since_ms();
  s.recovered_ms = t.state.recovered_ms();
  s.last_check_ms = t.state.last_check_ms();
  s.last_reason = t.state.last_reason();
  s.on_failure = t.spec.check.on_failure;
  s.slow_start_ms = t.spec.check.slow_start_ms;
  return s;
}

std::optional<TargetStatus> HealthMonitor::status(const std::string& id) const {
  auto it = targets_.find(id);
  if (it == targets_.end()) return std::nullopt;
  return status_of(*it->second);
}

std::vector<TargetStatus> HealthMonitor::status() const {
  std::vector<TargetStatus> out;
  for (const auto& [id, t] : targets_) out.push_back(status_of(*t));
  return out;
}

nlohmann::json HealthMonitor::status_json() const {
  nlohmann::json out = nlohmann::json::array();
  const std::uint64_t now = clock_.now_ms();
  for (const auto& [id, t] : targets_) out.push_back(to_json(status_of(*t), now));
  return out;
}

}  // namespace vsd::health
