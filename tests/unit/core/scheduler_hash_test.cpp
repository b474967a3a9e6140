// dh and sh: IPVS's 256-bucket hash tables.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>

#include "scheduler_test_util.hpp"
#include "appliance/core/scheduler_dh.hpp"
#include "appliance/core/scheduler_registry.hpp"
#include "appliance/core/scheduler_sh.hpp"

namespace vsd {
namespace {

using test::flows;
using test::histogram;
using test::v4;

std::vector<DestView> dests(const std::vector<std::uint32_t>& weights) { return test::make_dests(weights, 80); }




std::string layout(std::span<const std::int32_t> buckets, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += buckets[i] < 0 ? '-' : static_cast<char>('A' + buckets[i]);
  return out;
}

TEST(Dh, BucketsDealtOneAtATimeWhateverTheWeight) {
  auto d = dests({1, 9, 0});
  DestinationHashScheduler s(d);
  EXPECT_EQ(layout(s.buckets(), 9), "ABCABCABC");
  auto h = histogram(s, d, flows(30000));
  // C (weight 0) holds a third of the buckets: its destinations get no server.
  EXPECT_NEAR(h[-1] / 30000.0, 1 / 3.0, 0.02);
  EXPECT_NEAR(h[0] / 30000.0, 1 / 3.0, 0.02);
  EXPECT_NEAR(h[1] / 30000.0, 1 / 3.0, 0.02);
}

TEST(Dh, SameDestinationSameServerWhateverTheSource) {
  auto d = dests({1, 1, 1, 1});
  auto s = make_scheduler("dh", d);
  auto pkts = flows(1000);
  for (auto& p : pkts) {
    PacketView q = p;
    q.src = v4(0x0a000001);
    q.sport = 1;
    EXPECT_EQ(s->schedule(d, p), s->schedule(d, q));
    EXPECT_EQ(s->schedule(d, p), static_cast<int>(DestinationHashScheduler::bucket_of(p.dst) % 4));
  }
}

TEST(Dh, UnavailableServerMeansNoServer) {
  auto d = dests({1, 1});
  DestinationHashScheduler s(d);
  auto pkts = flows(200);
  d[1].state->overloaded = true;
  for (const auto& p : pkts)
    EXPECT_EQ(s.schedule(d, p), DestinationHashScheduler::bucket_of(p.dst) % 2 ? -1 : 0);
  std::vector<DestView> none;
  EXPECT_EQ(DestinationHashScheduler(none).schedule(none, pkts[0]), -1);
}

TEST(Sh, BucketsInRunsOfWeight) {
  auto d = dests({2, 1});
  SourceHashScheduler s(d, false, false);
  EXPECT_EQ(layout(s.buckets(), 9), "AABAABAAB");
  auto q = dests({3, 0, 1});  // weight 0 still takes one bucket a round, as in IPVS
  SourceHashScheduler s2(q, false, false);
  EXPECT_EQ(layout(s2.buckets(), 10), "AAABCAAABC");
}

TEST(Sh, ShareFollowsWeight) {
  auto d = dests({1, 2, 3});
  SourceHashScheduler s(d, false, false);
  // 42 rounds of 6, then A B B C: 43, 86, 127 buckets.
  auto b = s.buckets();
  EXPECT_EQ(std::count(b.begin(), b.end(), 0), 43);
  EXPECT_EQ(std::count(b.begin(), b.end(), 1), 86);
  EXPECT_EQ(std::count(b.begin(), b.end(), 2), 127);
  auto h = histogram(s, d, flows(100000));
  EXPECT_NEAR(h[0] / 100000.0, 43 / 256.0, 0.01);
  EXPECT_NEAR(h[1] / 100000.0, 86 / 256.0, 0.01);
  EXPECT_NEAR(h[2] / 100000.0, 127 / 256.0, 0.01);
}

TEST(Sh, SourcePortOnlyWithShPort) {
  auto d = dests({1, 1, 1, 1});
  SourceHashScheduler plain(d, false, false), ported(d, false, true);
  PacketView p;
  p.src = v4(0xc6336407);
  std::map<int, int> a, b;
  for (int port = 1024; port < 2048; ++port) {
    p.sport = static_cast<std::uint16_t>(port);
    p.dst = v4(static_cast<std::uint32_t>(port));  // the destination never matters
    ++a[plain.schedule(d, p)];
    ++b[ported.schedule(d, p)];
  }
  EXPECT_EQ(a.size(), 1u);
  EXPECT_EQ(b.size(), 4u);
  for (auto& [idx, n] : b) EXPECT_NEAR(n, 256, 64) << idx;
}

TEST(Sh, UnavailableWithoutFallbackIsNoServer) {
  auto d = dests({1, 1, 1});
  SourceHashScheduler s(d, false, false);
  auto pkts = flows(3000);
  std::vector<int> before;
  for (const auto& p : pkts) before.push_back(s.schedule(d, p));
  d[1].state->overloaded = true;
  for (std::size_t i = 0; i < pkts.size(); ++i)
    EXPECT_EQ(s.schedule(d, pkts[i]), before[i] == 1 ? -1 : before[i]);
}

TEST(Sh, FallbackTriesTheNextBuckets) {
  auto d = dests({1, 1, 1});
  SourceHashScheduler s(d, true, false);
  auto pkts = flows(3000);
  std::vector<int> before;
  for (const auto& p : pkts) before.push_back(s.schedule(d, p));
  d[1].weight = 0;  // B's buckets now pass to the bucket after: C
  for (std::size_t i = 0; i < pkts.size(); ++i)
    EXPECT_EQ(s.schedule(d, pkts[i]), before[i] == 1 ? 2 : before[i]);
  d[2].state->overloaded = true;  // and then to A
  for (const auto& p : pkts) EXPECT_EQ(s.schedule(d, p), 0);
  d[0].state->overloaded = true;
  EXPECT_EQ(s.schedule(d, pkts[0]), -1);
}

TEST(Sh, FlagsThroughTheRegistry) {
  auto d = dests({1, 1});
  const std::vector<std::string> flags = {"sh-fallback"};
  auto s = make_scheduler("sh", d, {.flags = flags});
  d[0].state->overloaded = true;
  for (const auto& p : flows(100)) EXPECT_EQ(s->schedule(d, p), 1);
  const std::vector<std::string> generic = {"flag-1"};
  auto g = make_scheduler("sh", d, {.flags = generic});
  for (const auto& p : flows(100)) EXPECT_EQ(g->schedule(d, p), 1);
}

}  // namespace
}  // namespace vsd
