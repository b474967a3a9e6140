// The real server's userspace VS-TUN decapsulation: what it lets in.
#include "appliance/core/decapsulator.hpp"

#include <gtest/gtest.h>

#include "packet_builder.hpp"

namespace vsd {
namespace {

using test::PacketSpec;

IpAddress ip(const char* s) { return *IpAddress::parse(s); }

std::vector<std::uint8_t> encapsulate(const std::vector<std::uint8_t>& inner, const char* src,
                                      const char* dst) {
  std::vector<std::uint8_t> out(inner.size() + 40);
  TunParams tp;
  tp.outer_src = ip(src);
  tp.outer_dst = ip(dst);
  auto r = tun_encapsulate(inner, out, tp);
  EXPECT_EQ(r.status, TunStatus::ok);
  out.resize(r.len);
  return out;
}

TEST(Decapsulator, GivesBackTheInnerPacketForAVip) {
  Decapsulator d({ip("192.0.2.10"), ip("2001:db8::10")});
  for (auto [client, vip, outer_src, rip] :
       {std::tuple{"198.51.100.2", "192.0.2.10", "192.0.2.1", "203.0.113.11"},
        std::tuple{"2001:db8:1::2", "2001:db8::10", "2001:db8:9::1", "2001:db8:2::11"}}) {
    auto inner = PacketSpec{}.from(client, 40000).to(vip, 80).data("GET /").build();
    auto pkt = encapsulate(inner, outer_src, rip);
    auto r = d.process(pkt.data(), pkt.size());
    ASSERT_TRUE(r.accept) << vip;
    pkt.resize(r.len);
    EXPECT_EQ(pkt, inner);
  }
  EXPECT_EQ(d.counters().decapsulated.get(), 2u);
}

TEST(Decapsulator, RefusesOtherDestinationsFamilyChangesAndGarbage) {
  Decapsulator d({ip("192.0.2.10")});
  auto other = encapsulate(PacketSpec{}.from("198.51.100.2", 1).to("192.0.2.99", 80).build(),
                           "192.0.2.1", "203.0.113.11");
  auto refused = d.process(other.data(), other.size());
  EXPECT_FALSE(refused.accept);
  EXPECT_EQ(d.counters().not_a_vip.get(), 1u);
  EXPECT_EQ(refused.outer_src, ip("192.0.2.1"));  // both named in the log line
  EXPECT_EQ(refused.inner_dst, ip("192.0.2.99"));

  auto mixed = encapsulate(PacketSpec{}.from("2001:db8:1::2", 1).to("2001:db8::10", 80).build(),
                           "192.0.2.1", "203.0.113.11");
  EXPECT_FALSE(d.process(mixed.data(), mixed.size()).accept);
  EXPECT_EQ(d.counters().family_change.get(), 1u);

  auto plain = PacketSpec{}.from("198.51.100.2", 1).to("192.0.2.10", 80).build();
  EXPECT_FALSE(d.process(plain.data(), plain.size()).accept);
  for (std::size_t n = 0; n < other.size(); ++n) {
    auto cut = other;
    EXPECT_FALSE(d.process(cut.data(), n).accept) << n;  // every truncation refused
  }
}

}  // namespace
}  // namespace vsd

namespace vsd {
namespace {

// Issue 15's suspicion: an inner IPv4 header with options. The inner packet
// comes back whole (options, addresses, payload), found by its header's IHL.
TEST(Decapsulator, AnInnerIpv4HeaderWithOptionsComesBackWhole) {
  Decapsulator d({ip("192.0.2.10")});
  auto inner = test::PacketSpec{}.from("198.51.100.2", 40000).to("192.0.2.10", 80).data("GET /").build();
  // Four option bytes (NOP NOP NOP EOL) after the 20-byte header: IHL 6.
  inner.insert(inner.begin() + 20, {1, 1, 1, 0});
  inner[0] = 0x46;
  const std::size_t total = inner.size();
  inner[2] = static_cast<std::uint8_t>(total >> 8);
  inner[3] = static_cast<std::uint8_t>(total);
  auto pkt = encapsulate(inner, "192.0.2.1", "203.0.113.11");
  auto r = d.process(pkt.data(), pkt.size());
  ASSERT_TRUE(r.accept);
  EXPECT_EQ(r.inner_dst, ip("192.0.2.10"));
  pkt.resize(r.len);
  EXPECT_EQ(pkt, inner);
}

// An inner IPv6 packet to ::ffff:VIP4 is not for the IPv4 VIP (vsd keeps
// IPv4 addresses IPv4-mapped, so the plain comparison let it in).
TEST(Decapsulator, AnIpv4MappedInnerDestinationIsNotAVip) {
  Decapsulator d({ip("192.0.2.10")});
  auto inner = test::PacketSpec{}.from("2001:db8:1::2", 40000).to("::ffff:192.0.2.10", 80).build();
  auto pkt = encapsulate(inner, "2001:db8:9::1", "2001:db8:2::11");
  EXPECT_FALSE(d.process(pkt.data(), pkt.size()).accept);
  EXPECT_EQ(d.counters().not_a_vip.get(), 1u);
}

}  // namespace
}  // namespace vsd
