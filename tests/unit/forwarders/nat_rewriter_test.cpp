#include "forwarders/nat_rewriter.hpp"

#include <gtest/gtest.h>

#include <random>

#include "forwarders/checksum.hpp"
#include "packet_builder.hpp"

namespace vsd {
namespace {

using test::PacketSpec;

IpAddress ip(const char* s) { return *IpAddress::parse(s); }

std::vector<std::uint8_t> hex(const char* s) {
  std::vector<std::uint8_t> out;
  std::string h;
  for (const char* p = s; *p; ++p)
    if (std::isxdigit(static_cast<unsigned char>(*p))) h += *p;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(std::stoi(h.substr(i, 2), nullptr, 16)));
  return out;
}

PacketView view(std::vector<std::uint8_t>& p) {
  PacketView v;
  EXPECT_EQ(parse_packet(p.data(), p.size(), v), ParseStatus::ok);
  return v;
}

// Golden: a client SYN 198.51.100.2:40000 -> 192.0.2.10:80, rewritten to
// the real server 203.0.113.11:8000. Bytes pinned so any change is caught;
// the checksums were also checked with a third, Python, implementation.
TEST(NatGolden, Ipv4TcpDestination) {
  auto before = hex(
      "45000028 12344000 40063c5c c6336402 c000020a"
      "9c400050 01020000 00000000 5002faf0 2b1f0000");
  ASSERT_EQ(before, PacketSpec{}.build());
  ASSERT_TRUE(test::ipv4_header_checksum_ok(before));
  ASSERT_TRUE(test::l4_checksum_ok(before));
  auto after = before;
  auto v = view(after);
  ASSERT_TRUE(nat_rewrite_destination(v, ip("203.0.113.11"), 8000, ChecksumState::complete));
  EXPECT_EQ(after, hex("45000028 12344000 4006c25a c6336402 cb00710b"
                       "9c401f40 01020000 00000000 5002faf0 922d0000"));
  EXPECT_TRUE(test::ipv4_header_checksum_ok(after));
  EXPECT_TRUE(test::l4_checksum_ok(after));
}

// Golden: an IPv6 UDP reply from [2001:db8:2::11]:9000 back to the client,
// source turned into the VIP [2001:db8::10]:53.
TEST(NatGolden, Ipv6UdpSource) {
  auto before = PacketSpec{}.udp().from("2001:db8:2::11", 9000).to("2001:db8:1::2", 5353).data("pong").build();
  auto after = before;
  auto v = view(after);
  ASSERT_TRUE(nat_rewrite_source(v, ip("2001:db8::10"), 53, ChecksumState::complete));
  auto expect = PacketSpec{}.udp().from("2001:db8::10", 53).to("2001:db8:1::2", 5353).data("pong").build();
  EXPECT_EQ(after, expect);
  EXPECT_EQ(after, hex("60000000 000c1140 20010db8 00000000 00000000 00000010"
                       "20010db8 00010000 00000000 00000002 003514e9 000cb05c 706f6e67"));
}

TEST(Nat, RandomPacketsBothDirectionsMatchRebuild) {
  std::mt19937 rng(1234);
  const char* v4[] = {"198.51.100.2", "198.51.100.77", "203.0.113.11", "192.0.2.10"};
  const char* v6[] = {"2001:db8:1::2", "2001:db8::10", "2001:db8:2::11", "2001:db8:ffff::1"};
  for (int i = 0; i < 2000; ++i) {
    bool six = rng() & 1;
    const char** pool = six ? v6 : v4;
    PacketSpec s;
    s.src = pool[rng() % 4];
    s.dst = pool[rng() % 4];
    s.proto = (rng() & 1) ? IPPROTO_TCP : IPPROTO_UDP;
    s.sport = static_cast<std::uint16_t>(rng());
    s.dport = static_cast<std::uint16_t>(rng());
    s.tcp_flags = static_cast<std::uint8_t>(rng());
    s.payload.assign(rng() % 300, 'x');
    for (auto& c : s.payload) c = static_cast<char>(rng());
    auto pkt = s.build();
    const std::string to = pool[rng() % 4];
    const auto port = static_cast<std::uint16_t>(rng());
    bool dest = rng() & 1;
    bool partial = rng() & 1;
    if (partial) test::make_checksum_partial(pkt);
    auto v = view(pkt);
    auto cs = partial ? ChecksumState::not_ready : ChecksumState::complete;
    ASSERT_TRUE(dest ? nat_rewrite_destination(v, ip(to.c_str()), port, cs)
                     : nat_rewrite_source(v, ip(to.c_str()), port, cs));
    PacketSpec r = s;
    if (dest) r.to(to, port); else r.from(to, port);
    auto rebuilt = r.build();
    EXPECT_TRUE(test::l4_checksum_ok(pkt)) << i;
    if (!six) {
      EXPECT_TRUE(test::ipv4_header_checksum_ok(pkt)) << i;
    }
    // Identical bytes, except that 0x0000 and 0xffff are the same checksum.
    auto co = test::check_offset_of(pkt);
    if (test::get16(pkt, co) == 0xffff && test::get16(rebuilt, co) == 0) test::put16(rebuilt, co, 0xffff);
    if (test::get16(pkt, co) == 0 && test::get16(rebuilt, co) == 0xffff) test::put16(rebuilt, co, 0);
    EXPECT_EQ(pkt, rebuilt) << i;
    EXPECT_EQ(dest ? v.dport : v.sport, port);
  }
}

TEST(Nat, Ipv4UdpWithoutChecksumStaysWithout) {
  PacketSpec s;
  s.udp().data("hello");
  s.udp_zero_checksum = true;
  auto pkt = s.build();
  auto v = view(pkt);
  ASSERT_TRUE(nat_rewrite_destination(v, ip("203.0.113.12"), 9000, ChecksumState::complete));
  EXPECT_EQ(test::get16(pkt, test::check_offset_of(pkt)), 0);
  EXPECT_TRUE(test::ipv4_header_checksum_ok(pkt));
}

TEST(Nat, RefusesFamilyMismatchAndNonTcpUdp) {
  auto pkt = PacketSpec{}.build();
  auto orig = pkt;
  auto v = view(pkt);
  EXPECT_FALSE(nat_rewrite_destination(v, ip("2001:db8::1"), 80, ChecksumState::complete));
  EXPECT_EQ(pkt, orig);
  // ICMP echo: not rewritten by NAT.
  std::vector<std::uint8_t> icmp = {0x45, 0, 0, 28, 0, 0, 0x40, 0, 64, 1, 0, 0, 198, 51, 100, 2,
                                    192, 0, 2, 10, 8, 0, 0xf7, 0xff, 0, 0, 0, 0};
  auto iv = view(icmp);
  EXPECT_FALSE(nat_rewrite_destination(iv, ip("203.0.113.11"), 0, ChecksumState::complete));
}

TEST(Checksum, FastAddMatchesNaiveForAllLengthsAndOffsets) {
  std::mt19937 rng(99);
  std::vector<std::uint8_t> buf(300);
  for (auto& b : buf) b = static_cast<std::uint8_t>(rng());
  for (std::size_t len = 0; len < 200; ++len) {
    std::vector<std::uint8_t> part(buf.begin() + 3, buf.begin() + 3 + static_cast<long>(len));
    EXPECT_EQ(csum::fold(csum::add(part.data(), part.size())) % 0xffff, test::naive_sum(part) % 0xffff) << len;
  }
}

}  // namespace
}  // namespace vsd
