#include "appliance/health/schedule.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>

namespace vsd::health {
namespace {

std::string target(int i) {
  return "tcp 192.0.2.10:80 -> 203.0.113." + std::to_string(i % 250) + ":" + std::to_string(8000 + i / 250);
}

TEST(Schedule, OffsetIsDeterministicAndInsideTheInterval) {
  for (int i = 0; i < 1000; ++i) {
    auto o = spread_offset_ms(target(i), 5000);
    EXPECT_LT(o, 5000u);
    EXPECT_EQ(o, spread_offset_ms(target(i), 5000));
  }
  EXPECT_EQ(spread_offset_ms("anything", 0), 0u);
}

TEST(Schedule, AThousandTargetsDoNotProbeAtTheSameInstant) {
  // 1000 targets over 5 s: 100 buckets of 50 ms hold 10 on average.
  std::map<std::uint32_t, int> buckets;
  std::set<std::uint32_t> distinct;
  for (int i = 0; i < 1000; ++i) {
    auto o = spread_offset_ms(target(i), 5000);
    ++buckets[o / 50];
    distinct.insert(o);
  }
  EXPECT_GT(buckets.size(), 95u);
  int busiest = 0;
  for (const auto& [b, n] : buckets) busiest = std::max(busiest, n);
  EXPECT_LE(busiest, 30);
  EXPECT_GT(distinct.size(), 850u);
}

TEST(Schedule, IndexSpreadIsEven) {
  EXPECT_EQ(spread_offset_ms(0, 4, 1000), 0u);
  EXPECT_EQ(spread_offset_ms(1, 4, 1000), 250u);
  EXPECT_EQ(spread_offset_ms(3, 4, 1000), 750u);
  EXPECT_EQ(spread_offset_ms(999, 1000, 5000), 4995u);
  EXPECT_EQ(spread_offset_ms(0, 0, 5000), 0u);
}

TEST(Schedule, WarmupDelayIsWithinWarmup) {
  EXPECT_EQ(warmup_delay_ms(0, 12345), 0u);
  EXPECT_EQ(warmup_delay_ms(1000, 1000), 1000u);
  EXPECT_EQ(warmup_delay_ms(1000, 1001), 0u);
  for (std::uint64_t r = 0; r < 5000; r += 7) EXPECT_LE(warmup_delay_ms(1000, r * 2654435761u), 1000u);
}

TEST(Schedule, NextDueKeepsThePhaseAndSkipsMissedSlots) {
  EXPECT_EQ(next_due_ms(1000, 500, 1000), 1500u);  // on time
  EXPECT_EQ(next_due_ms(1000, 500, 1200), 1500u);  // check took 200 ms
  EXPECT_EQ(next_due_ms(1000, 500, 1500), 2000u);  // exactly at the next slot: the one after
  EXPECT_EQ(next_due_ms(1000, 500, 2700), 3000u);  // overran two slots: no burst
  EXPECT_EQ(next_due_ms(1000, 0, 2700), 2700u);
}

}  // namespace
}  // namespace vsd::health
