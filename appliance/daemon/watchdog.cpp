#include "appliance/daemon/watchdog.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "appliance/daemon/data_plane.hpp"
#include "appliance/daemon/sd_notify.hpp"

namespace vsd {

std::vector<std::size_t> Liveness::observe(const std::vector<std::uint64_t>& counters,
                                           Clock::time_point now) {
  if (seen_.size() != counters.size()) seen_.resize(counters.size(), Seen{0, now});
  std::vector<std::size_t> stale;
  for (std::size_t i = 0; i < counters.size(); ++i) {
    if (counters[i] != seen_[i].value || seen_[i].since == Clock::time_point{}) {
      seen_[i] = {counters[i], now};
      continue;
    }
    if (now - seen_[i].since > stale_after_) stale.push_back(i);
  }
  return stale;
}

std::chrono::milliseconds Liveness::quiet_for(std::size_t i, Clock::time_point now) const {
  if (i >= seen_.size()) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(now - seen_[i].since);
}

Watchdog::Watchdog(boost::asio::io_context& io, std::chrono::microseconds interval, Source source,
                   Namer namer, std::chrono::milliseconds stale_after)
    : io_(io),
      interval_(interval),
      // Half the interval at most (sd_watchdog_enabled(3)), once a second
      // at least: the stall shows in the log within a second.
      period_(std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(interval / 2),
                         std::chrono::milliseconds(1), std::chrono::milliseconds(1000))),
      source_(std::move(source)),
      namer_(std::move(namer)),
      liveness_(stale_after) {
  if (interval_.count() == 0) period_ = std::chrono::milliseconds(1000);
}

void Watchdog::start() {
  if (interval_.count())
    spdlog::info("watchdog: systemd expects a sign of life every {} ms; sent while every data "
                 "thread makes progress",
                 std::chrono::duration_cast<std::chrono::milliseconds>(interval_).count());
  tick();
}

void Watchdog::arm() {
  timer_.expires_after(period_);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) tick();
  });
}

void Watchdog::tick() {
  const auto now = Liveness::Clock::now();
  counters_.clear();
  if (source_) source_(counters_);
  auto stale = liveness_.observe(counters_, now);
  for (std::size_t i : stale)
    if (std::find(stale_.begin(), stale_.end(), i) == stale_.end()) {
      const std::string what = "data thread of " + namer_(i) + " made no progress for " +
                               std::to_string(liveness_.quiet_for(i, now).count() / 1000) + " s";
      if (interval_.count())
        spdlog::error("watchdog: {}; not telling systemd vsd is alive: it restarts vsd after "
                      "WatchdogSec={} s unless the thread recovers",
                      what, std::chrono::duration_cast<std::chrono::seconds>(interval_).count());
      else
        spdlog::error("watchdog: {}; packets on that queue wait (no systemd watchdog to restart vsd)",
                      what);
      sd::status("stalled: " + what);
    }
  for (std::size_t i : stale_)
    if (std::find(stale.begin(), stale.end(), i) == stale.end()) {
      spdlog::warn("watchdog: data thread of {} made progress again", namer_(i));
      if (stale.empty()) sd::status("running; a stalled data thread recovered at " + sd::clock_time());
    }
  stale_ = std::move(stale);
  if (stale_.empty() && interval_.count()) {
    sd::watchdog_ping();
    ++pings_;
  }
  arm();
}

Watchdog::Source heartbeats_of(const DataPlane& plane) {
  return [&plane](std::vector<std::uint64_t>& out) {
    for (std::size_t i = 0; i < plane.queues().size(); ++i) out.push_back(plane.heartbeat(i));
  };
}

Watchdog::Namer queue_names_of(const DataPlane& plane) {
  return [&plane](std::size_t i) {
    return i < plane.queues().size() ? "NFQUEUE " + std::to_string(plane.queues()[i]->queue_num())
                                     : "thread " + std::to_string(i);
  };
}

}  // namespace vsd
