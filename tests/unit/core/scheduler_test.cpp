// rr, wrr, lc, wlc and the registry.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "scheduler_test_util.hpp"
#include "appliance/core/scheduler.hpp"
#include "appliance/core/scheduler_registry.hpp"

namespace vsd {
namespace {

std::vector<DestView> dests(const std::vector<std::uint32_t>& weights) { return test::make_dests(weights, 8000); }

std::string sequence(Scheduler& s, const std::vector<DestView>& d, int n) {
  PacketView pkt;
  std::string out;
  for (int i = 0; i < n; ++i) {
    int idx = s.schedule(d, pkt);
    out += idx < 0 ? '-' : static_cast<char>('A' + idx);
  }
  return out;
}

TEST(Wrr, IpvsSequenceForWeights432) {
  auto d = dests({4, 3, 2});
  auto s = make_scheduler("wrr", d);
  EXPECT_EQ(sequence(*s, d, 18), "AABABCABCAABABCABC");
}

TEST(Wrr, GcdStepsAndQuiescedServers) {
  auto d = dests({4, 2});
  auto s = make_scheduler("wrr", d);
  EXPECT_EQ(sequence(*s, d, 6), "AABAAB");
  auto q = dests({2, 0, 1});
  auto s2 = make_scheduler("wrr", q);
  EXPECT_EQ(sequence(*s2, q, 6), "AACAAC");
  auto none = dests({0, 0});
  auto s3 = make_scheduler("wrr", none);
  EXPECT_EQ(sequence(*s3, none, 2), "--");
}

TEST(Wrr, SplitsExactlyByWeight) {
  auto d = dests({2, 1});
  auto s = make_scheduler("wrr", d);
  auto seq = sequence(*s, d, 30);
  EXPECT_EQ(std::count(seq.begin(), seq.end(), 'A'), 20);
  EXPECT_EQ(std::count(seq.begin(), seq.end(), 'B'), 10);
}

TEST(Wrr, SkipsOverloaded) {
  auto d = dests({2, 1});
  d[0].state->overloaded = true;
  auto s = make_scheduler("wrr", d);
  EXPECT_EQ(sequence(*s, d, 3), "BBB");
}

TEST(Rr, RotatesAndSkipsQuiesced) {
  auto d = dests({1, 5, 1});
  auto s = make_scheduler("rr", d);
  EXPECT_EQ(sequence(*s, d, 6), "ABCABC");
  auto q = dests({1, 0, 1});
  auto s2 = make_scheduler("rr", q);
  EXPECT_EQ(sequence(*s2, q, 4), "ACAC");
}

TEST(Rr, SkipsOverloadedAndEmpty) {
  auto d = dests({1, 1, 1});
  d[1].state->overloaded = true;
  auto s = make_scheduler("rr", d);
  EXPECT_EQ(sequence(*s, d, 4), "ACAC");
  std::vector<DestView> none;
  auto s2 = make_scheduler("rr", none);
  EXPECT_EQ(sequence(*s2, none, 1), "-");
}

TEST(Wlc, PicksLeastOverheadPerWeight) {
  auto d = dests({1, 2});
  d[0].state->active_conns.add(1);  // overhead 256 / 1
  d[1].state->active_conns.add(1);  // overhead 256 / 2 -> wins
  auto s = make_scheduler("wlc", d);
  PacketView pkt;
  EXPECT_EQ(s->schedule(d, pkt), 1);
  d[1].state->active_conns.add(2);  // 768 / 2 = 384 > 256
  EXPECT_EQ(s->schedule(d, pkt), 0);
  auto lc = make_scheduler("lc", d);
  EXPECT_EQ(lc->schedule(d, pkt), 0);
}

TEST(Wlc, InactiveWeighs1Of256AndTiesGoFirst) {
  auto d = dests({1, 1});
  d[0].state->inactive_conns.add(255);  // 255 < 256 of one active
  d[1].state->active_conns.add(1);
  PacketView pkt;
  EXPECT_EQ(make_scheduler("wlc", d)->schedule(d, pkt), 0);
  d[0].state->inactive_conns.add(1);  // 256 = 256: the first wins a tie
  EXPECT_EQ(make_scheduler("wlc", d)->schedule(d, pkt), 0);
  EXPECT_EQ(make_scheduler("lc", d)->schedule(d, pkt), 0);
  d[0].state->inactive_conns.add(1);
  EXPECT_EQ(make_scheduler("wlc", d)->schedule(d, pkt), 1);
  EXPECT_EQ(make_scheduler("lc", d)->schedule(d, pkt), 1);
}

TEST(Wlc, HugeWeightsAndLoadsDoNotOverflow) {
  // 2^41 * 2^31 wraps to 0 in 64 bits, which would keep the loaded one.
  auto d = dests({1, 1u << 31});
  d[0].state->active_conns.add(1ULL << 33);  // overhead 2^41 per weight 1
  d[1].state->active_conns.add(1ULL << 33);  // overhead 2^41 per weight 2^31
  PacketView pkt;
  EXPECT_EQ(make_scheduler("wlc", d)->schedule(d, pkt), 1);
}

TEST(Lc, SkipsUnavailable) {
  auto d = dests({0, 1, 1});
  d[1].state->overloaded = true;
  d[2].state->active_conns.add(100);
  PacketView pkt;
  EXPECT_EQ(make_scheduler("lc", d)->schedule(d, pkt), 2);
  d[2].weight = 0;
  EXPECT_EQ(make_scheduler("lc", d)->schedule(d, pkt), -1);
  EXPECT_EQ(make_scheduler("wlc", d)->schedule(d, pkt), -1);
}

TEST(SchedulerRegistry, KnowsItsNames) {
  auto names = scheduler_names();
  EXPECT_EQ(names.size(), 14u);
  for (auto name : names) {
    EXPECT_TRUE(is_known_scheduler(name));
    auto d = dests({1});
    auto s = make_scheduler(name, d);
    ASSERT_NE(s, nullptr) << name;
    EXPECT_EQ(s->name(), name);
    PacketView pkt;
    EXPECT_EQ(s->schedule(d, pkt), 0) << name;
    std::vector<DestView> none;
    EXPECT_EQ(make_scheduler(name, none)->schedule(none, pkt), -1) << name;
  }
  EXPECT_FALSE(is_known_scheduler("wrrr"));
  EXPECT_EQ(make_scheduler("wrrr", dests({1})), nullptr);
}

TEST(SchedulerRegistry, FlagsBelongToShAndMh) {
  EXPECT_TRUE(is_known_scheduler_flag("sh", "sh-fallback"));
  EXPECT_TRUE(is_known_scheduler_flag("sh", "sh-port"));
  EXPECT_TRUE(is_known_scheduler_flag("mh", "mh-fallback"));
  EXPECT_TRUE(is_known_scheduler_flag("mh", "mh-port"));
  EXPECT_TRUE(is_known_scheduler_flag("sh", "flag-1"));  // ipvsadm's generic names
  EXPECT_TRUE(is_known_scheduler_flag("mh", "flag-2"));
  EXPECT_FALSE(is_known_scheduler_flag("sh", "flag-3"));
  EXPECT_FALSE(is_known_scheduler_flag("sh", "mh-port"));
  EXPECT_FALSE(is_known_scheduler_flag("mh", "sh-fallback"));
  EXPECT_FALSE(is_known_scheduler_flag("rr", "flag-1"));
  EXPECT_FALSE(is_known_scheduler_flag("wlc", "sh-port"));
  EXPECT_FALSE(is_known_scheduler_flag("nope", "sh-port"));
  EXPECT_EQ(scheduler_flag_names("mh"), (std::vector<std::string_view>{"mh-fallback", "mh-port"}));
  EXPECT_TRUE(scheduler_flag_names("wrr").empty());
}

TEST(SchedulerRegistry, ContextReachesTheScheduler) {
  auto d = dests({1, 1, 1, 1});
  const std::vector<std::string> flags = {"sh-port"};
  auto plain = make_scheduler("sh", d);
  auto ported = make_scheduler("sh", d, {.flags = flags});
  PacketView pkt;
  pkt.src = *IpAddress::parse("198.51.100.7");
  std::vector<int> a, b;
  for (std::uint16_t port = 1000; port < 1064; ++port) {
    pkt.sport = port;
    a.push_back(plain->schedule(d, pkt));
    b.push_back(ported->schedule(d, pkt));
  }
  EXPECT_EQ(std::count(a.begin(), a.end(), a[0]), 64);  // the port is ignored
  EXPECT_LT(std::count(b.begin(), b.end(), b[0]), 64);
  // Unknown flags are ignored here (validation rejects them earlier).
  const std::vector<std::string> odd = {"bogus"};
  EXPECT_NE(make_scheduler("wlc", d, {.flags = odd}), nullptr);
}

}  // namespace
}  // namespace vsd
