#include "appliance/health/icmp_echo.hpp"

#include <gtest/gtest.h>

namespace vsd::health {
namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s += static_cast<char>(x);
  return s;
}

TEST(IcmpEcho, RequestV4HasAValidChecksum) {
  std::string m = build_echo_request(false, 0x1234, 0x0001, "abcd");
  ASSERT_EQ(m.size(), 12u);
  EXPECT_EQ(m.substr(0, 2), bytes({8, 0}));
  EXPECT_EQ(m.substr(4, 4), bytes({0x12, 0x34, 0x00, 0x01}));
  // Summing a message including its checksum gives 0xffff.
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < m.size(); i += 2)
    sum += (static_cast<unsigned char>(m[i]) << 8) | static_cast<unsigned char>(m[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  EXPECT_EQ(sum, 0xffffu);
}

TEST(IcmpEcho, RequestV6LeavesTheChecksumToTheKernel) {
  std::string m = build_echo_request(true, 7, 9, "");
  EXPECT_EQ(m, bytes({128, 0, 0, 0, 0, 7, 0, 9}));
}

TEST(IcmpEcho, ParsesRepliesWithAndWithoutIpHeader) {
  std::string icmp = bytes({0, 0, 0, 0, 0x12, 0x34, 0, 5}) + "payload";
  auto m = parse_icmp(false, false, icmp);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, IcmpMessage::Kind::echo_reply);
  EXPECT_EQ(m->id, 0x1234);
  EXPECT_EQ(m->sequence, 5);

  std::string ip = bytes({0x45, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1});
  m = parse_icmp(false, true, ip + icmp);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, IcmpMessage::Kind::echo_reply);
  EXPECT_EQ(m->sequence, 5);

  m = parse_icmp(true, false, bytes({129, 0, 0, 0, 0, 1, 0, 2}));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, IcmpMessage::Kind::echo_reply);
  EXPECT_EQ(m->id, 1);

  // Our own request looped back to a raw socket is not a reply.
  m = parse_icmp(false, true, ip + build_echo_request(false, 0x1234, 5, ""));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, IcmpMessage::Kind::other);

  EXPECT_FALSE(parse_icmp(false, false, "short"));
  EXPECT_FALSE(parse_icmp(false, true, bytes({0x60, 0, 0})));
}

TEST(IcmpEcho, UnreachableQuotesOurRequest) {
  std::string ip = bytes({0x45, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2});
  std::string error = bytes({3, 1, 0, 0, 0, 0, 0, 0}) + ip + build_echo_request(false, 0xbeef, 42, "");
  auto m = parse_icmp(false, true, ip + error);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, IcmpMessage::Kind::error);
  EXPECT_EQ(m->type, 3);
  EXPECT_EQ(m->code, 1);
  EXPECT_EQ(m->id, 0xbeef);
  EXPECT_EQ(m->sequence, 42);

  std::string ip6(40, '\0');
  ip6[0] = 0x60;
  ip6[6] = 58;
  m = parse_icmp(true, false, bytes({1, 4, 0, 0, 0, 0, 0, 0}) + ip6 + build_echo_request(true, 3, 4, "x"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, IcmpMessage::Kind::error);
  EXPECT_EQ(m->id, 3);
  EXPECT_EQ(m->sequence, 4);
}

}  // namespace
}  // namespace vsd::health
