// sed, nq, fo, ovf and twos: the schedulers that read only the load.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "scheduler_test_util.hpp"
#include "appliance/core/scheduler.hpp"
#include "appliance/core/scheduler_twos.hpp"

namespace vsd {
namespace {

std::vector<DestView> dests(const std::vector<std::uint32_t>& weights) { return test::make_dests(weights, 8000); }

// Each pick becomes an active connection on the picked server, so the
// sequence shows how the rule reacts to its own decisions.
std::string busy_sequence(Scheduler& s, const std::vector<DestView>& d, int n) {
  PacketView pkt;
  std::string out;
  for (int i = 0; i < n; ++i) {
    int idx = s.schedule(d, pkt);
    if (idx >= 0) d[idx].state->active_conns.add(1);
    out += idx < 0 ? '-' : static_cast<char>('A' + idx);
  }
  return out;
}

int pick(std::string_view name, const std::vector<DestView>& d) {
  PacketView pkt;
  return make_scheduler(name, d)->schedule(d, pkt);
}

TEST(Sed, ActivePlusOneOverWeightTiesToFirst) {
  auto d = dests({1, 3});
  auto s = make_scheduler("sed", d);
  // (a+1)/1 vs (b+1)/3: B until 3/3 ties with 1/1, then A, ...
  EXPECT_EQ(busy_sequence(*s, d, 8), "BBABBBAB");
}

TEST(Sed, IgnoresInactiveConnectionsUnlikeWlc) {
  auto d = dests({1, 1});
  d[0].state->inactive_conns.add(1000);
  d[1].state->active_conns.add(1);
  EXPECT_EQ(pick("sed", d), 0);  // 1/1 < 2/1
  EXPECT_EQ(pick("wlc", d), 1);  // 1000 > 256
}

TEST(Sed, PrefersTheBigServerWhenIdle) {
  auto d = dests({1, 5});
  EXPECT_EQ(pick("sed", d), 1);  // 1/5 < 1/1; wlc would tie at 0 and take A
  EXPECT_EQ(pick("wlc", d), 0);
}

TEST(Sed, SkipsUnavailable) {
  auto d = dests({5, 1, 0});
  d[0].state->overloaded = true;
  d[1].state->active_conns.add(50);
  EXPECT_EQ(pick("sed", d), 1);
  d[1].state->overloaded = true;
  EXPECT_EQ(pick("sed", d), -1);
}

TEST(Nq, AnIdleServerTakesItWhateverItsWeight) {
  auto d = dests({10, 1});
  d[0].state->active_conns.add(1);
  EXPECT_EQ(pick("nq", d), 1);   // idle
  EXPECT_EQ(pick("sed", d), 0);  // 2/10 < 1/1
}

TEST(Nq, FirstIdleInListOrder) {
  auto d = dests({1, 5});
  EXPECT_EQ(pick("nq", d), 0);
  EXPECT_EQ(pick("sed", d), 1);
}

TEST(Nq, SedRuleOnceNoneIsIdle) {
  auto d = dests({1, 3});
  auto s = make_scheduler("nq", d);
  // A and B idle at first, then (a+1)/1 vs (b+1)/3.
  EXPECT_EQ(busy_sequence(*s, d, 7), "ABBBBBA");
}

TEST(Nq, IdleButUnavailableIsSkipped) {
  auto d = dests({0, 1, 1});
  d[1].state->overloaded = true;
  d[2].state->active_conns.add(7);
  EXPECT_EQ(pick("nq", d), 2);
  d[2].state->overloaded = true;
  EXPECT_EQ(pick("nq", d), -1);
}

TEST(Fo, HighestWeightWinsWhateverItsLoad) {
  auto d = dests({2, 5, 5, 1});
  d[1].state->active_conns.add(100000);
  auto s = make_scheduler("fo", d);
  EXPECT_EQ(busy_sequence(*s, d, 3), "BBB");  // first of the two 5s
  d[1].state->overloaded = true;
  EXPECT_EQ(busy_sequence(*s, d, 2), "CC");
  d[2].weight = 0;
  EXPECT_EQ(busy_sequence(*s, d, 1), "A");
  d[0].state->overloaded = true;
  EXPECT_EQ(busy_sequence(*s, d, 1), "D");
  d[3].weight = 0;
  EXPECT_EQ(busy_sequence(*s, d, 1), "-");
}

TEST(Ovf, FillsByWeightThenOverflows) {
  auto d = dests({2, 3, 1});
  auto s = make_scheduler("ovf", d);
  // IPVS skips a server only when active > weight: B takes 4, A 3, C 2.
  EXPECT_EQ(busy_sequence(*s, d, 10), "BBBBAAACC-");
  d[1].state->active_conns.sub(2);  // B drains below its budget: back to B
  EXPECT_EQ(busy_sequence(*s, d, 1), "B");
}

TEST(Ovf, InactiveDoesNotCountAndUnavailableIsSkipped) {
  auto d = dests({2, 1, 0});
  d[0].state->inactive_conns.add(1000);
  EXPECT_EQ(pick("ovf", d), 0);
  d[0].state->overloaded = true;
  EXPECT_EQ(pick("ovf", d), 1);
  d[1].state->overloaded = true;
  EXPECT_EQ(pick("ovf", d), -1);  // C has weight 0
}

std::string draws(std::uint64_t seed, const std::vector<DestView>& d, int n) {
  TwoChoicesScheduler s(seed);
  PacketView pkt;
  std::string out;
  for (int i = 0; i < n; ++i) out += static_cast<char>('A' + s.schedule(d, pkt));
  return out;
}

TEST(Twos, SeedMakesItReproducible) {
  auto d = dests({1, 1, 1, 1});
  EXPECT_EQ(draws(42, d, 64), draws(42, d, 64));
  EXPECT_NE(draws(42, d, 64), draws(43, d, 64));
  SchedulerContext ctx{.seed = 42};
  auto s = make_scheduler("twos", d, ctx);
  PacketView pkt;
  std::string via_registry;
  for (int i = 0; i < 64; ++i) via_registry += static_cast<char>('A' + s->schedule(d, pkt));
  EXPECT_EQ(via_registry, draws(42, d, 64));
}

TEST(Twos, EqualLoadSplitsExactlyByWeight) {
  auto d = dests({1, 2, 7});
  auto seq = draws(7, d, 100000);
  EXPECT_NEAR(std::count(seq.begin(), seq.end(), 'A') / 100000.0, 0.1, 0.01);
  EXPECT_NEAR(std::count(seq.begin(), seq.end(), 'B') / 100000.0, 0.2, 0.01);
  EXPECT_NEAR(std::count(seq.begin(), seq.end(), 'C') / 100000.0, 0.7, 0.01);
}

TEST(Twos, TheLessLoadedOfTheTwoWins) {
  auto d = dests({1, 1});
  d[0].state->active_conns.add(10);
  // A wins only when both draws are A: 1/4 of the time.
  auto seq = draws(9, d, 100000);
  EXPECT_NEAR(std::count(seq.begin(), seq.end(), 'A') / 100000.0, 0.25, 0.01);
  // Load per weight: 2 active on weight 4 beats 1 active on weight 1.
  auto w = dests({1, 4});
  w[0].state->active_conns.add(1);
  w[1].state->active_conns.add(2);
  auto seq2 = draws(9, w, 100000);
  EXPECT_NEAR(std::count(seq2.begin(), seq2.end(), 'A') / 100000.0, 0.04, 0.01);
}

TEST(Twos, NeverPicksUnavailable) {
  auto d = dests({3, 0, 3});
  d[0].state->overloaded = true;
  auto seq = draws(5, d, 1000);
  EXPECT_EQ(std::count(seq.begin(), seq.end(), 'C'), 1000);
  d[2].state->overloaded = true;
  TwoChoicesScheduler s(5);
  PacketView pkt;
  EXPECT_EQ(s.schedule(d, pkt), -1);
}

}  // namespace
}  // namespace vsd
