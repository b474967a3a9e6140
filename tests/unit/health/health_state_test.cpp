#include "appliance/health/health_state.hpp"

#include <gtest/gtest.h>

namespace vsd::health {
namespace {

TEST(HealthState, StartsUpAndFallsAfterFallConsecutiveFailures) {
  FakeClock clock;
  HealthState s(clock, 2, 3, false);
  EXPECT_TRUE(s.up());
  EXPECT_FALSE(s.has_run());
  EXPECT_FALSE(s.record(false, "refused"));
  EXPECT_FALSE(s.record(false, "refused"));
  EXPECT_FALSE(s.record(true, "connected"));  // a pass resets the failure run
  EXPECT_FALSE(s.record(false, "refused"));
  EXPECT_FALSE(s.record(false, "refused"));
  clock.advance_s(7);
  auto t = s.record(false, "connect: Connection refused");
  ASSERT_TRUE(t);
  EXPECT_FALSE(t->up);
  EXPECT_EQ(t->reason, "3 consecutive checks failed: connect: Connection refused");
  EXPECT_FALSE(s.up());
  EXPECT_EQ(s.since_ms(), clock.now_ms());
  EXPECT_EQ(s.consecutive_failures(), 3u);
  EXPECT_EQ(s.checks(), 6u);
  EXPECT_EQ(s.failed_checks(), 5u);
  EXPECT_FALSE(s.record(false, "still"));  // no repeated transition
}

TEST(HealthState, RisesAfterRiseConsecutivePasses) {
  FakeClock clock;
  HealthState s(clock, 3, 1, false);
  ASSERT_TRUE(s.record(false, "x"));  // fall = 1: one failure is enough
  EXPECT_EQ(s.last_reason(), "x");
  EXPECT_FALSE(s.record(true, "ok"));
  EXPECT_FALSE(s.record(true, "ok"));
  EXPECT_FALSE(s.record(false, "x"));  // interrupts the run
  EXPECT_FALSE(s.record(true, "ok"));
  EXPECT_FALSE(s.record(true, "ok"));
  clock.advance_ms(1500);
  auto t = s.record(true, "HTTP status 200");
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->up);
  EXPECT_EQ(t->reason, "3 consecutive checks passed: HTTP status 200");
  EXPECT_EQ(s.recovered_ms(), clock.now_ms());
}

TEST(HealthState, SingleCheckWording) {
  FakeClock clock;
  HealthState s(clock, 1, 1, false);
  EXPECT_EQ(s.record(false, "timed out")->reason, "check failed: timed out");
  EXPECT_EQ(s.record(true, "connected")->reason, "check passed: connected");
}

TEST(HealthState, AlphaStartsDownAndTheFirstPassBringsItUp) {
  FakeClock clock;
  HealthState s(clock, 3, 2, true);
  EXPECT_FALSE(s.up());
  EXPECT_FALSE(s.record(false, "refused"));  // already down: no transition
  clock.advance_s(1);
  auto t = s.record(true, "connected");  // rise does not apply to the first pass
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->up);
  EXPECT_EQ(t->reason, "first check passed (alpha): connected");
  // After that, the ordinary rules.
  EXPECT_FALSE(s.record(false, "a"));
  ASSERT_TRUE(s.record(false, "b"));
  EXPECT_FALSE(s.record(true, "ok"));
  EXPECT_FALSE(s.record(true, "ok"));
  EXPECT_TRUE(s.record(true, "ok"));
}

TEST(HealthState, RecoveryIsOnlyADownToUpTransition) {
  FakeClock clock;
  HealthState s(clock, 1, 1, false);
  s.record(true, "ok");
  EXPECT_FALSE(s.recovered_ms());  // up since added: no slow start
  s.record(false, "x");
  EXPECT_FALSE(s.recovered_ms());
  clock.advance_s(3);
  s.record(true, "ok");
  EXPECT_EQ(s.recovered_ms(), clock.now_ms());
}

TEST(HealthState, ReconfigureKeepsStateAndCounters) {
  FakeClock clock;
  HealthState s(clock, 1, 5, false);
  s.record(false, "x");
  s.record(false, "x");
  s.reconfigure(1, 3);
  EXPECT_TRUE(s.up());
  EXPECT_TRUE(s.record(false, "x"));  // the third consecutive failure
}

TEST(HealthState, LastCheckTimeComesFromTheClock) {
  FakeClock clock(5000);
  HealthState s(clock, 1, 1, false);
  EXPECT_FALSE(s.last_check_ms());
  clock.advance_ms(250);
  s.record(true, "ok");
  EXPECT_EQ(s.last_check_ms(), 5250u);
  EXPECT_EQ(s.since_ms(), 5000u);
}

}  // namespace
}  // namespace vsd::health
