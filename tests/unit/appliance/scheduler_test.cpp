#include <gtest/gtest.h>

#include <map>
#include <string>

#include "appliance/scheduler.hpp"
#include "appliance/scheduler_registry.hpp"

namespace vsd {
namespace {

std::vector<DestView> dests(std::initializer_list<std::uint32_t> weights) {
  auto svc = std::make_shared<ServiceState>();
  std::vector<DestView> out;
  std::uint8_t last = 11;
  for (auto w : weights) {
    DestView d;
    std::string a = "203.0.113." + std::to_string(last++) + ":8000";
    d.addr = *Endpoint::parse(a);
    d.weight = w;
    d.state = std::make_shared<DestState>(svc);
    out.push_back(std::move(d));
  }
  return out;
}

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

TEST(Rr, RotatesAndSkipsQuiesced) {
  auto d = dests({1, 5, 1});
  auto s = make_scheduler("rr", d);
  EXPECT_EQ(sequence(*s, d, 6), "ABCABC");
  auto q = dests({1, 0, 1});
  auto s2 = make_scheduler("rr", q);
  EXPECT_EQ(sequence(*s2, q, 4), "ACAC");
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

TEST(Registry, KnowsItsNames) {
  for (auto name : scheduler_names()) {
    EXPECT_TRUE(is_known_scheduler(name));
    auto d = dests({1});
    EXPECT_NE(make_scheduler(name, d), nullptr) << name;
  }
  EXPECT_FALSE(is_known_scheduler("wrrr"));
}

}  // namespace
}  // namespace vsd
