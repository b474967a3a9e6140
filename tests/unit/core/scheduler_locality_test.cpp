// lblc and lblcr: destination IP -> server (set), on an injected clock.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "scheduler_test_util.hpp"
#include "appliance/clock.hpp"
#include "appliance/core/scheduler_lblc.hpp"
#include "appliance/core/scheduler_lblcr.hpp"
#include "appliance/core/scheduler_registry.hpp"

namespace vsd {
namespace {

constexpr std::uint64_t kDayS = 24 * 60 * 60;

std::vector<DestView> dests(const std::vector<std::uint32_t>& weights) { return test::make_dests(weights, 3128); }

PacketView to(const char* dst) {
  PacketView pkt;
  pkt.src = *IpAddress::parse("198.51.100.1");
  pkt.dst = *IpAddress::parse(dst);
  return pkt;
}

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

TEST(Lblc, ADestinationSticksToItsServer) {
  FakeClock clock;
  auto d = dests({1, 1, 1});
  LocalityLeastConnectionScheduler s(clock);
  EXPECT_EQ(s.schedule(d, to("192.0.2.1")), 0);  // wlc: all idle, first
  d[0].state->active_conns.add(1);               // not over its weight
  EXPECT_EQ(s.schedule(d, to("192.0.2.1")), 0);  // cached, though B and C idle
  EXPECT_EQ(s.schedule(d, to("192.0.2.2")), 1);  // a new destination: wlc
  d[1].state->active_conns.add(1);
  EXPECT_EQ(s.schedule(d, to("2001:db8::1")), 2);
  EXPECT_EQ(s.cached(ip("192.0.2.1")), 0);
  EXPECT_EQ(s.cached(ip("2001:db8::1")), 2);
  EXPECT_EQ(s.entries(), 3u);
}

TEST(Lblc, LeavesAServerOverItsWeightOnlyIfAnotherIsBelowHalf) {
  FakeClock clock;
  auto d = dests({1, 2, 2});
  LocalityLeastConnectionScheduler s(clock);
  ASSERT_EQ(s.schedule(d, to("192.0.2.1")), 0);
  d[0].state->active_conns.add(2);  // 2 > weight 1
  d[1].state->active_conns.add(1);  // 1*2 < 2? no
  d[2].state->active_conns.add(1);
  EXPECT_EQ(s.schedule(d, to("192.0.2.1")), 0);  // nobody below half: stay
  d[2].state->active_conns.sub(1);                // C idle: 0 < 2/2
  EXPECT_EQ(s.schedule(d, to("192.0.2.1")), 2);  // wlc: 256/2 vs 0/2
  EXPECT_EQ(s.cached(ip("192.0.2.1")), 2);       // the table follows
}

TEST(Lblc, UnavailableServerIsReplaced) {
  FakeClock clock;
  auto d = dests({1, 1});
  LocalityLeastConnectionScheduler s(clock);
  ASSERT_EQ(s.schedule(d, to("192.0.2.1")), 0);
  d[0].state->overloaded = true;
  EXPECT_EQ(s.schedule(d, to("192.0.2.1")), 1);
  d[0].state->overloaded = false;
  EXPECT_EQ(s.schedule(d, to("192.0.2.1")), 1);  // stays with its new server
  d[1].state->overloaded = true;
  d[0].weight = 0;
  EXPECT_EQ(s.schedule(d, to("192.0.2.1")), -1);
  EXPECT_EQ(s.cached(ip("192.0.2.1")), 1);  // kept for when B is back
}

TEST(Lblc, EntriesExpireAfterADayUnused) {
  FakeClock clock;
  auto d = dests({1, 1});
  LocalityLeastConnectionScheduler s(clock);
  ASSERT_EQ(s.schedule(d, to("192.0.2.1")), 0);
  d[0].state->active_conns.add(1);
  clock.advance_s(kDayS - 1);
  EXPECT_EQ(s.schedule(d, to("192.0.2.1")), 0);  // a use renews it
  clock.advance_s(kDayS - 1);
  EXPECT_EQ(s.cached(ip("192.0.2.1")), 0);
  clock.advance_s(1);
  EXPECT_EQ(s.cached(ip("192.0.2.1")), -1);
  EXPECT_EQ(s.entries(), 0u);
  EXPECT_EQ(s.schedule(d, to("192.0.2.1")), 1);  // scheduled afresh: wlc
}

TEST(Lblc, FixedCapacityKeepsTheRecentDestinations) {
  FakeClock clock;
  auto d = dests({1, 1, 1});
  LocalityLeastConnectionScheduler s(clock, 64);
  for (int i = 0; i < 1000; ++i) {
    std::string dst = "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256);
    ASSERT_GE(s.schedule(d, to(dst.c_str())), 0);
    clock.advance_ms(10);
  }
  EXPECT_LE(s.entries(), 64u);
  EXPECT_GE(s.entries(), 32u);  // sets fill unevenly, but most ways are used
  clock.advance_s(1);
  // The destination just used survives however full its set is.
  EXPECT_GE(s.cached(ip("10.0.3.231")), 0);
}

TEST(Lblc, DefaultsFromTheRegistry) {
  FakeClock clock;
  auto d = dests({1});
  auto s = make_scheduler("lblc", d, {.clock = &clock});
  auto* l = dynamic_cast<LocalityLeastConnectionScheduler*>(s.get());
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(s->schedule(d, to("192.0.2.1")), 0);
  clock.advance_s(kDayS);
  EXPECT_EQ(l->cached(ip("192.0.2.1")), -1);  // the injected clock is the one used
}

std::vector<int> set_of(const LocalityReplicationScheduler& s, const char* dst) {
  auto v = s.server_set(ip(dst));
  return {v.begin(), v.end()};
}

TEST(Lblcr, AnOverloadedSetGrowsByTheWlcPick) {
  FakeClock clock;
  auto d = dests({1, 1, 1});
  LocalityReplicationScheduler s(clock);
  EXPECT_EQ(s.schedule(d, to("192.0.2.1")), 0);
  EXPECT_EQ(set_of(s, "192.0.2.1"), (std::vector<int>{0}));
  d[0].state->active_conns.add(2);                // over weight 1, B and C idle
  EXPECT_EQ(s.schedule(d, to("192.0.2.1")), 1);  // wlc over all
  EXPECT_EQ(set_of(s, "192.0.2.1"), (std::vector<int>{0, 1}));
  EXPECT_EQ(s.schedule(d, to("192.0.2.1")), 1);  // least loaded member
  d[1].state->active_conns.add(1);                // B 256 < A 512, not over its weight
  EXPECT_EQ(s.schedule(d, to("192.0.2.1")), 1);
  EXPECT_EQ(set_of(s, "192.0.2.1"), (std::vector<int>{0, 1}));
  d[1].state->active_conns.add(2);                // A 512 < B 768, but A is overloaded
  EXPECT_EQ(s.schedule(d, to("192.0.2.1")), 2);  // so C, idle, joins
  EXPECT_EQ(set_of(s, "192.0.2.1"), (std::vector<int>{0, 1, 2}));
  // Another destination has its own set.
  EXPECT_EQ(s.schedule(d, to("192.0.2.2")), 2);
  EXPECT_EQ(set_of(s, "192.0.2.2"), (std::vector<int>{2}));
}

TEST(Lblcr, UnavailableMembersAreSkipped) {
  FakeClock clock;
  auto d = dests({1, 1, 1});
  LocalityReplicationScheduler s(clock);
  ASSERT_EQ(s.schedule(d, to("192.0.2.1")), 0);
  d[0].state->overloaded = true;
  EXPECT_EQ(s.schedule(d, to("192.0.2.1")), 1);  // no available member: wlc, joins
  EXPECT_EQ(set_of(s, "192.0.2.1"), (std::vector<int>{0, 1}));
  d[1].weight = 0;
  d[2].state->overloaded = true;
  EXPECT_EQ(s.schedule(d, to("192.0.2.1")), -1);
}

TEST(Lblcr, AnUnchangedSetShedsItsMostLoadedOnePerPeriod) {
  FakeClock clock;
  auto d = dests({1, 1, 1});
  LocalityReplicationScheduler s(clock);
  const auto x = to("192.0.2.1");
  ASSERT_EQ(s.schedule(d, x), 0);
  d[0].state->active_conns.add(2);
  ASSERT_EQ(s.schedule(d, x), 1);
  d[1].state->active_conns.add(2);
  ASSERT_EQ(s.schedule(d, x), 2);   // set {A, B, C}, changed now
  d[0].state->active_conns.add(1);  // A 3 > B 1 > C 0, none overloaded
  d[1].state->active_conns.sub(1);
  // Used every hour so the entry lives; the set ages from its last change.
  auto hourly = [&](int hours, int expect) {
    for (int h = 0; h < hours; ++h) {
      clock.advance_s(3600);
      ASSERT_EQ(s.schedule(d, x), expect);
    }
  };
  hourly(24, 2);
  EXPECT_EQ(set_of(s, "192.0.2.1"), (std::vector<int>{0, 1, 2}));  // exactly a day: not yet
  clock.advance_s(1);
  EXPECT_EQ(s.schedule(d, x), 2);
  EXPECT_EQ(set_of(s, "192.0.2.1"), (std::vector<int>{1, 2}));  // A, the most loaded, is shed
  hourly(24, 2);
  EXPECT_EQ(set_of(s, "192.0.2.1"), (std::vector<int>{1, 2}));  // the shed was a change
  d[1].state->active_conns.sub(1);
  d[2].state->active_conns.add(1);  // now C is the most loaded
  clock.advance_s(1);
  EXPECT_EQ(s.schedule(d, x), 1);
  EXPECT_EQ(set_of(s, "192.0.2.1"), (std::vector<int>{1}));
  hourly(48, 1);
  EXPECT_EQ(set_of(s, "192.0.2.1"), (std::vector<int>{1}));  // the last member stays
}

TEST(Lblcr, EntriesExpireAfterADayUnused) {
  FakeClock clock;
  auto d = dests({1, 1});
  LocalityReplicationScheduler s(clock);
  ASSERT_EQ(s.schedule(d, to("2001:db8::7")), 0);
  clock.advance_s(kDayS - 1);
  EXPECT_EQ(s.entries(), 1u);
  clock.advance_s(1);
  EXPECT_EQ(s.entries(), 0u);
  EXPECT_TRUE(set_of(s, "2001:db8::7").empty());
}

TEST(Lblcr, ASetHoldsAtMostEightServers) {
  FakeClock clock;
  auto d = dests({1, 1, 1, 1, 1, 1, 1, 1, 1, 1});
  LocalityReplicationScheduler s(clock);
  // Each pick overloads its server while the rest idle, so every lookup
  // adds the next one.
  for (int i = 0; i < 10; ++i) {
    int got = s.schedule(d, to("192.0.2.1"));
    ASSERT_EQ(got, i);
    d[got].state->active_conns.add(2 + (i == 0));  // A the most loaded
  }
  auto set = set_of(s, "192.0.2.1");
  EXPECT_EQ(set.size(), 8u);
  EXPECT_EQ(std::count(set.begin(), set.end(), 0), 0);  // the most loaded made room
  EXPECT_EQ(set.back(), 9);
}

}  // namespace
}  // namespace vsd
