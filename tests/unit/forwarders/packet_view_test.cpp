#include "forwarders/packet_view.hpp"

#include <gtest/gtest.h>

#include <random>

#include "packet_builder.hpp"

namespace vsd {
namespace {

using test::PacketSpec;

ParseStatus parse(std::vector<std::uint8_t>& p, PacketView* out = nullptr) {
  PacketView v;
  auto st = parse_packet(p.data(), p.size(), v);
  if (out) *out = v;
  return st;
}

TEST(PacketView, ParsesTcpAndUdpBothFamilies) {
  auto t4 = PacketSpec{}.flags(0x12).data("abc").build();
  PacketView v;
  ASSERT_EQ(parse(t4, &v), ParseStatus::ok);
  EXPECT_EQ(v.family, Family::v4);
  EXPECT_EQ(v.src.to_string(), "198.51.100.2");
  EXPECT_EQ(v.dst.to_string(), "192.0.2.10");
  EXPECT_EQ(v.sport, 40000);
  EXPECT_EQ(v.dport, 80);
  EXPECT_EQ(v.tcp_flags, 0x12);
  EXPECT_EQ(v.l4_offset, 20u);
  EXPECT_EQ(v.len, t4.size());
  auto u6 = PacketSpec{}.udp().from("2001:db8:1::2", 5000).to("2001:db8::10", 53).build();
  ASSERT_EQ(parse(u6, &v), ParseStatus::ok);
  EXPECT_EQ(v.family, Family::v6);
  EXPECT_EQ(v.l4proto, IPPROTO_UDP);
  EXPECT_EQ(v.dport, 53);
  EXPECT_EQ(v.l4_offset, 40u);
}

TEST(PacketView, EveryMalformedKindHasItsStatus) {
  auto p = PacketSpec{}.build();
  std::vector<std::uint8_t> empty;
  EXPECT_EQ(parse(empty), ParseStatus::truncated_ip);
  auto shortp = std::vector<std::uint8_t>(p.begin(), p.begin() + 10);
  EXPECT_EQ(parse(shortp), ParseStatus::truncated_ip);
  auto ver = p;
  ver[0] = 0x55;
  EXPECT_EQ(parse(ver), ParseStatus::bad_version);
  auto ihl = p;
  ihl[0] = 0x44;
  EXPECT_EQ(parse(ihl), ParseStatus::bad_ihl);
  auto ihl_big = p;
  ihl_big[0] = 0x4f;  // 60 bytes > 40 present
  EXPECT_EQ(parse(ihl_big), ParseStatus::bad_ihl);
  auto tot0 = p;
  test::put16(tot0, 2, 0);
  EXPECT_EQ(parse(tot0), ParseStatus::bad_total_length);
  auto totbig = p;
  test::put16(totbig, 2, 1500);
  EXPECT_EQ(parse(totbig), ParseStatus::truncated_ip);
  auto mf = p;
  test::put16(mf, 6, 0x2000);
  EXPECT_EQ(parse(mf), ParseStatus::fragment);
  auto off = p;
  test::put16(off, 6, 0x0010);
  EXPECT_EQ(parse(off), ParseStatus::fragment);
  auto l4cut = p;
  test::put16(l4cut, 2, 30);  // IP says 30 bytes: 10 bytes of TCP
  EXPECT_EQ(parse(l4cut), ParseStatus::truncated_l4);
  auto doff = p;
  doff[20 + 12] = 0x40;  // data offset 4 words < 5
  EXPECT_EQ(parse(doff), ParseStatus::truncated_l4);
  auto gre = p;
  gre[9] = 47;
  PacketView v;
  EXPECT_EQ(parse(gre, &v), ParseStatus::unsupported_protocol);
  EXPECT_EQ(v.dst.to_string(), "192.0.2.10");
  auto v6 = PacketSpec{}.from("2001:db8:1::2", 1).to("2001:db8::10", 80).build();
  auto v6frag = v6;
  v6frag[6] = 44;
  EXPECT_EQ(parse(v6frag), ParseStatus::fragment);
  auto v6zero = v6;
  test::put16(v6zero, 4, 0);
  EXPECT_EQ(parse(v6zero), ParseStatus::bad_total_length);
}

TEST(PacketView, Ipv6ExtensionHeadersAreWalked) {
  auto p = PacketSpec{}.udp().from("2001:db8:1::2", 7).to("2001:db8::10", 53).data("x").build();
  // Insert an 8-byte hop-by-hop header (next = UDP, len 0, PadN).
  std::vector<std::uint8_t> hbh = {IPPROTO_UDP, 0, 1, 4, 0, 0, 0, 0};
  p.insert(p.begin() + 40, hbh.begin(), hbh.end());
  p[6] = 0;
  test::put16(p, 4, static_cast<std::uint16_t>(p.size() - 40));
  PacketView v;
  ASSERT_EQ(parse(p, &v), ParseStatus::ok);
  EXPECT_EQ(v.l4_offset, 48u);
  EXPECT_EQ(v.dport, 53);
  // An extension header running past the packet.
  p[41] = 200;
  EXPECT_EQ(parse(p), ParseStatus::truncated_l4);
}

TEST(PacketView, IcmpIsParsed) {
  std::vector<std::uint8_t> icmp = {0x45, 0, 0, 28, 0, 0, 0x40, 0, 64, 1, 0, 0, 198, 51, 100, 2,
                                    192, 0, 2, 10, 3, 4, 0, 0, 0, 0, 5, 0xdc};
  PacketView v;
  ASSERT_EQ(parse(icmp, &v), ParseStatus::ok);
  EXPECT_EQ(v.icmp_type, 3);
  EXPECT_EQ(v.icmp_code, 4);
}

// Random bytes, truncations and bit flips of valid packets: the parser must
// answer every one without reading out of bounds (run under ASan in CI).
TEST(PacketView, SurvivesMutatedAndRandomInput) {
  std::mt19937 rng(2024);
  std::vector<std::vector<std::uint8_t>> seeds = {
      PacketSpec{}.data("payload").build(),
      PacketSpec{}.udp().from("2001:db8:1::2", 1).to("2001:db8::10", 2).data("zz").build()};
  std::size_t ok = 0;
  for (int i = 0; i < 300000; ++i) {
    std::vector<std::uint8_t> p;
    if (i % 3 == 0) {
      p.resize(rng() % 90);
      for (auto& b : p) b = static_cast<std::uint8_t>(rng());
      if (!p.empty()) p[0] = static_cast<std::uint8_t>((rng() & 1 ? 0x40 : 0x60) | (rng() & 0x0f));
    } else {
      p = seeds[rng() % seeds.size()];
      for (int f = static_cast<int>(rng() % 4); f >= 0; --f) p[rng() % p.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
      p.resize(rng() % (p.size() + 1));
    }
    // Copy into an exact-size heap buffer so ASan sees any overread.
    auto* buf = new std::uint8_t[p.size() + 1];
    std::copy(p.begin(), p.end(), buf);
    PacketView v;
    ParseStatus st = parse_packet(buf, p.size(), v);
    if (st == ParseStatus::ok) {
      ++ok;
      EXPECT_LE(v.l4_offset, v.len);
      EXPECT_LE(v.len, p.size());
    }
    delete[] buf;
  }
  EXPECT_GT(ok, 0u);
}

}  // namespace
}  // namespace vsd
