// ConnTable::for_each_from, the cursor a listing walks the table with in
// bounded steps while the data path changes it between them: bounded work
// per step, every entry that lives through the walk seen exactly once, no
// entry seen twice, whatever is added, removed or shifted meanwhile.
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "appliance/core/conn_table.hpp"
#include "appliance/core/engine.hpp"
#include "packet_builder.hpp"
#include "spec_builder.hpp"

namespace vsd {
namespace {

IpAddress ip(const char* s) { return *IpAddress::parse(s); }

ConnEntry make(std::uint16_t cport, const char* client = "198.51.100.2") {
  ConnEntry e;
  e.caddr = ip(client);
  e.cport = cport;
  e.vaddr = ip("192.0.2.10");
  e.vport = 80;
  e.daddr = ip("203.0.113.11");
  e.dport = 8000;
  e.proto = IPPROTO_TCP;
  return e;
}

// The client port of every entry a walk in steps of `step` slots visits,
// and each step's slot count.
struct Walk {
  std::vector<std::uint16_t> ports;
  std::vector<std::uint32_t> step_slots;
};
template <class Table, class Between>
Walk walk(const Table& t, std::uint32_t step, Between between) {
  Walk w;
  for (std::uint32_t c = 0; c < t.capacity();) {
    std::uint32_t next = t.for_each_from(c, step, [&](const ConnEntry& e) { w.ports.push_back(e.cport); });
    EXPECT_GT(next, c) << "every step moves on";
    w.step_slots.push_back(next - c);
    c = next;
    between();
  }
  return w;
}

TEST(ConnTableCursor, StepsVisitAtMostTheirSlotsAndTheWalkSeesEveryEntryOnce) {
  ConnTable t(1000, SipKey{1, 2});
  for (std::uint16_t p = 1; p <= 700; ++p) ASSERT_NE(t.insert(make(p), 100), nullptr);
  for (std::uint32_t step : {1u, 7u, 64u, 999u, 1000u, 5000u}) {
    Walk w = walk(t, step, [] {});
    EXPECT_EQ(w.ports.size(), 700u) << "step " << step;
    EXPECT_EQ(std::set<std::uint16_t>(w.ports.begin(), w.ports.end()).size(), 700u);
    for (auto n : w.step_slots) EXPECT_LE(n, step);
    EXPECT_EQ(w.step_slots.size(), (1000 + step - 1) / step);
  }
  // The end, and a cursor past it, stay at the end; 0 slots count as 1.
  EXPECT_EQ(t.for_each_from(1000, 10, [](const ConnEntry&) { FAIL(); }), 1000u);
  EXPECT_EQ(t.for_each_from(5000, 10, [](const ConnEntry&) { FAIL(); }), 1000u);
  EXPECT_EQ(t.for_each_from(0, 0, [](const ConnEntry&) {}), 1u);
  ConnTable empty(16);
  EXPECT_EQ(walk(empty, 4, [] {}).ports.size(), 0u);
}

// Between steps, as the data path does while a listing runs: half the
// entries churn (removed, with backward shifts in the hash; new ones added
// into the freed slots, ahead of the cursor and behind it). The other half
// lives through the walk and is seen exactly once; nothing is seen twice;
// an entry removed before the cursor reached its slot is not seen.
TEST(ConnTableCursor, ChangesBetweenStepsNeverHideALiveEntryNorShowOneTwice) {
  for (std::uint32_t seed = 1; seed <= 5; ++seed) {
    ConnTable t(4096, SipKey{seed, 99});
    std::mt19937 rng(seed);
    std::set<std::uint16_t> stable;
    std::vector<ConnEntry*> churn;
    std::uint16_t port = 1;
    for (; port <= 3000; ++port) {
      ConnEntry* e = t.insert(make(port), 1000);
      ASSERT_NE(e, nullptr);
      if (port % 2) stable.insert(port); else churn.push_back(e);
    }
    std::map<std::uint16_t, std::uint32_t> removed_at;  // port -> cursor when it went
    std::uint32_t cursor = 0;
    std::vector<std::pair<std::uint16_t, std::uint32_t>> seen;  // port, its slot
    while (cursor < t.capacity()) {
      cursor = t.for_each_from(cursor, 100, [&](const ConnEntry& e) {
        seen.emplace_back(e.cport, t.index_of(e));
      });
      // Churn: remove some, add as many (LIFO free list: into the slots
      // just freed, some behind the cursor, some ahead).
      std::shuffle(churn.begin(), churn.end(), rng);
      for (int k = 0; k < 40 && !churn.empty(); ++k) {
        removed_at[churn.back()->cport] = cursor;
        t.erase(*churn.back());
        churn.pop_back();
      }
      for (int k = 0; k < 40; ++k) {
        ConnEntry* e = t.insert(make(port++, "198.51.100.3"), 1000);
        ASSERT_NE(e, nullptr);
        churn.push_back(e);
      }
    }
    std::map<std::uint16_t, int> times;
    std::set<std::uint32_t> slots;
    for (auto [p, slot] : seen) {
      ++times[p];
      EXPECT_TRUE(slots.insert(slot).second) << "slot " << slot << " visited twice";
    }
    for (std::uint16_t p : stable) EXPECT_EQ(times[p], 1) << "port " << p << " lived through the walk";
    for (auto [p, n] : times) EXPECT_EQ(n, 1) << "port " << p << " seen twice";
    // One removed before its slot came up was not seen; one seen was
    // removed only after the cursor had passed it.
    for (auto [p, slot] : seen) {
      auto it = removed_at.find(p);
      if (it != removed_at.end()) {
        EXPECT_LT(slot, it->second) << "port " << p;
      }
    }
    // And all the lookups still work: the walk changes nothing.
    for (std::uint16_t p : stable)
      EXPECT_NE(t.find(IPPROTO_TCP, ip("198.51.100.2"), p, ip("192.0.2.10"), 80).entry, nullptr);
  }
}

// The engine's table under its own clock: a listing that runs while
// connections expire (the fake clock moves between steps) lists the
// survivors once each, and of the expired ones only those whose slot it
// had already passed.
TEST(ConnTableCursor, EngineTableWalkedWhileConnectionsExpireOnTheFakeClock) {
  FakeClock clock;
  Engine engine{1024, clock};
  engine.publish(build_snapshot(
      test::snapshot({test::service("192.0.2.10:9000").udp().scheduler("rr").real("203.0.113.11")}), nullptr));
  engine.begin_batch();
  auto datagram = [&](std::uint16_t sport) {
    auto p = test::PacketSpec{}.udp().from("198.51.100.2", sport).to("192.0.2.10", 9000).data("x").build();
    engine.process(p.data(), p.size(), ChecksumState::complete);
  };
  for (std::uint16_t p = 1000; p < 1200; ++p) datagram(p);  // expire at +300 s
  clock.advance_s(100);
  engine.begin_batch();
  for (std::uint16_t p = 2000; p < 2200; ++p) datagram(p);  // expire at +400 s
  ASSERT_EQ(engine.connection_count(), 400u);

  const ConnTable& table = engine.connections();
  std::vector<std::uint16_t> seen;
  auto visit = [&](const ConnEntry& e) { seen.push_back(e.cport); };
  std::uint32_t cursor = table.for_each_from(0, 64, visit);
  const std::size_t before_expiry = seen.size();
  EXPECT_LE(before_expiry, 64u);
  clock.advance_s(201);  // +301 s: the first 200 go
  engine.begin_batch();
  ASSERT_EQ(engine.connection_count(), 200u);
  for (std::uint16_t p = 3000; p < 3050; ++p) datagram(p);  // new ones, into freed slots
  while (cursor < table.capacity()) cursor = table.for_each_from(cursor, 64, visit);

  std::map<std::uint16_t, int> times;
  for (auto p : seen) ++times[p];
  for (std::uint16_t p = 2000; p < 2200; ++p) EXPECT_EQ(times[p], 1) << p;
  std::size_t old_seen = 0, new_seen = 0;
  for (auto [p, n] : times) {
    EXPECT_EQ(n, 1) << p;
    if (p < 1200) ++old_seen;
    if (p >= 3000) ++new_seen;
  }
  EXPECT_EQ(old_seen, before_expiry) << "expired ones: only those seen before they went";
  EXPECT_LE(new_seen, 50u);
}

}  // namespace
}  // namespace vsd
