#include "appliance/health/health_monitor.hpp"

#include <algorithm>

#include "appliance/health/health_state.hpp"
#include "appliance/health/probes.hpp"
#include "appliance/health/schedule.hpp"

namespace vsd::health {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

std::vector<CheckConfig> TargetSpec::checks() const {
  std::vector<CheckConfig> out{check};
  out.insert(out.end(), more_checks.begin(), more_checks.end());
  return out;
}

// One check of a target, on its own schedule.
struct HealthMonitor::Run {
  Run(boost::asio::io_context& io, const Clock& clock, CheckConfig c, const HealthState* keep)
      : config(std::move(c)),
        state(keep ? *keep : HealthState(clock, config.rise, config.fall, config.alpha)),
        timer(io) {
    if (keep) state.reconfigure(config.rise, config.fall);
  }

  CheckConfig config;
  HealthState state;
  boost::asio::steady_timer timer;
  std::shared_ptr<Probe> probe;  // the try in flight
  steady_clock::time_point due;  // of the current (or next) check: the schedule's grid
  std::uint32_t tries = 0;       // failed tries of the current check (retry)
  WeightEffect weight;           // of its last passing check
};

struct HealthMonitor::Target {
  explicit Target(TargetSpec s) : spec(std::move(s)) {}

  TargetSpec spec;
  std::vector<std::unique_ptr<Run>> runs;
  bool up = true;
  WeightEffect weight;
  bool suspended = false;
  // Handlers of a removed or reconfigured target see a stale generation.
  bool active = true;
  std::uint64_t generation = 0;
};

HealthMonitor::HealthMonitor(boost::asio::io_context& io, const Clock& clock, TransitionCallback on_transition)
    : io_(io),
      clock_(clock),
      on_transition_(std::move(on_transition)),
      address_timer_(io),
      probe_context_(io),
      notifier_(io),
      random_(std::random_device{}()) {}

HealthMonitor::~HealthMonitor() { clear(); }

void HealthMonitor::set_transition_callback(TransitionCallback callback) { on_transition_ = std::move(callback); }
void HealthMonitor::set_weight_callback(WeightCallback callback) { on_weight_ = std::move(callback); }
void HealthMonitor::set_log(Log log) {
  log_ = log;
  notifier_.set_log(std::move(log));
}
void HealthMonitor::set_probe_factory(ProbeFactory factory) { factory_ = std::move(factory); }

void HealthMonitor::set_address_source(AddressSource source, std::chrono::milliseconds every) {
  addresses_ = std::move(source);
  address_every_ = every;
  held_.reset();
  poll_addresses();
}

void HealthMonitor::build_runs(Target& t, const std::vector<HealthState>* keep) {
  t.runs.clear();
  const auto checks = t.spec.checks();
  for (std::size_t i = 0; i < checks.size(); ++i) {
    t.runs.push_back(std::make_unique<Run>(io_, clock_, checks[i], keep && i < keep->size() ? &(*keep)[i] : nullptr));
  }
  t.up = std::all_of(t.runs.begin(), t.runs.end(), [](const auto& r) { return r->state.up(); });
}

void HealthMonitor::upsert(TargetSpec spec) {
  // ha_suspend: know this node's addresses before the first check.
  if (!spec.suspend_unless_held.empty() && addresses_ && !held_)
    if (auto now = addresses_()) held_ = std::move(*now);
  auto it = targets_.find(spec.id);
  if (it == targets_.end()) {
    auto t = std::make_shared<Target>(std::move(spec));
    build_runs(*t, nullptr);
    t->suspended = suspended(*t);
    targets_.emplace(t->spec.id, t);
    for (std::size_t i = 0; i < t->runs.size(); ++i) schedule_first(t, *t->runs[i], i, true);
    arm_address_poll();
    return;
  }
  const auto& t = it->second;
  if (t->spec == spec) return;
  stop(*t);
  t->active = true;
  std::vector<HealthState> states;
  for (const auto& r : t->runs) states.push_back(r->state);
  t->spec = std::move(spec);
  build_runs(*t, &states);
  t->suspended = suspended(*t);
  for (std::size_t i = 0; i < t->runs.size(); ++i) schedule_first(t, *t->runs[i], i, false);
  arm_address_poll();
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
  address_timer_.cancel();
  address_poll_armed_ = false;
}

void HealthMonitor::stop(Target& t) {
  t.active = false;
  ++t.generation;
  for (auto& r : t.runs) {
    r->timer.cancel();
    if (r->probe) r->probe->abandon();
    r->probe.reset();
  }
}

// ---- ha_suspend

bool HealthMonitor::suspended(const Target& t) const {
  if (t.spec.suspend_unless_held.empty() || !addresses_ || !held_) return false;
  for (const auto& a : t.spec.suspend_unless_held)
    if (std::find(held_->begin(), held_->end(), a) != held_->end()) return false;
  return true;
}

void HealthMonitor::arm_address_poll() {
  if (!addresses_ || address_poll_armed_) return;
  bool wanted = false;
  for (const auto& [id, t] : targets_) wanted |= !t->spec.suspend_unless_held.empty();
  if (!wanted) return;
  address_poll_armed_ = true;
  address_timer_.expires_after(address_every_);
  address_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled (clear(), the destructor): `this` may be gone
    address_poll_armed_ = false;
    poll_addresses();
  });
}

