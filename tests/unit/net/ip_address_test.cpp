#include "net/ip_address.hpp"

#include <gtest/gtest.h>

namespace vsd {
namespace {

TEST(IpAddress, ParsesBothFamilies) {
  auto v4 = IpAddress::parse("192.0.2.10");
  ASSERT_TRUE(v4);
  EXPECT_TRUE(v4->is_v4());
  EXPECT_EQ(v4->to_string(), "192.0.2.10");
  EXPECT_EQ(v4->size(), 4u);
  auto v6 = IpAddress::parse("2001:db8::10");
  ASSERT_TRUE(v6);
  EXPECT_FALSE(v6->is_v4());
  EXPECT_EQ(v6->to_string(), "2001:db8::10");
  EXPECT_FALSE(IpAddress::parse("192.0.2.300"));
  EXPECT_FALSE(IpAddress::parse(""));
  EXPECT_FALSE(IpAddress::parse("example.com"));
}

TEST(Endpoint, ParsesAndPrintsIpvsadmSpelling) {
  auto e = Endpoint::parse("192.0.2.10:80");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->port, 80);
  EXPECT_EQ(e->to_string(), "192.0.2.10:80");
  auto e6 = Endpoint::parse("[2001:db8::10]:8000");
  ASSERT_TRUE(e6);
  EXPECT_EQ(e6->port, 8000);
  EXPECT_EQ(e6->to_string(), "[2001:db8::10]:8000");
}

TEST(Endpoint, RejectsWithReason) {
  std::string why;
  EXPECT_FALSE(Endpoint::parse("2001:db8::10:80", &why));
  EXPECT_NE(why.find("brackets"), std::string::npos);
  EXPECT_FALSE(Endpoint::parse("192.0.2.10:65536", &why));
  EXPECT_NE(why.find("port"), std::string::npos);
  EXPECT_FALSE(Endpoint::parse("192.0.2.10", &why));
  EXPECT_FALSE(Endpoint::parse("[2001:db8::10]80", &why));
  EXPECT_FALSE(Endpoint::parse("[192.0.2.1]:80", &why));
}

}  // namespace
}  // namespace vsd
