#include <gtest/gtest.h>

#include "appliance/health/quorum.hpp"
#include "appliance/health/slow_start.hpp"

namespace vsd::health {
namespace {

TEST(SlowStart, RampsFromZeroToTheWeight) {
  const std::uint64_t t0 = 1'000'000;
  EXPECT_EQ(slow_start_weight(100, 10'000, t0, t0), 0u);
  EXPECT_EQ(slow_start_weight(100, 10'000, t0, t0 + 1), 1u);  // rounded up: traffic starts at once
  EXPECT_EQ(slow_start_weight(100, 10'000, t0, t0 + 2'500), 25u);
  EXPECT_EQ(slow_start_weight(100, 10'000, t0, t0 + 5'000), 50u);
  EXPECT_EQ(slow_start_weight(100, 10'000, t0, t0 + 9'999), 100u);
  EXPECT_EQ(slow_start_weight(100, 10'000, t0, t0 + 10'000), 100u);
  EXPECT_EQ(slow_start_weight(100, 10'000, t0, t0 + 99'000), 100u);
  EXPECT_EQ(slow_start_weight(100, 0, t0, t0), 100u);  // no slow start
  EXPECT_EQ(slow_start_weight(0, 10'000, t0, t0 + 5'000), 0u);
  EXPECT_EQ(slow_start_weight(65535, 86'400'000, t0, t0 + 43'200'000), 32768u);  // no overflow
}

TEST(SlowStart, NextChangeIsWhenTheWeightMoves) {
  const std::uint64_t t0 = 1000;
  EXPECT_EQ(slow_start_next_change_ms(10, 1000, t0, t0), t0 + 1);
  EXPECT_EQ(slow_start_next_change_ms(10, 1000, t0, t0 + 1), t0 + 101);
  EXPECT_EQ(slow_start_weight(10, 1000, t0, t0 + 100), 1u);
  EXPECT_EQ(slow_start_weight(10, 1000, t0, t0 + 101), 2u);
  EXPECT_EQ(slow_start_next_change_ms(10, 1000, t0, t0 + 950), std::nullopt);  // already 10
  EXPECT_EQ(slow_start_next_change_ms(10, 1000, t0, t0 + 1000), std::nullopt);
  EXPECT_EQ(slow_start_next_change_ms(10, 0, t0, t0), std::nullopt);
  // Walking the changes visits every weight once.
  std::uint64_t now = t0;
  int steps = 0;
  while (auto next = slow_start_next_change_ms(10, 1000, t0, now)) {
    EXPECT_GT(slow_start_weight(10, 1000, t0, *next), slow_start_weight(10, 1000, t0, now));
    now = *next;
    ++steps;
  }
  EXPECT_EQ(steps, 10);
  EXPECT_EQ(slow_start_weight(10, 1000, t0, now), 10u);
}

TEST(Quorum, StartsUpOnlyWithQuorumPlusHysteresis) {
  EXPECT_TRUE(QuorumTracker(10, 2, 12).up());
  EXPECT_FALSE(QuorumTracker(10, 2, 11).up());
  EXPECT_TRUE(QuorumTracker(1, 0, 1).up());  // keepalived's defaults
  EXPECT_FALSE(QuorumTracker(1, 0, 0).up());
}

TEST(Quorum, HysteresisDampsFlaps) {
  QuorumTracker q(10, 2, 0);
  EXPECT_FALSE(q.up());
  EXPECT_EQ(q.update(10), std::nullopt);  // the quorum itself is not enough to gain it
  EXPECT_EQ(q.update(11), std::nullopt);
  EXPECT_EQ(q.update(12), true);          // quorum + hysteresis
  EXPECT_EQ(q.update(9), std::nullopt);   // below the quorum, not below quorum - hysteresis
  EXPECT_EQ(q.update(8), std::nullopt);
  EXPECT_EQ(q.update(7), false);          // lost
  EXPECT_EQ(q.update(11), std::nullopt);
  EXPECT_EQ(q.update(12), true);
}

TEST(Quorum, NoHealthyWeightAlwaysLosesQuorum) {
  // hysteresis larger than quorum: only a zero sum goes down.
  QuorumTracker q(2, 5, 7);
  EXPECT_TRUE(q.up());
  EXPECT_EQ(q.update(1), std::nullopt);
  EXPECT_EQ(q.update(0), false);
  EXPECT_FALSE(quorum_next(false, 6, 2, 5));
  EXPECT_TRUE(quorum_next(false, 7, 2, 5));
}

TEST(Quorum, HealthyWeightSum) {
  EXPECT_EQ(healthy_weight_sum({{true, 3}, {false, 100}, {true, 4}}), 7u);
  EXPECT_EQ(healthy_weight_sum({}), 0u);
}

}  // namespace
}  // namespace vsd::health
