// mh: Maglev hashing, its weights, its flags and its consistency.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>

#include "scheduler_test_util.hpp"
#include "appliance/core/scheduler_mh.hpp"
#include "appliance/core/scheduler_registry.hpp"

namespace vsd {
namespace {

using test::flows;
using test::histogram;
using test::v4;

std::vector<DestView> dests(const std::vector<std::uint32_t>& weights) { return test::make_dests(weights, 80); }




std::vector<Endpoint> servers_of(Scheduler& s, std::span<const DestView> d,
                                 const std::vector<PacketView>& pkts) {
  std::vector<Endpoint> out;
  for (const auto& p : pkts) {
    int i = s.schedule(d, p);
    out.push_back(i < 0 ? Endpoint{} : d[i].addr);
  }
  return out;
}

TEST(Maglev, RemovingOneOfTenMovesOnlyItsClients) {
  constexpr int kN = 10;
  auto d = dests(std::vector<std::uint32_t>(kN, 1));
  auto pkts = flows(100000);
  auto s = make_scheduler("mh", d);
  auto before = servers_of(*s, d, pkts);

  auto fewer = d;
  const Endpoint gone = fewer[3].addr;
  fewer.erase(fewer.begin() + 3);
  auto s2 = make_scheduler("mh", fewer);
  auto after = servers_of(*s2, fewer, pkts);

  int moved = 0, on_gone = 0, others_moved = 0;
  for (std::size_t i = 0; i < pkts.size(); ++i) {
    moved += before[i] != after[i];
    on_gone += before[i] == gone;
    others_moved += before[i] != gone && before[i] != after[i];
  }
  const double n = static_cast<double>(pkts.size());
  EXPECT_NEAR(on_gone / n, 1.0 / kN, 0.01);
  EXPECT_LT(moved / n, 1.5 / kN);
  EXPECT_LT(others_moved / (n - on_gone), 0.03);  // the rest mostly stay
  EXPECT_EQ(std::count(after.begin(), after.end(), gone), 0);
}

TEST(Maglev, AddingAnEleventhTakesAboutAnEleventh) {
  auto d = dests(std::vector<std::uint32_t>(11, 1));
  std::vector<DestView> ten(d.begin(), d.end() - 1);
  auto pkts = flows(100000);
  auto before = servers_of(*make_scheduler("mh", ten), ten, pkts);
  auto after = servers_of(*make_scheduler("mh", d), d, pkts);
  int moved = 0, to_new = 0;
  for (std::size_t i = 0; i < pkts.size(); ++i) {
    moved += before[i] != after[i];
    to_new += after[i] == d.back().addr;
  }
  EXPECT_NEAR(to_new / 100000.0, 1 / 11.0, 0.01);
  EXPECT_LT(moved / 100000.0, 1.5 / 11);
}

TEST(Maglev, SlotsFollowWeights) {
  auto d = dests({1, 2, 3, 4, 0});
  MaglevHashScheduler s(d, false, false);
  auto t = s.table();
  ASSERT_EQ(t.size(), 65521u);
  for (int i = 0; i < 4; ++i)
    EXPECT_NEAR(std::count(t.begin(), t.end(), i) / 65521.0, (i + 1) / 10.0, 0.001) << i;
  EXPECT_EQ(std::count(t.begin(), t.end(), 4), 0);  // weight 0: no slots
  EXPECT_EQ(std::count(t.begin(), t.end(), MaglevHashScheduler::kEmpty), 0);
  auto h = histogram(s, d, flows(100000));
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(h[i] / 100000.0, (i + 1) / 10.0, 0.01) << i;
}

TEST(Maglev, SkewedWeightsStillGetTheirShare) {
  auto d = dests({1, 1000, 7});
  MaglevHashScheduler s(d, false, false);
  auto t = s.table();
  const double total = 1008;
  EXPECT_NEAR(std::count(t.begin(), t.end(), 0), 65521 / total, 2);
  EXPECT_NEAR(std::count(t.begin(), t.end(), 2), 65521 * 7 / total, 2);
}

TEST(Maglev, TableSizeIsAPrimeAndTheTableIsDeterministic) {
  auto d = dests({1, 1, 1});
  MaglevHashScheduler small(d, false, false, 250);
  EXPECT_EQ(small.table().size(), 251u);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(std::count(small.table().begin(), small.table().end(), i), 84, 1);
  MaglevHashScheduler again(d, false, false, 251);
  EXPECT_TRUE(std::equal(small.table().begin(), small.table().end(), again.table().begin()));
}

TEST(Maglev, PortOnlyWithMhPort) {
  auto d = dests({1, 1, 1, 1});
  MaglevHashScheduler plain(d, false, false, 4093), ported(d, false, true, 4093);
  PacketView p;
  p.src = v4(0xc6336407);
  std::map<int, int> a, b;
  for (int port = 1024; port < 2048; ++port) {
    p.sport = static_cast<std::uint16_t>(port);
    ++a[plain.schedule(d, p)];
    ++b[ported.schedule(d, p)];
  }
  EXPECT_EQ(a.size(), 1u);
  EXPECT_EQ(b.size(), 4u);
}

TEST(Maglev, UnavailableWithoutFallbackIsNoServer) {
  auto d = dests({1, 1, 1});
  MaglevHashScheduler s(d, false, false, 4093);
  auto pkts = flows(3000);
  auto before = servers_of(s, d, pkts);
  d[0].state->overloaded = true;
  auto after = servers_of(s, d, pkts);
  for (std::size_t i = 0; i < pkts.size(); ++i)
    EXPECT_EQ(after[i], before[i] == d[0].addr ? Endpoint{} : before[i]);
}

TEST(Maglev, FallbackSpreadsOnlyTheUnavailableServersClients) {
  auto d = dests({1, 1, 1, 1});
  const std::vector<std::string> flags = {"mh-fallback"};
  auto s = make_scheduler("mh", d, {.flags = flags});
  auto pkts = flows(20000);
  auto before = servers_of(*s, d, pkts);
  d[0].state->overloaded = true;
  auto after = servers_of(*s, d, pkts);
  std::map<Endpoint, int> moved_to;
  for (std::size_t i = 0; i < pkts.size(); ++i) {
    if (before[i] == d[0].addr)
      ++moved_to[after[i]];
    else
      EXPECT_EQ(after[i], before[i]);
  }
  EXPECT_EQ(moved_to.count(d[0].addr), 0u);
  ASSERT_EQ(moved_to.size(), 3u);
  for (auto& [ep, n] : moved_to) EXPECT_NEAR(n, 5000 / 3.0, 250) << ep.to_string();
  for (auto& dd : d) dd.state->overloaded = true;
  EXPECT_EQ(s->schedule(d, pkts[0]), -1);
}

TEST(Maglev, NoServersNoTable) {
  std::vector<DestView> none;
  MaglevHashScheduler s(none, true, false, 251);
  EXPECT_EQ(s.schedule(none, flows(1)[0]), -1);
  auto q = dests({0, 0});
  MaglevHashScheduler s2(q, true, false, 251);
  EXPECT_EQ(s2.schedule(q, flows(1)[0]), -1);
}

}  // namespace
}  // namespace vsd

