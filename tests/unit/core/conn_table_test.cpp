#include "appliance/core/conn_table.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <random>
#include <set>

namespace vsd {
namespace {

IpAddress ip(const char* s) { return *IpAddress::parse(s); }

ConnEntry make(const char* client, std::uint16_t cport, const char* rip = "203.0.113.11") {
  ConnEntry e;
  e.caddr = ip(client);
  e.cport = cport;
  e.vaddr = ip("192.0.2.10");
  e.vport = 80;
  e.daddr = ip(rip);
  e.dport = 8000;
  e.proto = IPPROTO_TCP;
  return e;
}

TEST(ConnTable, FoundFromBothDirections) {
  ConnTable t(16);
  ConnEntry* e = t.insert(make("198.51.100.2", 40000), 100);
  ASSERT_NE(e, nullptr);
  auto c = t.find(IPPROTO_TCP, ip("198.51.100.2"), 40000, ip("192.0.2.10"), 80);
  EXPECT_EQ(c.entry, e);
  EXPECT_EQ(c.side, ConnTable::Side::client);
  auto s = t.find(IPPROTO_TCP, ip("203.0.113.11"), 8000, ip("198.51.100.2"), 40000);
  EXPECT_EQ(s.entry, e);
  EXPECT_EQ(s.side, ConnTable::Side::server);
  // Neither a wrong port, nor the other protocol, nor the reversed tuple.
  EXPECT_EQ(t.find(IPPROTO_TCP, ip("198.51.100.2"), 40001, ip("192.0.2.10"), 80).entry, nullptr);
  EXPECT_EQ(t.find(IPPROTO_UDP, ip("198.51.100.2"), 40000, ip("192.0.2.10"), 80).entry, nullptr);
  EXPECT_EQ(t.find(IPPROTO_TCP, ip("192.0.2.10"), 80, ip("198.51.100.2"), 40000).entry, nullptr);
}

TEST(ConnTable, RefusesWhenFullAndDuplicateKeys) {
  ConnTable t(2);
  EXPECT_NE(t.insert(make("198.51.100.2", 1), 10), nullptr);
  EXPECT_EQ(t.insert(make("198.51.100.2", 1), 10), nullptr) << "same client key twice";
  EXPECT_NE(t.insert(make("198.51.100.2", 2), 10), nullptr);
  EXPECT_EQ(t.insert(make("198.51.100.2", 3), 10), nullptr) << "full";
  EXPECT_EQ(t.size(), 2u);
}

TEST(ConnTable, ExpiresByClockAndHonoursLateRefresh) {
  ConnTable t(8);
  ConnEntry* a = t.insert(make("198.51.100.2", 1), 1010);
  ConnEntry* b = t.insert(make("198.51.100.3", 1), 1010);
  ASSERT_TRUE(a && b);
  t.expire(1000, [](ConnEntry&) {});
  t.set_expiry(*b, 1900);  // refreshed: must survive its first slot
  std::vector<std::uint16_t> gone;
  EXPECT_EQ(t.expire(1009, [&](ConnEntry& e) { gone.push_back(e.cport); }), 0u);
  EXPECT_EQ(t.expire(1010, [&](ConnEntry& e) { gone.push_back(e.cport); }), 1u);
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.find(IPPROTO_TCP, ip("198.51.100.2"), 1, ip("192.0.2.10"), 80).entry, nullptr);
  EXPECT_EQ(t.expire(1899, [](ConnEntry&) {}), 0u);
  EXPECT_EQ(t.expire(1900, [](ConnEntry&) {}), 1u);
  EXPECT_EQ(t.size(), 0u);
}

TEST(ConnTable, ShortenedExpiryIsHonouredOnTime) {
  ConnTable t(8);
  ConnEntry* e = t.insert(make("198.51.100.2", 1), 1900);  // ESTABLISHED: 900 s
  ASSERT_NE(e, nullptr);
  t.expire(1000, [](ConnEntry&) {});
  t.set_expiry(*e, 1060);  // a FIN: CLOSE_WAIT 60 s
  EXPECT_EQ(t.expire(1059, [](ConnEntry&) {}), 0u);
  EXPECT_EQ(t.expire(1060, [](ConnEntry&) {}), 1u);
}

TEST(ConnTable, TemplatesHaveOnlyAClientKeyAndCanBeUnhashed) {
  ConnTable t(8);
  ConnEntry a = make("198.51.100.2", 0);
  a.flags = ConnEntry::kTemplate | ConnEntry::kClientKeyOnly;
  a.control = 0;  // a template counts the connections it controls
  ConnEntry b = a;
  b.vaddr = *IpAddress::parse("192.0.2.99");  // another service, same real server side
  ConnEntry* ta = t.insert(a, 100);
  ConnEntry* tb = t.insert(b, 100);
  ASSERT_NE(ta, nullptr);
  ASSERT_NE(tb, nullptr) << "two templates may share the real-server side";
  EXPECT_EQ(t.find(a.proto, a.daddr, a.dport, a.caddr, a.cport).entry, nullptr);
  t.unhash(*ta);
  EXPECT_EQ(t.find(a.proto, a.caddr, a.cport, a.vaddr, a.vport).entry, nullptr);
  EXPECT_EQ(t.size(), 2u);
  // Kept by its callback while it still controls a connection.
  ta->control = 1;
  EXPECT_EQ(t.expire(100, [](ConnEntry& e) {
    if (e.control > 0) { e.expires = 150; return false; }
    return true;
  }), 1u);
  EXPECT_EQ(t.size(), 1u);
  ta->control = 0;
  EXPECT_EQ(t.expire(150, [](ConnEntry&) { return true; }), 1u);
  EXPECT_EQ(t.size(), 0u);
}

TEST(ConnTable, ExpiryBeyondOneWheelTurnAndAfterLongPause) {
  ConnTable t(8);
  t.expire(0, [](ConnEntry&) {});
  ConnEntry* a = t.insert(make("198.51.100.2", 1), 10000);  // > 4096 slots ahead
  ASSERT_TRUE(a);
  for (std::uint32_t now = 1; now < 10000; now += 7) EXPECT_EQ(t.expire(now, [](ConnEntry&) {}), 0u);
  EXPECT_EQ(t.expire(10005, [](ConnEntry&) {}), 1u);
  // A pause longer than the wheel still expires everything due.
  t.insert(make("198.51.100.2", 2), 10010);
  EXPECT_EQ(t.expire(50000, [](ConnEntry&) {}), 1u);
}

TEST(ConnTable, EraseKeepsOtherKeysReachable) {
  // Many entries with colliding probes, random erase order: every remaining
  // key must stay reachable from both sides (backward-shift deletion).
  ConnTable t(4096, SipKey{42, 7});
  std::vector<ConnEntry*> live;
  for (std::uint16_t p = 1; p <= 3000; ++p) live.push_back(t.insert(make("198.51.100.2", p), 5000));
  std::mt19937 rng(7);
  std::shuffle(live.begin(), live.end(), rng);
  std::set<std::uint16_t> erased;
  for (std::size_t i = 0; i < 1500; ++i) {
    erased.insert(live[i]->cport);
    t.erase(*live[i]);
  }
  for (std::uint16_t p = 1; p <= 3000; ++p) {
    bool expect = !erased.count(p);
    EXPECT_EQ(t.find(IPPROTO_TCP, ip("198.51.100.2"), p, ip("192.0.2.10"), 80).entry != nullptr, expect);
    EXPECT_EQ(t.find(IPPROTO_TCP, ip("203.0.113.11"), 8000, ip("198.51.100.2"), p).entry != nullptr, expect);
  }
  EXPECT_EQ(t.size(), 1500u);
  // Freed slots are reused.
  for (std::uint16_t p = 1; p <= 1500; ++p) t.insert(make("198.51.100.9", p), 5000);
  EXPECT_EQ(t.size(), 3000u);
}

TEST(ConnTable, IPv6Entries) {
  ConnTable t(4);
  ConnEntry e = make("2001:db8:1::2", 5, "2001:db8:2::11");
  e.vaddr = ip("2001:db8::10");
  ASSERT_NE(t.insert(e, 10), nullptr);
  EXPECT_NE(t.find(IPPROTO_TCP, ip("2001:db8:2::11"), 8000, ip("2001:db8:1::2"), 5).entry, nullptr);
  EXPECT_NE(t.find(IPPROTO_TCP, ip("2001:db8:1::2"), 5, ip("2001:db8::10"), 80).entry, nullptr);
}

// The worst case the keyed hash exists to prevent, forced with a hash that
// sends every key home to one slot: lookups get slow, but every answer stays
// right, also across the wrap at the end of the slot array and after
// backward-shift deletions.
struct OneSlotHash {
  std::uint64_t slot;
  std::uint64_t operator()(const ConnTupleWords&) const { return slot; }
};

TEST(ConnTable, EveryKeyInOneProbeRunStaysCorrect) {
  BasicConnTable<OneSlotHash> t(64, OneSlotHash{250});  // 256 slots: the run wraps past 255
  std::vector<ConnEntry*> live;
  for (std::uint16_t p = 1; p <= 64; ++p) live.push_back(t.insert(make("198.51.100.66", p), 100));
  for (auto* e : live) ASSERT_NE(e, nullptr);
  EXPECT_EQ(t.insert(make("198.51.100.66", 1), 100), nullptr) << "full";
  std::mt19937 rng(3);
  std::shuffle(live.begin(), live.end(), rng);
  std::set<std::uint16_t> erased;
  for (std::size_t i = 0; i < 40; ++i) {
    erased.insert(live[i]->cport);
    t.erase(*live[i]);
  }
  for (std::uint16_t p = 1; p <= 64; ++p) {
    bool expect = !erased.count(p);
    EXPECT_EQ(t.find(IPPROTO_TCP, ip("198.51.100.66"), p, ip("192.0.2.10"), 80).entry != nullptr, expect);
    EXPECT_EQ(t.find(IPPROTO_TCP, ip("203.0.113.11"), 8000, ip("198.51.100.66"), p).entry != nullptr, expect);
  }
}

// Same tuples, same key: the same table layout, so tests and benchmarks
// with a fixed key are reproducible; the daemon's tables each draw a key.
TEST(ConnTable, FixedKeyAndRandomKeyTablesBothWork) {
  ConnTable fixed(16, SipKey{1, 2});
  ConnTable keyed(16);
  for (ConnTable* t : {&fixed, &keyed}) {
    ConnEntry* e = t->insert(make("198.51.100.2", 40000), 100);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(t->find(IPPROTO_TCP, ip("198.51.100.2"), 40000, ip("192.0.2.10"), 80).entry, e);
    EXPECT_EQ(t->find(IPPROTO_TCP, ip("203.0.113.11"), 8000, ip("198.51.100.2"), 40000).entry, e);
  }
}

TEST(ConnTable, EntryStaysCompact) {
  ConnTable t(1 << 16);
  EXPECT_LE(sizeof(ConnEntry), 104u);
  EXPECT_LE(t.bytes_per_entry(), 128u);
}

}  // namespace
}  // namespace vsd
