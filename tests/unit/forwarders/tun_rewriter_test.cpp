#include "forwarders/tun_rewriter.hpp"

#include <gtest/gtest.h>

#include <random>

#include "packet_builder.hpp"

namespace vsd {
namespace {

using test::IpHeaderSpec;
using test::PacketSpec;

IpAddress ip(const char* s) { return *IpAddress::parse(s); }

TunParams params(const char* src, const char* dst, std::uint16_t id = 1) {
  TunParams p;
  p.outer_src = ip(src);
  p.outer_dst = ip(dst);
  p.ip_id = id;
  return p;
}

std::vector<std::uint8_t> encapsulate(const std::vector<std::uint8_t>& inner, const TunParams& p,
                                      TunResult* result = nullptr) {
  std::vector<std::uint8_t> out(inner.size() + 40);
  TunResult r = tun_encapsulate(inner, out, p);
  if (result) *result = r;
  EXPECT_EQ(r.status, TunStatus::ok);
  out.resize(r.len);
  return out;
}

std::vector<std::uint8_t> cat(std::vector<std::uint8_t> a, const std::vector<std::uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Golden: the client SYN to the VIP, tunnelled from the director 203.0.113.1
// to the real server 203.0.113.11. The outer header copies DF and TTL 64
// from the inner one; its checksum (c2af) was also computed with Python.
TEST(TunGolden, Ipv4InIpv4) {
  auto inner = PacketSpec{}.build();
  auto out = encapsulate(inner, params("203.0.113.1", "203.0.113.11"));
  std::vector<std::uint8_t> outer = {0x45, 0x00, 0x00, 0x3c, 0x00, 0x01, 0x40, 0x00, 0x40, 0x04,
                                     0xc2, 0xaf, 203,  0,    113,  1,    203,  0,    113,  11};
  EXPECT_EQ(out, cat(outer, inner));
  EXPECT_EQ(out, cat(test::ip_header({"203.0.113.1", "203.0.113.11", 4, inner.size(), 0, 64, 1,
                                      0x4000}),
                     inner));
}

TEST(Tun, Ipv6InIpv6UsesNextHeader41AndInnerHopLimit) {
  PacketSpec s = PacketSpec{}.udp().from("2001:db8:1::2", 5353).to("2001:db8::10", 53).data("q");
  s.ttl = 17;
  auto inner = s.build();
  auto out = encapsulate(inner, params("2001:db8::1", "2001:db8:2::11"));
  EXPECT_EQ(out, cat(test::ip_header({"2001:db8::1", "2001:db8:2::11", 41, inner.size(), 0, 17}),
                     inner));
}

TEST(Tun, MixedFamiliesAsIpvsAllows) {
  auto inner6 = PacketSpec{}.from("2001:db8:1::2", 40000).to("2001:db8::10", 80).build();
  auto out = encapsulate(inner6, params("203.0.113.1", "203.0.113.11", 7));
  // IPv6 inside IPv4: protocol 41, DF never set.
  EXPECT_EQ(out, cat(test::ip_header({"203.0.113.1", "203.0.113.11", 41, inner6.size(), 0, 64, 7,
                                      0}),
                     inner6));
  auto inner4 = PacketSpec{}.build();
  out = encapsulate(inner4, params("2001:db8::1", "2001:db8:2::11"));
  EXPECT_EQ(out, cat(test::ip_header({"2001:db8::1", "2001:db8:2::11", 4, inner4.size(), 0, 64}),
                     inner4));
}

TEST(Tun, DsfieldCopiedAndCeBecomesEct0) {
  auto inner = PacketSpec{}.build();
  struct Case { std::uint8_t in, out; };
  for (Case c : {Case{0xb8, 0xb8}, Case{0xb9, 0xb9}, Case{0xba, 0xba}, Case{0xbb, 0xba}}) {
    inner[1] = c.in;
    test::fill_ipv4_header_checksum(inner);
    auto out = encapsulate(inner, params("203.0.113.1", "203.0.113.11"));
    EXPECT_EQ(out[1], c.out) << int(c.in);
    EXPECT_TRUE(test::ipv4_header_checksum_ok(out));
    auto out6 = encapsulate(inner, params("2001:db8::1", "2001:db8::2"));
    EXPECT_EQ(((out6[0] & 0x0f) << 4) | (out6[1] >> 4), c.out) << int(c.in);
  }
  // And from an IPv6 inner traffic class.
  auto inner6 = PacketSpec{}.from("2001:db8:1::2", 1).to("2001:db8::10", 2).build();
  inner6[0] = 0x6b;
  inner6[1] = 0xb0;  // traffic class 0xbb: DSCP 46, CE
  auto out = encapsulate(inner6, params("203.0.113.1", "203.0.113.11"));
  EXPECT_EQ(out[1], 0xba);
}

TEST(Tun, DfFollowsInnerAndPmtuDisc) {
  auto inner = PacketSpec{}.build();  // DF set
  auto p = params("203.0.113.1", "203.0.113.11");
  EXPECT_EQ(test::get16(encapsulate(inner, p), 6), 0x4000);
  p.pmtu_disc = false;
  EXPECT_EQ(test::get16(encapsulate(inner, p), 6), 0);
  p.pmtu_disc = true;
  test::put16(inner, 6, 0);
  test::fill_ipv4_header_checksum(inner);
  EXPECT_EQ(test::get16(encapsulate(inner, p), 6), 0);
}

TEST(Tun, MtuChecks) {
  auto big = PacketSpec{}.data(std::string(1460, 'x')).build();  // 1500 bytes, DF
  ASSERT_EQ(big.size(), 1500u);
  std::vector<std::uint8_t> out(2000);
  auto p = params("203.0.113.1", "203.0.113.11");
  p.mtu = 1500;
  TunResult r = tun_encapsulate(big, out, p);
  EXPECT_EQ(r.status, TunStatus::too_big);
  EXPECT_EQ(r.mtu, 1480u);
  // Without DF the outer packet (DF clear too) may be fragmented: sent.
  auto nodf = big;
  test::put16(nodf, 6, 0);
  test::fill_ipv4_header_checksum(nodf);
  r = tun_encapsulate(nodf, out, p);
  EXPECT_EQ(r.status, TunStatus::ok);
  EXPECT_EQ(r.len, 1520u);
  // pmtu_disc off: IPVS fragments anyway.
  p.pmtu_disc = false;
  EXPECT_EQ(tun_encapsulate(big, out, p).status, TunStatus::ok);
  p.pmtu_disc = true;
  // Exactly fitting is fine.
  auto fits = PacketSpec{}.data(std::string(1440, 'x')).build();
  EXPECT_EQ(tun_encapsulate(fits, out, p).status, TunStatus::ok);
  // IPv6 inner: never fragmented, whatever pmtu_disc says.
  auto big6 = PacketSpec{}.from("2001:db8:1::2", 1).to("2001:db8::10", 2).data(std::string(1440, 'x')).build();
  ASSERT_EQ(big6.size(), 1500u);
  auto p6 = params("2001:db8::1", "2001:db8::2");
  p6.mtu = 1500;
  p6.pmtu_disc = false;
  r = tun_encapsulate(big6, out, p6);
  EXPECT_EQ(r.status, TunStatus::too_big);
  EXPECT_EQ(r.mtu, 1460u);
  // Route MTUs that leave too little room: IPVS drops.
  p6.mtu = 1319;
  EXPECT_EQ(tun_encapsulate(big6, out, p6).status, TunStatus::mtu_too_small);
  p6.mtu = 1320;
  EXPECT_EQ(tun_encapsulate(big6, out, p6).status, TunStatus::too_big);
  p.mtu = 87;
  EXPECT_EQ(tun_encapsulate(fits, out, p).status, TunStatus::mtu_too_small);
  p.mtu = 0;  // unchecked
  EXPECT_EQ(tun_encapsulate(big, out, p).status, TunStatus::ok);
}

TEST(Tun, NoRoomLeavesOutputUntouched) {
  auto inner = PacketSpec{}.data("abc").build();
  std::vector<std::uint8_t> out(inner.size() + 19, 0xee);
  EXPECT_EQ(tun_encapsulate(inner, out, params("203.0.113.1", "203.0.113.11")).status,
            TunStatus::no_room);
  EXPECT_EQ(out, std::vector<std::uint8_t>(inner.size() + 19, 0xee));
  std::vector<std::uint8_t> out6(inner.size() + 39);
  EXPECT_EQ(tun_encapsulate(inner, out6, params("2001:db8::1", "2001:db8::2")).status,
            TunStatus::no_room);
}

TEST(Tun, InPlaceWithHeadroomAndWithout) {
  auto inner = PacketSpec{}.data("hello").build();
  auto p = params("203.0.113.1", "203.0.113.11");
  auto expect = encapsulate(inner, p);
  // The inner packet already sits after 20 bytes of headroom: no copy.
  std::vector<std::uint8_t> buf(20 + inner.size());
  std::copy(inner.begin(), inner.end(), buf.begin() + 20);
  TunResult r = tun_encapsulate(std::span(buf).subspan(20), buf, p);
  ASSERT_EQ(r.status, TunStatus::ok);
  EXPECT_EQ(buf, expect);
  // The inner packet at the very start of the output: moved up.
  std::vector<std::uint8_t> buf2(inner.size() + 20);
  std::copy(inner.begin(), inner.end(), buf2.begin());
  r = tun_encapsulate(std::span(buf2).first(inner.size()), buf2, p);
  ASSERT_EQ(r.status, TunStatus::ok);
  EXPECT_EQ(buf2, expect);
}

TEST(Tun, InnerLengthFromItsHeaderTrailingBytesIgnored) {
  auto inner = PacketSpec{}.build();
  auto padded = inner;
  padded.resize(inner.size() + 6, 0);  // Ethernet-style padding
  auto p = params("203.0.113.1", "203.0.113.11");
  EXPECT_EQ(encapsulate(padded, p), encapsulate(inner, p));
}

TEST(Tun, RejectsBadInnerAndMixedOuter) {
  std::vector<std::uint8_t> out(200);
  auto p = params("203.0.113.1", "203.0.113.11");
  auto inner = PacketSpec{}.build();
  auto check = [&](std::vector<std::uint8_t> in, const char* why) {
    EXPECT_EQ(tun_encapsulate(in, out, p).status, TunStatus::bad_inner) << why;
  };
  check({}, "empty");
  check(std::vector<std::uint8_t>(inner.begin(), inner.begin() + 19), "short");
  check(std::vector<std::uint8_t>(inner.begin(), inner.end() - 1), "total length beyond bytes");
  auto v5 = inner;
  v5[0] = 0x55;
  check(v5, "version 5");
  auto ihl = inner;
  ihl[0] = 0x44;
  check(ihl, "IHL 4");
  auto tot = inner;
  test::put16(tot, 2, 19);
  check(tot, "total length under header");
  auto six = PacketSpec{}.from("2001:db8:1::2", 1).to("2001:db8::10", 2).build();
  test::put16(six, 4, 0);
  check(six, "jumbogram");
  auto mixed = params("203.0.113.1", "2001:db8::2");
  EXPECT_EQ(tun_encapsulate(inner, out, mixed).status, TunStatus::bad_outer);
}

TEST(Tun, DecrementInnerTtlLikeIpvs) {
  auto inner = PacketSpec{}.build();
  auto p = params("203.0.113.1", "203.0.113.11");
  p.decrement_inner_ttl = true;
  auto out = encapsulate(inner, p);
  EXPECT_EQ(out[8], 63);        // outer copies the decremented TTL
  EXPECT_EQ(out[20 + 8], 63);   // inner TTL
  std::vector<std::uint8_t> in_copy(out.begin() + 20, out.end());
  EXPECT_TRUE(test::ipv4_header_checksum_ok(in_copy));
  auto six = PacketSpec{}.from("2001:db8:1::2", 1).to("2001:db8::10", 2).build();
  auto p6 = params("2001:db8::1", "2001:db8::2");
  p6.decrement_inner_ttl = true;
  out = encapsulate(six, p6);
  EXPECT_EQ(out[7], 63);
  EXPECT_EQ(out[40 + 7], 63);
  inner[8] = 1;
  test::fill_ipv4_header_checksum(inner);
  std::vector<std::uint8_t> buf(200);
  EXPECT_EQ(tun_encapsulate(inner, buf, p).status, TunStatus::ttl_expired);
}

TEST(Tun, RoundTripRandom) {
  std::mt19937 rng(7);
  const char* v4[] = {"198.51.100.2", "203.0.113.11", "192.0.2.10"};
  const char* v6[] = {"2001:db8:1::2", "2001:db8::10", "2001:db8:2::11"};
  for (int i = 0; i < 1000; ++i) {
    const bool in6 = rng() & 1, out6 = rng() & 1;
    PacketSpec s;
    const char* const* inner_pool = in6 ? v6 : v4;
    s.src = inner_pool[rng() % 3];
    s.dst = inner_pool[rng() % 3];
    if (rng() & 1) s.udp();
    s.payload.assign(rng() % 200, 'p');
    s.ttl = static_cast<std::uint8_t>(1 + rng() % 255);
    auto inner = s.build();
    const char* const* outer_pool = out6 ? v6 : v4;
    const char* outer_src = outer_pool[rng() % 3];
    const char* outer_dst = outer_pool[rng() % 3];
    auto p = params(outer_src, outer_dst, static_cast<std::uint16_t>(rng()));
    auto out = encapsulate(inner, p);
    ASSERT_EQ(out.size(), inner.size() + (out6 ? 40 : 20));
    if (!out6) {
      EXPECT_TRUE(test::ipv4_header_checksum_ok(out));
    }
    DecapResult d = tun_decapsulate(out);
    ASSERT_EQ(d.status, DecapStatus::ok) << i << " " << to_string(d.status);
    EXPECT_EQ(d.outer_src, p.outer_src);
    EXPECT_EQ(d.outer_dst, p.outer_dst);
    EXPECT_EQ(std::vector<std::uint8_t>(d.inner.begin(), d.inner.end()), inner) << i;
  }
}

std::vector<std::uint8_t> tunnel4(const std::vector<std::uint8_t>& inner, std::uint8_t proto = 4,
                                  std::uint16_t frag = 0, std::uint8_t tos = 0) {
  return cat(test::ip_header({"203.0.113.1", "203.0.113.11", proto, inner.size(), tos, 64, 9, frag}),
             inner);
}

TEST(Decap, ValidatesOuterHeader) {
  auto inner = PacketSpec{}.build();
  auto good = tunnel4(inner);
  ASSERT_EQ(tun_decapsulate(good).status, DecapStatus::ok);
  auto st = [](std::vector<std::uint8_t> p) { return tun_decapsulate(p).status; };
  EXPECT_EQ(st({}), DecapStatus::truncated);
  EXPECT_EQ(st(test::head(good, 19)), DecapStatus::truncated);
  EXPECT_EQ(st(test::head(good, good.size() - 1)), DecapStatus::truncated);
  auto v = good;
  v[0] = 0x75;
  EXPECT_EQ(st(v), DecapStatus::bad_version);
  auto ihl = good;
  ihl[0] = 0x44;
  EXPECT_EQ(st(ihl), DecapStatus::bad_ihl);
  ihl[0] = 0x4f;  // 60 bytes, more than the 40 given
  EXPECT_EQ(st(test::head(ihl, 40)), DecapStatus::bad_ihl);
  auto tot = good;
  test::put16(tot, 2, 12);
  test::fill_ipv4_header_checksum(tot);
  EXPECT_EQ(st(tot), DecapStatus::bad_total_length);
  auto sum = good;
  sum[11] ^= 1;
  EXPECT_EQ(st(sum), DecapStatus::bad_checksum);
  EXPECT_EQ(st(tunnel4(inner, 4, 0x2000)), DecapStatus::fragment);  // MF
  EXPECT_EQ(st(tunnel4(inner, 4, 0x0001)), DecapStatus::fragment);  // offset
  EXPECT_EQ(st(tunnel4(inner, 6)), DecapStatus::not_tunnel);
  EXPECT_EQ(st(inner), DecapStatus::not_tunnel);  // a plain TCP packet
  EXPECT_EQ(st(tunnel4(inner, 41)), DecapStatus::bad_inner);  // IPv4 inside "IPv6"
  EXPECT_EQ(st(tunnel4(test::head(inner, 30))), DecapStatus::bad_inner);  // inner cut short
  EXPECT_EQ(st(tunnel4({})), DecapStatus::bad_inner);
  // Bytes after the outer packet's own length (link padding) are ignored,
  // and so are bytes after the inner packet's own length.
  auto padded = good;
  padded.resize(good.size() + 10, 0);
  DecapResult d = tun_decapsulate(padded);
  ASSERT_EQ(d.status, DecapStatus::ok);
  EXPECT_EQ(d.inner.size(), inner.size());
  auto inner_padded = inner;
  inner_padded.resize(inner.size() + 4, 0);
  auto tunnelled_padded = tunnel4(inner_padded);
  d = tun_decapsulate(tunnelled_padded);
  ASSERT_EQ(d.status, DecapStatus::ok);
  EXPECT_EQ(d.inner.size(), inner.size());
}

TEST(Decap, Ipv6OuterWithDestinationOptions) {
  auto inner = PacketSpec{}.from("2001:db8:1::2", 1).to("2001:db8::10", 2).build();
  // RFC 2473 tunnel encapsulation limit option (type 4, length 1, limit 4)
  // and PadN to 8 bytes.
  std::vector<std::uint8_t> dstopt = {41, 0, 4, 1, 4, 1, 1, 0};
  auto pkt = cat(cat(test::ip_header({"2001:db8::1", "2001:db8::2", 60, 8 + inner.size()}), dstopt),
                 inner);
  DecapResult d = tun_decapsulate(pkt);
  ASSERT_EQ(d.status, DecapStatus::ok);
  EXPECT_EQ(std::vector<std::uint8_t>(d.inner.begin(), d.inner.end()), inner);
  EXPECT_EQ(d.outer_family, Family::v6);
  auto cut = test::head(pkt, 45);
  EXPECT_EQ(tun_decapsulate(cut).status, DecapStatus::truncated);
  auto frag = cat(cat(test::ip_header({"2001:db8::1", "2001:db8::2", 44, 8 + inner.size()}),
                      std::vector<std::uint8_t>{41, 0, 0, 1, 0, 0, 0, 1}),
                  inner);
  EXPECT_EQ(tun_decapsulate(frag).status, DecapStatus::fragment);
  auto jumbo = test::ip_header({"2001:db8::1", "2001:db8::2", 41, 0});
  EXPECT_EQ(tun_decapsulate(jumbo).status, DecapStatus::bad_total_length);
}

TEST(Decap, EcnCePropagatesPerRfc6040) {
  auto inner = PacketSpec{}.build();
  inner[1] = 0x02;  // ECT(0)
  test::fill_ipv4_header_checksum(inner);
  auto pkt = tunnel4(inner, 4, 0, 0x03);  // outer CE
  DecapResult d = tun_decapsulate(pkt);
  ASSERT_EQ(d.status, DecapStatus::ok);
  std::vector<std::uint8_t> got(d.inner.begin(), d.inner.end());
  EXPECT_EQ(got[1], 0x03);
  EXPECT_TRUE(test::ipv4_header_checksum_ok(got));
  // CE over a Not-ECT packet cannot be passed on: drop.
  auto plain = PacketSpec{}.build();
  auto ce_plain = tunnel4(plain, 4, 0, 0x03);
  EXPECT_EQ(tun_decapsulate(ce_plain).status, DecapStatus::ecn_drop);
  // ECT outside, Not-ECT inside: accepted unchanged.
  auto ect = tunnel4(plain, 4, 0, 0x02);
  d = tun_decapsulate(ect);
  ASSERT_EQ(d.status, DecapStatus::ok);
  EXPECT_EQ(std::vector<std::uint8_t>(d.inner.begin(), d.inner.end()), plain);
  // IPv6 inner: traffic class ECN bits.
  auto six = PacketSpec{}.from("2001:db8:1::2", 1).to("2001:db8::10", 2).build();
  six[1] = 0x10;  // ECT(1)
  auto pkt6 = cat(test::ip_header({"2001:db8::1", "2001:db8::2", 41, six.size(), 0x03}), six);
  d = tun_decapsulate(pkt6);
  ASSERT_EQ(d.status, DecapStatus::ok);
  EXPECT_EQ(d.inner[1], 0x30);
}

// Random truncations and byte changes of valid tunnel packets: every result
// is a status, and an ok inner view lies inside the buffer. Each input is an
// exactly-sized heap copy so that ASan sees any read past the end.
TEST(Decap, FuzzNeverReadsOutOfBounds) {
  std::mt19937 rng(2024);
  std::vector<std::vector<std::uint8_t>> seeds;
  auto in4 = PacketSpec{}.data("seed").build();
  auto in6 = PacketSpec{}.udp().from("2001:db8:1::2", 1).to("2001:db8::10", 2).data("seed").build();
  for (auto* p : {&in4, &in6}) {
    seeds.push_back(encapsulate(*p, params("203.0.113.1", "203.0.113.11")));
    seeds.push_back(encapsulate(*p, params("2001:db8::1", "2001:db8::2")));
  }
  std::size_t ok = 0;
  for (int i = 0; i < 50000; ++i) {
    auto p = seeds[rng() % seeds.size()];
    p.resize(rng() % (p.size() + 1));
    for (int flips = static_cast<int>(rng() % 4); flips > 0 && !p.empty(); --flips)
      p[rng() % p.size()] = static_cast<std::uint8_t>(rng());
    if (!p.empty() && (rng() % 3) == 0) p[0] = static_cast<std::uint8_t>((p[0] & 0x0f) | ((rng() & 1) ? 0x40 : 0x60));
    std::vector<std::uint8_t> exact(p);
    DecapResult d = tun_decapsulate(exact);
    if (d.status == DecapStatus::ok) {
      ++ok;
      ASSERT_GE(d.inner.data(), exact.data());
      ASSERT_LE(d.inner.data() + d.inner.size(), exact.data() + exact.size());
    }
    // The same bytes as an inner packet to encapsulate.
    std::vector<std::uint8_t> out(exact.size() + 40);
    TunResult r = tun_encapsulate(exact, out, params("203.0.113.1", "203.0.113.11"));
    if (r.status == TunStatus::ok) {
      ASSERT_LE(r.len, out.size());
    }
  }
  EXPECT_GT(ok, 100u);  // the mutations leave enough packets intact to matter
}

}  // namespace
}  // namespace vsd
