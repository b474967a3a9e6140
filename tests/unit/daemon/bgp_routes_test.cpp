// Scale-out's announcements without bird or a kernel: which VIPs go out
// (quorum, healthy weight, the sorry server not counting), the include
// files bird reads, and the bird.conf `vsd bgp bird` prints.
#include "appliance/daemon/bgp_routes.hpp"

#include <gtest/gtest.h>

namespace vsd {
namespace {

Config parse(const std::string& text) {
  auto r = parse_config(text, "t.toml");
  EXPECT_TRUE(r.config) << (r.errors.empty() ? "" : r.errors[0].to_string());
  return r.config.value_or(Config{});
}

const char* kConfig = R"(
[bgp]
local_as = 65001
neighbors = ["192.0.2.254", "2001:db8::fe"]
neighbor_as = 65000
[[service]]
address = "198.51.100.100:80"
scheduler = "mh"
[[service.real]]
address = "198.51.100.31"
forward = "dr"
[[service]]
address = "198.51.100.100:443"
scheduler = "mh"
sloppy_tcp = false
[[service.real]]
address = "198.51.100.31"
forward = "dr"
[[service]]
address = "198.51.100.101:80"
scheduler = "rr"
quorum = 2
sorry_server = "198.51.100.99:80"
[[service.real]]
address = "198.51.100.31"
forward = "dr"
[[service]]
address = "[2001:db8:5::100]:80"
scheduler = "sh"
[[service.real]]
address = "2001:db8:5::31"
forward = "dr"
)";

IpAddress ip(const char* s) { return *IpAddress::parse(s); }
auto no_quorum = [](const std::string&) { return std::optional<bool>{}; };

TEST(BgpRoutes, AVipGoesWhileOneOfItsServicesCanServe) {
  Config c = parse(kConfig);
  // Everyone healthy: .101's quorum 2 is judged by the policy (up here).
  auto all = vips_to_announce(c, [](const std::string&) { return std::optional<bool>{true}; });
  EXPECT_EQ(all, (std::vector<IpAddress>{ip("198.51.100.100"), ip("198.51.100.101"), ip("2001:db8:5::100")}));
  // .101 lost its quorum; :80 of .100 has no weight left but :443 does.
  c.services[0].reals[0].weight = 0;
  auto some = vips_to_announce(c, [](const std::string& label) {
    return std::optional<bool>{label.find("198.51.100.101") == std::string::npos};
  });
  EXPECT_EQ(some, (std::vector<IpAddress>{ip("198.51.100.100"), ip("2001:db8:5::100")}));
  // The sorry server alone does not keep a VIP (the other directors have it too).
  Config sorry = parse(kConfig);
  sorry.services[2].quorum = 0;
  sorry.services[2].reals[0].weight = 0;
  sorry.services[2].reals.push_back(sorry.services[2].reals[0]);
  sorry.services[2].reals.back().address = *sorry.services[2].sorry_server;
  sorry.services[2].reals.back().weight = 1;
  auto without = vips_to_announce(sorry, no_quorum);
  EXPECT_EQ(std::count(without.begin(), without.end(), ip("198.51.100.101")), 0);
}

TEST(BgpRoutes, SloppyTcpIsOnForHashSchedulersOfAScaleOutDirector) {
  Config c = parse(kConfig);
  EXPECT_TRUE(sloppy_tcp(c, c.services[0])) << "mh under [bgp]";
  EXPECT_FALSE(sloppy_tcp(c, c.services[1])) << "turned off in the file";
  EXPECT_FALSE(sloppy_tcp(c, c.services[2])) << "rr: another director would pick another server";
  EXPECT_TRUE(sloppy_tcp(c, c.services[3])) << "sh";
  Config alone = c;
  alone.bgp = BgpConfig{};
  EXPECT_FALSE(sloppy_tcp(alone, alone.services[0])) << "no scale-out: IPVS's default";
}

TEST(BgpRoutes, IncludeFilesAndBirdConf) {
  const std::vector<IpAddress> vips{ip("198.51.100.100"), ip("2001:db8:5::100")};
  EXPECT_NE(bird_routes(vips, false, "vsd-vips").find("route 198.51.100.100/32 via \"vsd-vips\";\n"),
            std::string::npos);
  EXPECT_EQ(bird_routes(vips, false, "vsd-vips").find("2001"), std::string::npos);
  EXPECT_NE(bird_routes(vips, true, "vsd-vips").find("route 2001:db8:5::100/128 via \"vsd-vips\";"),
            std::string::npos);
  EXPECT_EQ(routes_file_v6("/run/vsd/bird-vips.conf"), "/run/vsd/bird-vips6.conf");
  EXPECT_EQ(routes_file_v6("/x/routes"), "/x/routes6");
  const Config c = parse(kConfig);
  const std::string conf = bird_conf(c.bgp, ip("192.0.2.1"));
  for (const char* want : {"router id 192.0.2.1;", "check link yes;", "include \"/run/vsd/bird-vips.conf\";",
                           "include \"/run/vsd/bird-vips6.conf\";", "local as 65001;",
                           "neighbor 192.0.2.254 as 65000;", "hold time 3;",
                           "export where proto = \"vsd_vips4\";", "neighbor 2001:db8::fe as 65000;",
                           "export where proto = \"vsd_vips6\";"})
    EXPECT_NE(conf.find(want), std::string::npos) << want << "\n" << conf;
}

TEST(BgpRoutes, ConfigErrorsNameTheKey) {
  auto r = parse_config("[bgp]\nlocal_as = 65001\n", "t.toml");
  ASSERT_FALSE(r.config);
  std::string all;
  for (const auto& e : r.errors) all += e.to_string() + "\n";
  EXPECT_NE(all.find("bgp.neighbors"), std::string::npos) << all;
  EXPECT_NE(all.find("bgp.neighbor_as"), std::string::npos) << all;
  r = parse_config("[bgp]\nlocal_as = 1\nneighbors = [\"x\"]\nneighbor_as = 2\n", "t.toml");
  ASSERT_FALSE(r.config);
  EXPECT_NE(r.errors[0].to_string().find("bgp.neighbors entries must be IP addresses"), std::string::npos);
  r = parse_config("[bgp]\nlocal_as = 1\nneighbors = [\"192.0.2.254\"]\nneighbor_as = 2\ninterface = \"a/b\"\n", "t.toml");
  ASSERT_FALSE(r.config);
  EXPECT_NE(r.errors[0].to_string().find("bgp.interface"), std::string::npos);
}

}  // namespace
}  // namespace vsd
