// The data path's liveness, and systemd's watchdog fed from it. Each data
// thread (one per NFQUEUE, data_plane.hpp) bumps a heartbeat counter after
// every wakeup: a batch of packets, or its 1 s timer when idle. The control
// thread looks at the counters every second; a thread whose counter has not
// moved for `stale_after` (3 s: three missed idle ticks) is wedged, and
// then WATCHDOG=1 is no longer sent: after WatchdogSec= systemd restarts
// vsd (Restart=on-failure). A wedged control thread sends nothing either.
// The stall and the recovery are logged, also without systemd.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "appliance/asio.hpp"

namespace vsd {

class DataPlane;

// Pure: which of the counters has not moved for longer than stale_after.
class Liveness {
 public:
  using Clock = std::chrono::steady_clock;
  explicit Liveness(std::chrono::milliseconds stale_after) : stale_after_(stale_after) {}
  // counters[i]: thread i's heartbeat now. Returns the stale threads'
  // indexes. A thread seen for the first time counts as alive now.
  std::vector<std::size_t> observe(const std::vector<std::uint64_t>& counters, Clock::time_point now);
  // How long thread i has shown no progress (as of the last observe).
  std::chrono::milliseconds quiet_for(std::size_t i, Clock::time_point now) const;

 private:
  struct Seen {
    std::uint64_t value = 0;
    Clock::time_point since;
  };
  std::chrono::milliseconds stale_after_;
  std::vector<Seen> seen_;
};

class Watchdog {
 public:
  // Fills the heartbeat counters of the data threads now (none: the
  // control thread alone is watched).
  using Source = std::function<void(std::vector<std::uint64_t>&)>;
  // Thread i's name for the log: "NFQUEUE 3".
  using Namer = std::function<std::string(std::size_t)>;

  // interval: systemd's WatchdogSec (0: none; stalls are still logged).
  Watchdog(boost::asio::io_context& io, std::chrono::microseconds interval, Source source,
           Namer namer, std::chrono::milliseconds stale_after = std::chrono::seconds(3));
  void start();
  void stop() { timer_.cancel(); }
  bool healthy() const { return stale_.empty(); }
  std::uint64_t pings() const { return pings_; }

 private:
  void arm();
  void tick();

  boost::asio::io_context& io_;
  std::chrono::microseconds interval_;
  std::chrono::milliseconds period_;
  Source source_;
  Namer namer_;
  Liveness liveness_;
  boost::asio::steady_timer timer_{io_};
  std::vector<std::uint64_t> counters_;
  std::vector<std::size_t> stale_;
  std::uint64_t pings_ = 0;
};

// The source and names for a director's data plane.
Watchdog::Source heartbeats_of(const DataPlane& plane);
Watchdog::Namer queue_names_of(const DataPlane& plane);

}  // namespace vsd
