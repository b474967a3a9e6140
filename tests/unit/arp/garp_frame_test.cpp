#include "arp/garp_frame.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "packet_builder.hpp"

namespace vsd::arp {
namespace {

// RFC 7042 documentation MAC address.
const MacAddress kMac = {0x00, 0x00, 0x5e, 0x00, 0x53, 0x01};

IpAddress ip(const char* s) { return *IpAddress::parse(s); }

enum class Kind { garp, na, announcement };

std::vector<std::uint8_t> frame(Kind kind, const char* vip) {
  std::vector<std::uint8_t> out(128, 0xee);
  switch (kind) {
    case Kind::garp: out.resize(build_gratuitous_arp(kMac, ip(vip), out)); break;
    case Kind::na: out.resize(build_unsolicited_na(kMac, ip(vip), out)); break;
    case Kind::announcement: out.resize(build_announcement(kMac, ip(vip), out)); break;
  }
  return out;
}

TEST(GarpFrame, GratuitousArpByteExact) {
  std::vector<std::uint8_t> want = {
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  // broadcast
      0x00, 0x00, 0x5e, 0x00, 0x53, 0x01,  // our MAC
      0x08, 0x06,                          // ARP
      0x00, 0x01, 0x08, 0x00, 6,    4,     // Ethernet / IPv4
      0x00, 0x01,                          // request
      0x00, 0x00, 0x5e, 0x00, 0x53, 0x01,  // sender MAC
      192,  0,    2,    10,                // sender IP = VIP
      0,    0,    0,    0,    0,    0,     // target MAC: zero (RFC 5227 2.3)
      192,  0,    2,    10,                // target IP = VIP
  };
  EXPECT_EQ(frame(Kind::garp, "192.0.2.10"), want);
  EXPECT_EQ(want.size(), kGarpFrameLen);
}

// Golden NA: the checksum 4a0c was computed with Python over the
// pseudo-header, and is checked here with the test builder's naive sum.
TEST(GarpFrame, UnsolicitedNeighbourAdvertisementByteExact) {
  std::vector<std::uint8_t> want = {
      0x33, 0x33, 0x00, 0x00, 0x00, 0x01,  // ff02::1 multicast MAC
      0x00, 0x00, 0x5e, 0x00, 0x53, 0x01,  // our MAC
      0x86, 0xdd,                          // IPv6
      0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 58, 255,  // payload 32, ICMPv6, hop limit 255
      0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,  // from the VIP
      0xff, 0x02, 0,    0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,  // to all nodes
      136,  0,    0x4a, 0x0c,              // NA, code 0, checksum
      0x20, 0,    0,    0,                 // Override; not Router, not Solicited
      0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,  // target = VIP
      2,    1,    0x00, 0x00, 0x5e, 0x00, 0x53, 0x01,  // target link-layer address option
  };
  auto got = frame(Kind::na, "2001:db8::10");
  EXPECT_EQ(got, want);
  EXPECT_EQ(got.size(), kUnsolicitedNaFrameLen);
  std::vector<std::uint8_t> ip6(got.begin() + 14, got.end());
  EXPECT_TRUE(test::icmp_checksum_ok(ip6));
}

TEST(GarpFrame, RouterFlagAndChecksum) {
  std::vector<std::uint8_t> out(kUnsolicitedNaFrameLen);
  ASSERT_EQ(build_unsolicited_na(kMac, ip("2001:db8::10"), out, true), kUnsolicitedNaFrameLen);
  EXPECT_EQ(out[14 + 40 + 4], 0xa0);
  EXPECT_EQ(test::get16(out, 14 + 40 + 2), 0xca0b);  // Python again
  for (const char* vip : {"2001:db8::1", "2001:db8:ffff::abcd", "2001:db8:1:2:3:4:5:6"}) {
    ASSERT_EQ(build_announcement(kMac, ip(vip), out), kUnsolicitedNaFrameLen);
    std::vector<std::uint8_t> ip6(out.begin() + 14, out.end());
    EXPECT_TRUE(test::icmp_checksum_ok(ip6)) << vip;
  }
}

TEST(GarpFrame, AnnouncementPicksFamilyAndRefusesMisuse) {
  EXPECT_EQ(frame(Kind::announcement, "192.0.2.10"), frame(Kind::garp, "192.0.2.10"));
  EXPECT_EQ(frame(Kind::announcement, "2001:db8::10"), frame(Kind::na, "2001:db8::10"));
  std::vector<std::uint8_t> out(128);
  EXPECT_EQ(build_gratuitous_arp(kMac, ip("2001:db8::10"), out), 0u);
  EXPECT_EQ(build_unsolicited_na(kMac, ip("192.0.2.10"), out), 0u);
  std::vector<std::uint8_t> small(kGarpFrameLen - 1);
  EXPECT_EQ(build_gratuitous_arp(kMac, ip("192.0.2.10"), small), 0u);
  std::vector<std::uint8_t> small6(kUnsolicitedNaFrameLen - 1);
  EXPECT_EQ(build_unsolicited_na(kMac, ip("2001:db8::10"), small6), 0u);
}

}  // namespace
}  // namespace vsd::arp
