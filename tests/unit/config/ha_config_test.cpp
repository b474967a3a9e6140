#include <gtest/gtest.h>

#include "appliance/config/config.hpp"
#include "appliance/config/config_writer.hpp"

namespace vsd {
namespace {

const char* kPair = R"([ha]
directors = ["192.0.2.1", "192.0.2.2"]
interface = "eth0"
gateway = ["203.0.113.1/24", "2001:db8:2::1/64"]
gateway_interface = "eth1"
advert_ms = 500
sync_id = 7
[[service]]
address = "198.51.100.100:80"
[[service.real]]
address = "203.0.113.11:8000"
)";

TEST(HaConfig, ReadsThePair) {
  auto r = parse_config(kPair, "ha.toml");
  ASSERT_TRUE(r.config) << r.errors.at(0).to_string();
  const HaConfig& ha = r.config->ha;
  EXPECT_TRUE(ha.enabled());
  EXPECT_EQ(ha.directors, (std::vector<IpAddress>{*IpAddress::parse("192.0.2.1"), *IpAddress::parse("192.0.2.2")}));
  EXPECT_EQ(ha.interface, "eth0");
  EXPECT_EQ(ha.gateway, (std::vector<std::string>{"203.0.113.1/24", "2001:db8:2::1/64"}));
  EXPECT_EQ(ha.advert_ms, 500u);
  EXPECT_EQ(ha.sync_id, 7u);
  EXPECT_EQ(ha.virtual_router_id, 51u);
  EXPECT_TRUE(ha.preempt);
  // --save-toml keeps it.
  auto again = parse_config(write_config_toml(*r.config), "saved.toml");
  ASSERT_TRUE(again.config) << again.errors.at(0).to_string();
  EXPECT_EQ(again.config->ha.directors, ha.directors);
  EXPECT_EQ(again.config->ha.gateway_interface, "eth1");
  EXPECT_EQ(again.config->ha.sync_id, 7u);
  EXPECT_EQ(again.config->ha.gateway, ha.gateway);
}

TEST(HaConfig, NoPairByDefault) {
  auto r = parse_config("[[service]]\naddress = \"198.51.100.100:80\"\n", "t.toml");
  ASSERT_TRUE(r.config);
  EXPECT_FALSE(r.config->ha.enabled());
  EXPECT_EQ(write_config_toml(*r.config).find("[ha]"), std::string::npos);
}

std::string first_error(const std::string& text) {
  auto r = parse_config(text, "t.toml");
  return r.errors.empty() ? "" : r.errors[0].to_string();
}

TEST(HaConfig, ErrorsNameThePlaceAndTheReason) {
  EXPECT_EQ(first_error("[ha]\ndirectors = [\"192.0.2.1\"]\ninterface = \"eth0\"\n"),
            "t.toml:2:13: ha.directors must name exactly two directors (a pair), got 1");
  EXPECT_EQ(first_error("[ha]\ndirectors = [\"192.0.2.1\", \"2001:db8::2\"]\ninterface = \"eth0\"\n"),
            "t.toml:2:13: ha.directors must both be IPv4 or both IPv6");
  EXPECT_EQ(first_error("[ha]\ndirectors = [\"192.0.2.1\", \"nope\"]\ninterface = \"eth0\"\n"),
            "t.toml:2:27: ha.directors entries must be IP addresses (each director's address on the link between them)");
  EXPECT_NE(first_error("[ha]\ndirectors = [\"192.0.2.1\", \"192.0.2.2\"]\n").find("needs ha.interface"),
            std::string::npos);
  EXPECT_NE(first_error("[ha]\ndirectors = [\"192.0.2.1\", \"192.0.2.2\"]\ninterface = \"eth0\"\n"
                        "gateway = \"203.0.113.1\"\n")
                .find("ha.gateway must be \"ADDRESS/PREFIX\""),
            std::string::npos);
  EXPECT_NE(first_error("[ha]\ndirectors = [\"192.0.2.1\", \"192.0.2.2\"]\ninterface = \"eth0\"\n"
                        "gateway = \"203.0.113.1/24\"\n")
                .find("needs ha.gateway_interface"),
            std::string::npos);
  EXPECT_NE(first_error("[ha]\ninterface = \"eth0\"\n").find("[ha] needs ha.directors"), std::string::npos);
  EXPECT_NE(first_error("[ha]\ndirectors = [\"192.0.2.1\", \"192.0.2.2\"]\ninterface = \"eth0\"\n"
                        "virtual_router_id = 255\n")
                .find("ha.virtual_router_id"),
            std::string::npos);
}

}  // namespace
}  // namespace vsd