void HealthMonitor::poll_addresses() {
  if (!addresses_) return;
  bool wanted = false;
  for (const auto& [id, t] : targets_) wanted |= !t->spec.suspend_unless_held.empty();
  if (!wanted) return;
  if (auto now = addresses_()) held_ = std::move(*now);
  for (auto& [id, t] : targets_) {
    const bool was = t->suspended;
    t->suspended = suspended(*t);
    if (was == t->suspended) continue;
    if (log_)
      log_(t->spec.id + (t->suspended ? ": checks paused (ha_suspend): this node holds none of the service's VIPs"
                                      : ": checks resumed (ha_suspend): this node holds the service's VIP"));
    if (!t->suspended)  // check at once rather than at the next slot
      for (auto& r : t->runs)
        if (!r->probe) {
          r->due = steady_clock::now();
          arm(t, *r);
        }
  }
  arm_address_poll();
}

// ---- the schedule

void HealthMonitor::schedule_first(const std::shared_ptr<Target>& t, Run& r, std::size_t index, bool with_warmup) {
  const auto& c = r.config;
  std::uint64_t delay = spread_offset_ms(index ? t->spec.id + "#" + std::to_string(index) : t->spec.id, c.interval_ms);
  if (with_warmup && c.warmup_ms) delay += warmup_delay_ms(c.warmup_ms, random_());
  r.due = steady_clock::now() + milliseconds(delay);
  r.tries = 0;
  arm(t, r);
}

void HealthMonitor::arm(const std::shared_ptr<Target>& t, Run& r) {
  r.timer.expires_at(r.due);
  r.timer.async_wait([this, t, run = &r, generation = t->generation](const boost::system::error_code& ec) {
    if (ec || !t->active || t->generation != generation) return;
    this->run(t, *run);
  });
}

void HealthMonitor::run(const std::shared_ptr<Target>& t, Run& r) {
  if (t->suspended) {  // ha_suspend: skip this slot, keep the state
    r.tries = 0;
    return next(t, r);
  }
  const Endpoint destination = probe_destination(t->spec.real, r.config.connect_to);
  if (factory_) {
    TargetSpec view = t->spec;
    view.check = r.config;
    r.probe = factory_(view, destination);
  } else {
    r.probe = make_probe(probe_context_, r.config, destination);
  }
  if (!r.probe) r.probe = make_failed_probe(io_, "no probe for this check");
  std::weak_ptr<Target> weak = t;
  r.probe->start(milliseconds(static_cast<std::uint64_t>(r.config.timeout_ms) * requests_per_check(r.config)),
                 [this, weak, run = &r, generation = t->generation](ProbeResult result) {
                   auto t = weak.lock();
                   if (!t || !t->active || t->generation != generation) return;
                   completed(t, *run, result);
                 });
}

