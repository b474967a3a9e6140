#include "appliance/daemon/ha_configs.hpp"

#include <gtest/gtest.h>

namespace vsd {
namespace {

Config pair_config(const char* extra = "") {
  std::string text = std::string(R"([ha]
directors = ["192.0.2.1", "192.0.2.2"]
interface = "eth0"
gateway = ["203.0.113.1/24", "2001:db8:2::1/64"]
gateway_interface = "eth1"
advert_ms = 500
)") + extra + R"(
[[service]]
address = "198.51.100.100:80"
[[service.real]]
address = "203.0.113.11:8000"
[[service]]
address = "[2001:db8:1::100]:80"
[[service.real]]
address = "[2001:db8:2::11]:8000"
)";
  auto r = parse_config(text, "pair.toml");
  EXPECT_TRUE(r.config) << (r.errors.empty() ? "" : r.errors[0].to_string());
  return *r.config;
}

NodeFacts facts_with(const char* addr) {
  NodeFacts f;
  f.addresses.push_back({"sync0", *IpAddress::parse(addr), 24});
  return f;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(HaConfigs, WhichDirectorThisNodeIs) {
  const Config c = pair_config();
  std::string why;
  auto n = ha_node(c.ha, facts_with("192.0.2.2"), &why);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->index, 1u);
  EXPECT_EQ(n->peer, *IpAddress::parse("192.0.2.1"));
  EXPECT_EQ(n->sync_interface, "sync0");
  EXPECT_FALSE(ha_node(c.ha, facts_with("192.0.2.9"), &why));
  EXPECT_TRUE(has(why, "neither [ha] director address (192.0.2.1, 192.0.2.2)")) << why;
}

TEST(HaConfigs, KeepalivedSyncGroupOfVipsAndGateway) {
  const Config c = pair_config();
  std::string why;
  const std::string conf = keepalived_conf(c, *ha_node(c.ha, facts_with("192.0.2.1"), &why), "/x/notify --a b");
  EXPECT_TRUE(has(conf, "vrrp_sync_group VSD {\n    group {\n        VSD_VIPS\n        VSD_GATEWAY\n    }\n"
                        "    notify \"/x/notify --a b\"\n}")) << conf;
  EXPECT_TRUE(has(conf, "priority 150")) << conf;
  EXPECT_TRUE(has(conf, "advert_int 0.5")) << conf;
  EXPECT_TRUE(has(conf, "vrrp_version 3")) << conf;
  EXPECT_TRUE(has(conf, "virtual_ipaddress {\n        198.51.100.100/32 dev eth0\n    }")) << conf;
  EXPECT_TRUE(has(conf, "virtual_ipaddress_excluded {\n        2001:db8:1::100/128 dev eth0\n    }")) << conf;
  EXPECT_TRUE(has(conf, "virtual_router_id 52")) << conf;
  EXPECT_TRUE(has(conf, "203.0.113.1/24 dev eth1")) << conf;
  EXPECT_TRUE(has(conf, "2001:db8:2::1/64 dev eth1")) << conf;
  EXPECT_FALSE(has(conf, "nopreempt"));
  EXPECT_TRUE(has(conf, "preempt_delay 5")) << "failback waits for the returning director's sync";
  const Config no_failback = pair_config("preempt = false\n");
  const std::string backup =
      keepalived_conf(no_failback, *ha_node(no_failback.ha, facts_with("192.0.2.2"), &why), "n");
  EXPECT_TRUE(has(backup, "priority 100")) << backup;
  EXPECT_TRUE(has(backup, "nopreempt")) << backup;
  EXPECT_FALSE(has(backup, "preempt_delay")) << backup;
}

TEST(HaConfigs, ConntrackdFtfwBetweenThePair) {
  const Config c = pair_config();
  std::string why;
  const std::string conf = conntrackd_conf(c, *ha_node(c.ha, facts_with("192.0.2.2"), &why), "/run/ct");
  EXPECT_TRUE(has(conf, "Mode FTFW")) << conf;
  EXPECT_TRUE(has(conf, "IPv4_address 192.0.2.2\n")) << conf;
  EXPECT_TRUE(has(conf, "IPv4_Destination_Address 192.0.2.1\n")) << conf;
  EXPECT_TRUE(has(conf, "Port 3780\n")) << conf;
  EXPECT_TRUE(has(conf, "Interface sync0\n")) << conf;
  EXPECT_TRUE(has(conf, "LockFile /run/ct/conntrackd.lock")) << conf;
  EXPECT_TRUE(has(conf, "Path /run/ct/conntrackd.ctl")) << conf;
}

}  // namespace
}  // namespace vsd
