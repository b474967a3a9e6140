// "No heap allocation per packet": every operator new in this test binary is
// counted, and the packet path — parse, schedule, new connections,
// established flows, replies, malformed packets, expiry, verdict batching —
// must not add to the count once warmed up.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "appliance/core/engine.hpp"
#include "nfq/queue_message.hpp"
#include "packet_builder.hpp"
#include "core/spec_builder.hpp"

namespace {
std::atomic<std::uint64_t> g_allocations{0};
}

// g++ 12 cannot see that these replacements pair malloc with free and
// warns at every inlined std::allocator call site.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace vsd {
namespace {

using test::PacketSpec;

TEST(HotPath, NoAllocationPerPacket) {
  const SnapshotSpec spec = test::snapshot(
      {test::service("192.0.2.10:80").scheduler("wrr").real("203.0.113.11:8000", 3).real("203.0.113.12:8000"),
       test::service("[2001:db8::10]:53").udp().scheduler("wlc").real("[2001:db8:2::11]")});
  FakeClock clock;
  Engine engine(100000, clock);
  engine.publish(build_snapshot(spec, nullptr));
  nfq::VerdictBatch verdicts(64);

  // Prebuilt packets: building them allocates, processing must not.
  std::vector<std::vector<std::uint8_t>> packets;
  for (std::uint16_t p = 1; p <= 2000; ++p) {
    packets.push_back(PacketSpec{}.from("198.51.100.2", p).flags(0x02).build());
    packets.push_back(PacketSpec{}.from("198.51.100.2", p).flags(0x10).data("GET / HTTP/1.1").build());
    packets.push_back(PacketSpec{}.from("203.0.113.11", 8000).to("198.51.100.2", p).flags(0x12).build());
    packets.push_back(PacketSpec{}.udp().from("2001:db8:1::2", p).to("2001:db8::10", 53).data("q").build());
  }
  auto malformed = PacketSpec{}.build();
  malformed[0] = 0x41;
  packets.push_back(malformed);
  std::vector<std::vector<std::uint8_t>> work = packets;  // copies made before counting

  // Warm-up: one pass over a copy (first snapshot pickup etc.).
  {
    auto warm = packets;
    engine.begin_batch();
    for (auto& p : warm) engine.process(p.data(), p.size(), ChecksumState::complete);
  }
  clock.advance_s(1000);  // everything from the warm-up expires
  engine.begin_batch();
  ASSERT_EQ(engine.connection_count(), 0u);

  const std::uint64_t before = g_allocations.load();
  std::size_t modified = 0;
  for (std::size_t i = 0; i < work.size(); ++i) {
    if (i % 64 == 0) {
      engine.begin_batch();
      verdicts.clear();
    }
    auto r = engine.process(work[i].data(), work[i].size(),
                            i % 2 ? ChecksumState::not_ready : ChecksumState::complete);
    modified += r.modified;
    verdicts.add(0, static_cast<std::uint32_t>(i), 1, 0, r.modified ? work[i].data() : nullptr,
                 static_cast<std::uint32_t>(work[i].size()));
  }
  clock.advance_s(1000);
  engine.expire_connections();
  const std::uint64_t after = g_allocations.load();
  EXPECT_EQ(after - before, 0u) << "allocations on the packet path";
  EXPECT_GT(modified, 6000u);  // the packets really went through NAT
  EXPECT_EQ(engine.connection_count(), 0u);
}

// The same for VS-TUN (encapsulation and the too-big answer), VS-DR and
// ICMP errors about connections.
TEST(HotPath, NoAllocationPerPacketForTunDrAndIcmp) {
  FakeClock clock;
  Engine engine(100000, clock);
  DestEgress tun;
  tun.tunnel_source = *IpAddress::parse("192.0.2.1");
  tun.mtu = 600;  // the 1000-byte packets below are too big
  DestEgress dr;
  dr.ifindex = 3;
  dr.mac = {2, 0, 0, 0, 0, 0x21};
  dr.mac_known = true;
  const SnapshotSpec spec = test::snapshot(
      {test::service("192.0.2.10:80").scheduler("rr").real("203.0.113.11", 1, ForwardMethod::tun).egress(tun),
       test::service("198.51.100.10:80").scheduler("rr").real("198.51.100.21", 1, ForwardMethod::dr).egress(dr)});
  engine.publish(build_snapshot(spec, nullptr));

  std::vector<std::vector<std::uint8_t>> packets;
  const std::string big(1000, 'x');
  for (std::uint16_t p = 1; p <= 1000; ++p) {
    packets.push_back(PacketSpec{}.from("198.51.100.2", p).to("192.0.2.10", 80).flags(0x02).build());
    packets.push_back(PacketSpec{}.from("198.51.100.2", p).to("192.0.2.10", 80).flags(0x10).data("GET /").build());
    packets.push_back(PacketSpec{}.from("198.51.100.2", p).to("192.0.2.10", 80).flags(0x10).data(big).build());
    packets.push_back(PacketSpec{}.from("198.51.100.3", p).to("198.51.100.10", 80).flags(0x02).build());
    auto reply = PacketSpec{}.from("198.51.100.10", 80).to("198.51.100.3", p).flags(0x12).build();
    packets.push_back(test::icmp_error_packet("198.51.100.254", "198.51.100.10", 3, 4, 576, reply));
  }
  std::vector<std::vector<std::uint8_t>> work = packets;
  {
    auto warm = packets;
    engine.begin_batch();
    for (auto& p : warm) engine.process(p.data(), p.size(), ChecksumState::complete);
  }
  clock.advance_s(1000);
  engine.begin_batch();
  ASSERT_EQ(engine.connection_count(), 0u);

  const std::uint64_t before = g_allocations.load();
  std::size_t sent = 0;
  for (std::size_t i = 0; i < work.size(); ++i) {
    if (i % 64 == 0) engine.begin_batch();
    // One too-big answer per 5 packets, a millisecond apart: within vsd's
    // ICMP rate limit (1000/s).
    if (i % 5 == 0) clock.advance_ms(1);
    auto r = engine.process(work[i].data(), work[i].size(), ChecksumState::complete);
    sent += r.transmit != Transmit::none;
  }
  clock.advance_s(1000);
  engine.expire_connections();
  EXPECT_EQ(g_allocations.load() - before, 0u) << "allocations on the TUN/DR/ICMP path";
  EXPECT_EQ(sent, work.size());  // every packet left by tunnel, frame or ICMP answer
  EXPECT_EQ(engine.counters().tun_too_big.get(), 2000u);  // warm-up and measured pass
}

}  // namespace
}  // namespace vsd
