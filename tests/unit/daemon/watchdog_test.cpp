// The data path's liveness as the watchdog judges it: a thread whose
// heartbeat counter stops moving for longer than the limit is stale, one
// that moves again is alive at once.
#include "appliance/daemon/watchdog.hpp"

#include <gtest/gtest.h>

namespace vsd {
namespace {

using namespace std::chrono_literals;
using Clock = Liveness::Clock;

TEST(Liveness, MovingCountersAreAlive) {
  Liveness l(3s);
  const auto t0 = Clock::now();
  EXPECT_TRUE(l.observe({0, 5}, t0).empty());
  EXPECT_TRUE(l.observe({1, 6}, t0 + 1s).empty());
  EXPECT_TRUE(l.observe({2, 7}, t0 + 10s).empty());
}

TEST(Liveness, AStoppedCounterIsStaleAfterTheLimit) {
  Liveness l(3s);
  const auto t0 = Clock::now();
  l.observe({10, 20}, t0);
  EXPECT_TRUE(l.observe({11, 20}, t0 + 1s).empty());
  EXPECT_TRUE(l.observe({12, 20}, t0 + 3s).empty());  // exactly the limit: not yet
  EXPECT_EQ(l.observe({13, 20}, t0 + 3500ms), (std::vector<std::size_t>{1}));
  EXPECT_EQ(l.quiet_for(1, t0 + 3500ms), 3500ms);
  EXPECT_EQ(l.observe({13, 20}, t0 + 8s), (std::vector<std::size_t>{0, 1}));
  // Both move again: alive at once.
  EXPECT_TRUE(l.observe({14, 21}, t0 + 9s).empty());
}

TEST(Liveness, ANewThreadStartsAlive) {
  Liveness l(3s);
  const auto t0 = Clock::now();
  l.observe({}, t0);
  EXPECT_TRUE(l.observe({0}, t0 + 10s).empty());
  EXPECT_EQ(l.observe({0}, t0 + 14s), (std::vector<std::size_t>{0}));
}

TEST(Watchdog, WithoutSystemdItStillWatches) {
  boost::asio::io_context io;
  std::uint64_t beat = 0;
  int asked = 0;
  Watchdog w(
      io, std::chrono::microseconds(0),
      [&](std::vector<std::uint64_t>& out) {
        ++asked;
        out.push_back(beat);
      },
      [](std::size_t) { return std::string("NFQUEUE 0"); }, 1s);
  w.start();
  io.run_for(50ms);
  EXPECT_EQ(asked, 1);
  EXPECT_TRUE(w.healthy());
  EXPECT_EQ(w.pings(), 0u);  // no WATCHDOG_USEC: nothing is sent
}

}  // namespace
}  // namespace vsd
