#include "forwarders/icmp_builder.hpp"

#include <gtest/gtest.h>

#include <random>

#include "forwarders/packet_view.hpp"
#include "packet_builder.hpp"

namespace vsd {
namespace {

using test::PacketSpec;

// The reply in `out` (by reference: the call that fills it is evaluated
// before this function runs).
std::vector<std::uint8_t> build(const IcmpBuildResult& r, const std::vector<std::uint8_t>& out) {
  EXPECT_EQ(r.status, IcmpBuildStatus::ok) << to_string(r.status);
  return test::head(out, r.len);
}

std::vector<std::uint8_t> frag_needed(const std::vector<std::uint8_t>& orig, std::uint16_t mtu,
                                      std::uint16_t id = 0x42) {
  std::vector<std::uint8_t> out(kIcmpReplyMax);
  return build(icmp_build_frag_needed(orig, mtu, out, {id, 64}), out);
}

std::vector<std::uint8_t> too_big6(const std::vector<std::uint8_t>& orig, std::uint32_t mtu) {
  std::vector<std::uint8_t> out(kIcmp6ReplyMax);
  return build(icmp6_build_packet_too_big(orig, mtu, out), out);
}

// The reference reply: the test builder's ICMP error with the kernel's
// IPv4 header fields for an error (TOS precedence 0xc0, the caller's ID).
std::vector<std::uint8_t> expected_v4(const std::vector<std::uint8_t>& orig, std::uint8_t type,
                                      std::uint8_t code, std::uint32_t info, std::size_t quote,
                                      std::uint8_t tos = 0xc0, std::uint16_t id = 0x42) {
  auto p = test::icmp_error_packet("192.0.2.10", "198.51.100.2", type, code, info,
                                   test::head(orig, quote));
  p[1] = tos;
  test::put16(p, 4, id);
  test::fill_ipv4_header_checksum(p);
  return p;
}

PacketSpec v6spec() { return PacketSpec{}.from("2001:db8:1::2", 40000).to("2001:db8::10", 80); }

// Golden: frag needed (MTU 1480) for the client's 40-byte SYN to the VIP:
// from the VIP back to the client, the whole packet quoted. Header bytes
// pinned; both checksums (8d77, e38e) were also computed with Python.
TEST(IcmpBuilderGolden, FragNeededForSmallPacket) {
  auto orig = PacketSpec{}.build();
  auto got = frag_needed(orig, 1480);
  std::vector<std::uint8_t> head = {0x45, 0xc0, 0x00, 0x44, 0x00, 0x42, 0x00, 0x00, 0x40, 0x01,
                                    0x8d, 0x77, 192,  0,    2,    10,   198,  51,   100,  2,
                                    0x03, 0x04, 0xe3, 0x8e, 0x00, 0x00, 0x05, 0xc8};
  head.insert(head.end(), orig.begin(), orig.end());
  EXPECT_EQ(got, head);
  EXPECT_EQ(got, expected_v4(orig, 3, 4, 1480, orig.size()));
}

TEST(IcmpBuilder, FragNeededQuotesUpTo576Bytes) {
  auto orig = PacketSpec{}.data(std::string(1460, 'z')).build();
  auto got = frag_needed(orig, 1400, 7);
  ASSERT_EQ(got.size(), 576u);
  EXPECT_EQ(got, expected_v4(orig, 3, 4, 1400, 548, 0xc0, 7));
  EXPECT_TRUE(test::ipv4_header_checksum_ok(got));
  EXPECT_TRUE(test::icmp_checksum_ok(got));
  // The reply parses as an ICMP packet from the VIP to the client.
  PacketView v;
  ASSERT_EQ(parse_packet(got.data(), got.size(), v), ParseStatus::ok);
  EXPECT_EQ(v.l4proto, IPPROTO_ICMP);
  EXPECT_EQ(v.src.to_string(), "192.0.2.10");
  EXPECT_EQ(v.dst.to_string(), "198.51.100.2");
  EXPECT_EQ(v.icmp_type, 3);
  EXPECT_EQ(v.icmp_code, 4);
}

TEST(IcmpBuilder, TosKeepsTypeOfServiceBitsWithControlPrecedence) {
  auto orig = PacketSpec{}.build();
  orig[1] = 0xb9;  // DSCP EF, ECT(1)
  test::fill_ipv4_header_checksum(orig);
  EXPECT_EQ(frag_needed(orig, 1400)[1], 0xd8);  // (0xb9 & 0x1e) | 0xc0
}

TEST(IcmpBuilder, PacketTooBigQuotesUpTo1280Bytes) {
  auto orig = v6spec().data(std::string(1440, 'z')).build();
  ASSERT_EQ(orig.size(), 1500u);
  auto got = too_big6(orig, 1280);
  ASSERT_EQ(got.size(), 1280u);
  EXPECT_EQ(got, test::icmp_error_packet("2001:db8::10", "2001:db8:1::2", 2, 0, 1280,
                                         test::head(orig, 1232)));
  EXPECT_TRUE(test::icmp_checksum_ok(got));  // with the pseudo-header
  EXPECT_EQ(got[7], 64);                     // hop limit
  auto small = v6spec().udp().data("x").build();
  got = too_big6(small, 1400);
  EXPECT_EQ(got, test::icmp_error_packet("2001:db8::10", "2001:db8:1::2", 2, 0, 1400, small));
}

TEST(IcmpBuilder, TooBigAndTimeExceededPickTheFamily) {
  auto v4 = PacketSpec{}.build();
  auto v6 = v6spec().build();
  std::vector<std::uint8_t> out(kIcmp6ReplyMax);
  auto got = build(icmp_build_too_big(v4, 70000, out, {0x42, 64}), out);
  EXPECT_EQ(got, expected_v4(v4, 3, 4, 65535, v4.size()));
  got = build(icmp_build_too_big(v6, 1300, out), out);
  EXPECT_EQ(got, test::icmp_error_packet("2001:db8::10", "2001:db8:1::2", 2, 0, 1300, v6));
  got = build(icmp_build_time_exceeded(v4, out, {0x42, 64}), out);
  EXPECT_EQ(got, expected_v4(v4, 11, 0, 0, v4.size()));
  got = build(icmp_build_time_exceeded(v6, out), out);
  EXPECT_EQ(got, test::icmp_error_packet("2001:db8::10", "2001:db8:1::2", 3, 0, 0, v6));
  // A parameter problem pointer goes in the top byte of `info`.
  got = build(icmp_build_error(v4, {12, 0, 9u << 24}, out, {0x42, 64}), out);
  EXPECT_EQ(got, expected_v4(v4, 12, 0, 9u << 24, v4.size()));
}

TEST(IcmpBuilder, RefusesWhereTheRfcsForbidAnError) {
  std::vector<std::uint8_t> out(kIcmp6ReplyMax);
  auto st = [&](const std::vector<std::uint8_t>& p) {
    return icmp_build_too_big(p, 1400, out).status;
  };
  // An ICMP error about an ICMP error.
  auto err = test::icmp_error_packet("198.51.100.2", "192.0.2.10", 3, 3, 0,
                                     test::head(PacketSpec{}.build(), 28));
  EXPECT_EQ(st(err), IcmpBuildStatus::not_allowed);
  auto echo = test::icmp_error_packet("198.51.100.2", "192.0.2.10", 8, 0, 0x00010001, {});
  EXPECT_EQ(st(echo), IcmpBuildStatus::ok);  // an echo request may get one
  auto unknown = test::icmp_error_packet("198.51.100.2", "192.0.2.10", 40, 0, 0, {});
  EXPECT_EQ(st(unknown), IcmpBuildStatus::not_allowed);
  // A non-first fragment.
  auto frag = PacketSpec{}.build();
  test::put16(frag, 6, 0x2010);
  test::fill_ipv4_header_checksum(frag);
  EXPECT_EQ(st(frag), IcmpBuildStatus::not_allowed);
  test::put16(frag, 6, 0x2000);  // the first fragment is fine
  test::fill_ipv4_header_checksum(frag);
  EXPECT_EQ(st(frag), IcmpBuildStatus::ok);
  // Sources that are not one host, destinations we cannot answer from.
  for (const char* src : {"0.0.0.0", "127.0.0.1", "224.0.0.5", "240.0.0.1", "255.255.255.255"})
    EXPECT_EQ(st(PacketSpec{}.from(src, 1).build()), IcmpBuildStatus::not_allowed) << src;
  for (const char* dst : {"224.0.0.1", "255.255.255.255", "0.0.0.0"})
    EXPECT_EQ(st(PacketSpec{}.to(dst, 1).build()), IcmpBuildStatus::not_allowed) << dst;
  for (const char* src : {"::", "ff02::1"})
    EXPECT_EQ(st(v6spec().from(src, 1).build()), IcmpBuildStatus::not_allowed) << src;
  EXPECT_EQ(st(v6spec().to("ff02::1", 1).build()), IcmpBuildStatus::not_allowed);
  // ICMPv6: errors (type < 128) get nothing, informational messages may.
  auto err6 = test::icmp_error_packet("2001:db8:1::2", "2001:db8::10", 1, 4, 0, {});
  EXPECT_EQ(st(err6), IcmpBuildStatus::not_allowed);
  auto echo6 = test::icmp_error_packet("2001:db8:1::2", "2001:db8::10", 128, 0, 0, {});
  EXPECT_EQ(st(echo6), IcmpBuildStatus::ok);
  // An ICMPv6 error behind a destination options header is still found.
  auto hidden = test::ip_header({"2001:db8:1::2", "2001:db8::10", 60, 16});
  std::vector<std::uint8_t> rest = {58, 0, 1, 4, 0, 0, 0, 0, 1, 4, 0, 0, 0, 0, 0, 0};
  hidden.insert(hidden.end(), rest.begin(), rest.end());
  EXPECT_EQ(st(hidden), IcmpBuildStatus::not_allowed);
}

TEST(IcmpBuilder, BadOriginalAndNoRoom) {
  std::vector<std::uint8_t> out(kIcmp6ReplyMax);
  auto st = [&](const std::vector<std::uint8_t>& p) {
    return icmp_build_too_big(p, 1400, out).status;
  };
  auto v4 = PacketSpec{}.build();
  auto v6 = v6spec().build();
  EXPECT_EQ(st({}), IcmpBuildStatus::bad_original);
  EXPECT_EQ(st(test::head(v4, 19)), IcmpBuildStatus::bad_original);
  EXPECT_EQ(st(test::head(v6, 39)), IcmpBuildStatus::bad_original);
  auto v5 = v4;
  v5[0] = 0x55;
  EXPECT_EQ(st(v5), IcmpBuildStatus::bad_original);
  auto ihl = v4;
  ihl[0] = 0x4f;
  EXPECT_EQ(st(ihl), IcmpBuildStatus::bad_original);
  auto total = v4;
  test::put16(total, 2, 10);
  EXPECT_EQ(st(total), IcmpBuildStatus::bad_original);
  EXPECT_EQ(icmp_build_frag_needed(v6, 1400, out).status, IcmpBuildStatus::bad_original);
  EXPECT_EQ(icmp6_build_packet_too_big(v4, 1400, out).status, IcmpBuildStatus::bad_original);
  std::vector<std::uint8_t> small(28 + v4.size() - 1);
  EXPECT_EQ(icmp_build_frag_needed(v4, 1400, small).status, IcmpBuildStatus::no_room);
  small.resize(28 + v4.size());
  EXPECT_EQ(icmp_build_frag_needed(v4, 1400, small).status, IcmpBuildStatus::ok);
  std::vector<std::uint8_t> small6(48 + v6.size() - 1);
  EXPECT_EQ(icmp6_build_packet_too_big(v6, 1400, small6).status, IcmpBuildStatus::no_room);
}

TEST(IcmpBuilder, QuotesOnlyTheBytesPresent) {
  // The original's length field says 1500 but only 100 bytes were captured.
  auto orig = PacketSpec{}.data(std::string(1460, 'z')).build();
  auto cut = test::head(orig, 100);
  auto got = frag_needed(cut, 1400);
  EXPECT_EQ(got, expected_v4(orig, 3, 4, 1400, 100));
  // A padded buffer: only the packet's own length is quoted.
  auto padded = PacketSpec{}.build();
  padded.resize(padded.size() + 6, 0);
  EXPECT_EQ(frag_needed(padded, 1400), expected_v4(PacketSpec{}.build(), 3, 4, 1400, 40));
}

TEST(IcmpBuilder, BuildsInPlaceOverTheOriginal) {
  for (bool six : {false, true}) {
    auto orig = six ? v6spec().data(std::string(1440, 'q')).build()
                    : PacketSpec{}.data(std::string(1460, 'q')).build();
    std::vector<std::uint8_t> separate(kIcmp6ReplyMax);
    auto want = build(icmp_build_too_big(orig, 1300, separate, {5, 64}), separate);
    auto buf = orig;
    IcmpBuildResult r = icmp_build_too_big(buf, 1300, buf, {5, 64});
    ASSERT_EQ(r.status, IcmpBuildStatus::ok);
    buf.resize(r.len);
    EXPECT_EQ(buf, want) << six;
  }
}

// Random truncations and byte changes of valid originals: a status every
// time, and an ok reply is well formed. Exactly-sized heap copies let ASan
// catch any read past the end.
TEST(IcmpBuilder, FuzzNeverReadsOutOfBounds) {
  std::mt19937 rng(77);
  std::vector<std::vector<std::uint8_t>> seeds = {
      PacketSpec{}.data(std::string(700, 'a')).build(),
      v6spec().udp().data(std::string(1300, 'b')).build(),
      test::icmp_error_packet("198.51.100.2", "192.0.2.10", 8, 0, 1, {1, 2, 3, 4}),
      test::icmp_error_packet("2001:db8:1::2", "2001:db8::10", 128, 0, 1, {1, 2, 3, 4}),
  };
  std::size_t ok = 0;
  for (int i = 0; i < 30000; ++i) {
    auto p = seeds[rng() % seeds.size()];
    p.resize(rng() % (p.size() + 1));
    for (int flips = static_cast<int>(rng() % 4); flips > 0 && !p.empty(); --flips)
      p[rng() % p.size()] = static_cast<std::uint8_t>(rng());
    std::vector<std::uint8_t> exact(p);
    std::vector<std::uint8_t> out(kIcmp6ReplyMax);
    IcmpBuildResult r = icmp_build_too_big(exact, 1280, out);
    if (r.status != IcmpBuildStatus::ok) continue;
    ++ok;
    ASSERT_LE(r.len, (exact[0] >> 4) == 6 ? kIcmp6ReplyMax : kIcmpReplyMax);
    out.resize(r.len);
    ASSERT_TRUE(test::icmp_checksum_ok(out)) << i;
    if ((out[0] >> 4) == 4) {
      ASSERT_TRUE(test::ipv4_header_checksum_ok(out)) << i;
    }
  }
  EXPECT_GT(ok, 1000u);
}

}  // namespace
}  // namespace vsd