namespace vsd {
namespace {

// The table by real server address: what two directors compare.
std::vector<Endpoint> table_addresses(const MaglevHashScheduler& s, std::span<const DestView> d) {
  std::vector<Endpoint> out;
  for (auto i : s.table()) out.push_back(i == MaglevHashScheduler::kEmpty ? Endpoint{} : d[i].addr);
  return out;
}

// Scale-out (README "Scale-out"): every director builds its own table from
// the same configuration; a flow that ECMP moves to another director must
// find the same real server there.
TEST(MaglevScaleOut, TwoDirectorsWithTheSameServersBuildTheSameTable) {
  auto a = dests({1, 1, 2, 1, 3});
  auto b = dests({1, 1, 2, 1, 3});  // another process: its own state objects
  MaglevHashScheduler one(a, false, false), two(b, false, false);
  EXPECT_EQ(table_addresses(one, a), table_addresses(two, b));
  // ... and so the same choice for every flow, ports hashed or not.
  auto pkts = flows(20000);
  MaglevHashScheduler p1(a, false, true), p2(b, false, true);
  EXPECT_EQ(servers_of(p1, a, pkts), servers_of(p2, b, pkts));
}

// Maglev's disruption bound (Eisenbud et al., NSDI 2016, section 3.4): with
// one of N servers removed, its slots are refilled and nearly every other
// slot keeps its server; added back, the table is the old one again.
TEST(MaglevScaleOut, RemovingOneOfNChangesAboutOneNthOfTheTable) {
  for (int n : {3, 5, 10}) {
    auto d = dests(std::vector<std::uint32_t>(n, 1));
    MaglevHashScheduler full(d, false, false);
    auto before = table_addresses(full, d);
    auto fewer = d;
    const Endpoint gone = fewer[1].addr;
    fewer.erase(fewer.begin() + 1);
    MaglevHashScheduler less(fewer, false, false);
    auto after = table_addresses(less, fewer);
    std::size_t changed = 0, changed_elsewhere = 0;
    for (std::size_t i = 0; i < before.size(); ++i) {
      changed += before[i] != after[i];
      changed_elsewhere += before[i] != after[i] && before[i] != gone;
    }
    const double slots = static_cast<double>(before.size());
    EXPECT_NEAR(changed / slots, 1.0 / n, 0.02) << n << " servers";
    EXPECT_LT(changed_elsewhere / slots, 0.02) << n << " servers: other servers' slots moved";
    MaglevHashScheduler back(d, false, false);
    EXPECT_EQ(table_addresses(back, d), before) << "the same servers, the same table";
  }
}

}  // namespace
}  // namespace vsd
