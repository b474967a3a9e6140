// The daemon's connection listing (status.hpp ConnectionReader): the table
// read in steps, each step under the engine's lock once and for a bounded
// number of slots, the entries built after the lock is released.
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <map>
#include <set>

#include "appliance/daemon/status.hpp"

namespace vsd {
namespace {

IpAddress ip(const char* s) { return *IpAddress::parse(s); }

ConnEntry entry(std::uint16_t cport, std::uint8_t proto = IPPROTO_TCP) {
  ConnEntry e;
  e.caddr = ip("198.51.100.2");
  e.cport = cport;
  e.vaddr = ip("192.0.2.10");
  e.vport = 80;
  e.daddr = ip("203.0.113.11");
  e.dport = 8000;
  e.proto = proto;
  e.state = TcpState::established;
  return e;
}

// The lock a listing takes: counts holds, and says whether it is held.
struct CountingLock {
  int holds = 0;
  bool held = false;
  ConnectionReader::Lock lock() {
    return [this](const std::function<void()>& fn) {
      ++holds;
      held = true;
      fn();
      held = false;
    };
  }
};

TEST(ConnectionReader, ReadsTheTableInBoundedStepsOneLockHoldEach) {
  FakeClock clock;
  ConnTable table(1000, SipKey{3, 4});
  for (std::uint16_t p = 1; p <= 600; ++p) ASSERT_NE(table.insert(entry(p), clock.now_s() + 900), nullptr);
  CountingLock lock;
  ConnectionReader reader(table, clock, lock.lock(), 128);
  std::vector<control::ConnectionStatus> all, batch;
  bool more = true;
  int calls = 0;
  while (more) {
    batch.clear();
    more = reader.next(batch);
    ++calls;
    EXPECT_LE(batch.size(), 128u);
    EXPECT_EQ(lock.holds, calls) << "one hold per step";
    EXPECT_FALSE(lock.held);
    all.insert(all.end(), batch.begin(), batch.end());
  }
  EXPECT_EQ(calls, 8);  // ceil(1000 / 128)
  EXPECT_EQ(reader.steps(), 8u);
  EXPECT_EQ(reader.listed(), 600u);
  ASSERT_EQ(all.size(), 600u);
  std::set<std::uint16_t> ports;
  for (const auto& c : all) ports.insert(c.client.port);
  EXPECT_EQ(ports.size(), 600u);
  EXPECT_EQ(all[0].state, "ESTABLISHED");
  EXPECT_EQ(all[0].expires_s, 900u);
  EXPECT_EQ(all[0].virtual_address.to_string(), "192.0.2.10:80");
  EXPECT_EQ(all[0].real.to_string(), "203.0.113.11:8000");
  EXPECT_FALSE(reader.next(batch)) << "done stays done";
  EXPECT_EQ(lock.holds, 8);
}

TEST(ConnectionReader, ShowsTemplatesAndUdpAsIpvsadmDoesAndExpiryFromTheStepsClock) {
  FakeClock clock;
  ConnTable table(16, SipKey{3, 4});
  const std::uint32_t t0 = clock.now_s();
  table.insert(entry(1, IPPROTO_UDP), t0 + 300);
  ConnEntry tmpl = entry(0);
  tmpl.flags = ConnEntry::kTemplate | ConnEntry::kClientKeyOnly;
  tmpl.proto = 0x80 | IPPROTO_TCP;  // templates live under a protocol no packet carries
  table.insert(tmpl, t0 + 360);
  ConnEntry gone = entry(0);
  gone.vaddr = ip("192.0.2.99");
  gone.flags = ConnEntry::kTemplate | ConnEntry::kClientKeyOnly;
  table.unhash(*table.insert(gone, t0 + 360));  // invalidated: not listed, as in IPVS
  CountingLock lock;
  ConnectionReader reader(table, clock, lock.lock(), 4);
  std::vector<control::ConnectionStatus> out;
  clock.advance_s(10);
  EXPECT_TRUE(reader.next(out));  // slots 0..3 of 16: all three entries
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(reader.next(out));
  EXPECT_TRUE(reader.next(out));
  EXPECT_FALSE(reader.next(out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].protocol, IPPROTO_UDP);
  EXPECT_EQ(out[0].state, "UDP");
  EXPECT_EQ(out[0].expires_s, 290u);
  EXPECT_TRUE(out[1].is_template);
  EXPECT_EQ(out[1].protocol, IPPROTO_TCP);
  EXPECT_EQ(out[1].state, "NONE");
  EXPECT_EQ(out[1].expires_s, 350u);
}

// Flows the kernel carries (fast path) are entries of the same table: the
// listing shows them as any other, with the state and expiry the kernel's
// reports keep (a NAT flow held by conntrack, a DR flow, a synced one).
TEST(ConnectionReader, ListsTheFlowsTheKernelCarries) {
  FakeClock clock;
  ConnTable table(64, SipKey{5, 6});
  const std::uint32_t t0 = clock.now_s();
  ConnEntry nat = entry(1);
  nat.flags = ConnEntry::kKernel | ConnEntry::kKernelHeld | ConnEntry::kKernelSeen | ConnEntry::kActive;
  table.insert(nat, t0 + 900);
  ConnEntry dr = entry(2, IPPROTO_UDP);
  dr.flags = ConnEntry::kKernel | ConnEntry::kKernelSeen;
  table.insert(dr, t0 + 120);
  ConnEntry synced = entry(3);
  synced.state = TcpState::fin_wait;
  synced.flags = ConnEntry::kKernel | ConnEntry::kSynced;
  table.insert(synced, t0 + 60);
  CountingLock lock;
  ConnectionReader reader(table, clock, lock.lock(), 16);
  std::vector<control::ConnectionStatus> out;
  while (reader.next(out)) {
  }
  ASSERT_EQ(out.size(), 3u);
  std::map<std::uint16_t, control::ConnectionStatus> by_port;
  for (const auto& c : out) by_port[c.client.port] = c;
  EXPECT_EQ(by_port[1].state, "ESTABLISHED");
  EXPECT_EQ(by_port[1].expires_s, 900u);
  EXPECT_FALSE(by_port[1].is_template);
  EXPECT_EQ(by_port[2].state, "UDP");
  EXPECT_EQ(by_port[2].expires_s, 120u);
  EXPECT_EQ(by_port[3].state, "FIN_WAIT");
  EXPECT_EQ(by_port[3].real.to_string(), "203.0.113.11:8000");
}

}  // namespace
}  // namespace vsd