void HealthMonitor::completed(const std::shared_ptr<Target>& t, Run& r, const ProbeResult& result) {
  r.probe.reset();
  // keepalived's retry: a failed try is tried again delay_before_retry
  // later, up to `retry` times, before the check counts as failed.
  if (!result.ok && r.tries < r.config.retry) {
    ++r.tries;
    r.timer.expires_after(milliseconds(r.config.retry_delay_ms));
    r.timer.async_wait([this, t, run = &r, generation = t->generation](const boost::system::error_code& ec) {
      if (ec || !t->active || t->generation != generation) return;
      this->run(t, *run);
    });
    return;
  }
  const std::uint32_t tries = r.tries + 1;
  r.tries = 0;
  const std::uint64_t generation = t->generation;
  std::string reason = result.reason;
  if (tries > 1) reason += result.ok ? " (try " + std::to_string(tries) + ")" : " (" + std::to_string(tries) + " tries)";
  const auto transition = r.state.record(result.ok, reason);
  if (result.ok) r.weight = WeightEffect{result.set_weight, result.add_weight.value_or(0)};

  // The real server: up while every check is up; its weight from the
  // checks that passed last.
  const bool up = std::all_of(t->runs.begin(), t->runs.end(), [](const auto& x) { return x->state.up(); });
  WeightEffect weight;
  for (const auto& x : t->runs) {
    if (!weight.set) weight.set = x->weight.set;
    weight.add += x->weight.add;
  }
  const std::string prefix = t->runs.size() > 1 ? std::string(to_string(r.config.type)) + " check: " : "";
  if (up != t->up && transition) {
    t->up = up;
    const std::string why = prefix + transition->reason;
    const CheckConfig& first = t->runs.front()->config;
    if (!first.notify.empty())
      notifier_.notify({first.notify, t->spec.id, t->spec.service, t->spec.real.to_string(), up, why,
                        first.notify_user});
    if (on_transition_) on_transition_(t->spec.id, up, why);
    // The callback may have removed or replaced this target.
    if (!t->active || t->generation != generation) return;
  }
  if (weight != t->weight) {
    t->weight = weight;
    if (on_weight_) on_weight_(t->spec.id, weight, prefix + result.reason);
    if (!t->active || t->generation != generation) return;
  }
  next(t, r);
}

void HealthMonitor::next(const std::shared_ptr<Target>& t, Run& r) {
  auto ms_since_epoch = [](steady_clock::time_point p) {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<milliseconds>(p.time_since_epoch()).count());
  };
  const std::uint64_t next = next_due_ms(ms_since_epoch(r.due), r.config.interval_ms,
                                         ms_since_epoch(steady_clock::now()));
  r.due = steady_clock::time_point(milliseconds(next));
  arm(t, r);
}

// ---- status

std::optional<bool> HealthMonitor::is_up(const std::string& id) const {
  auto it = targets_.find(id);
  if (it == targets_.end()) return std::nullopt;
  return it->second->up;
}

std::optional<WeightEffect> HealthMonitor::weight(const std::string& id) const {
  auto it = targets_.find(id);
  if (it == targets_.end()) return std::nullopt;
  return it->second->weight;
}

namespace {

TargetStatus run_status(const TargetSpec&, const CheckConfig& c, const HealthState& s, bool running) {
  TargetStatus st;
  st.type = c.type;
  st.up = s.up();
  st.has_run = s.has_run();
  st.running = running;
  st.consecutive_passes = s.consecutive_passes();
  st.consecutive_failures = s.consecutive_failures();
  st.checks = s.checks();
  st.failed_checks = s.failed_checks();
  st.since_ms = s.since_ms();
  st.recovered_ms = s.recovered_ms();
  st.last_check_ms = s.last_check_ms();
  st.last_reason = s.last_reason();
  return st;
}

}  // namespace

TargetStatus HealthMonitor::status_of(const Target& t) const {
  // One check: its state is the server's. Several: the first failing one
  // speaks for the server, each is listed too.
  const Run* lead = t.runs.front().get();
  for (const auto& r : t.runs)
    if (!r->state.up()) {
      lead = r.get();
      break;
    }
  TargetStatus s = run_status(t.spec, lead->config, lead->state, lead->probe != nullptr);
  s.id = t.spec.id;
  s.service = t.spec.service;
  s.real = t.spec.real;
  s.destination = probe_destination(t.spec.real, lead->config.connect_to);
  s.up = t.up;
  s.type = t.runs.front()->config.type;
  s.on_failure = t.runs.front()->config.on_failure;
  s.slow_start_ms = t.runs.front()->config.slow_start_ms;
  s.suspended = t.suspended;
  s.weight_set = t.weight.set;
  s.weight_add = t.weight.add;
  if (t.runs.size() > 1) {
    s.has_run = s.running = false;
    s.checks = s.failed_checks = 0;
    std::optional<std::uint64_t> since;
    for (const auto& r : t.runs) {
      auto one = run_status(t.spec, r->config, r->state, r->probe != nullptr);
      one.destination = probe_destination(t.spec.real, r->config.connect_to);
      s.has_run |= one.has_run;
      s.running |= one.running;
      s.checks += one.checks;
      s.failed_checks += one.failed_checks;
      s.per_check.push_back(std::move(one));
    }
  }
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
