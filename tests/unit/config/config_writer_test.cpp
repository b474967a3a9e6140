#include "appliance/config/config_writer.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/config_compare.hpp"

namespace vsd {
namespace {

Config parse_ok(const std::string& text) {
  auto r = parse_config(text, "written.toml");
  EXPECT_TRUE(r.config) << (r.errors.empty() ? "" : r.errors[0].to_string()) << "\n" << text;
  return r.config.value_or(Config{});
}

void expect_round_trip(const Config& cfg) {
  const std::string text = write_config_toml(cfg);
  Config back = parse_ok(text);
  expect_same(back, cfg);
  EXPECT_EQ(write_config_toml(back), text);
}

TEST(ConfigWriter, LayoutOfTheSampleFile) {
  Config cfg;
  ServiceConfig s;
  s.address = *Endpoint::parse("192.0.2.10:80");
  s.scheduler = "wrr";
  RealServerConfig r;
  r.address = *Endpoint::parse("203.0.113.11:8000");
  r.weight = 3;
  s.reals.push_back(r);
  r.address = *Endpoint::parse("203.0.113.12:0");
  r.weight = 1;
  s.reals.push_back(r);
  cfg.services.push_back(s);
  EXPECT_EQ(write_config_toml(cfg),
            "# vsd configuration, as written by `vsadm --save-toml`.\n"
            "# Every key is described in etc/vsd.toml; check with: vsd --check -c FILE\n"
            "\n"
            "[director]\n"
            "queue = 0\n"
            "queues = 1\n"
            "fail_open = false\n"
            "max_connections = 1048576\n"
            "\n"
            "[timeouts]\n"
            "tcp = 900\n"
            "tcpfin = 120\n"
            "udp = 300\n"
            "\n"
            "[control]\n"
            "socket = \"/run/vsd/vsd.sock\"\n"
            "\n"
            "[log]\n"
            "level = \"info\"\n"
            "\n"
            "[[service]]\n"
            "address = \"192.0.2.10:80\"\n"
            "protocol = \"tcp\"\n"
            "scheduler = \"wrr\"\n"
            "\n"
            "[[service.real]]\n"
            "address = \"203.0.113.11:8000\"\n"
            "weight = 3\n"
            "forward = \"nat\"\n"
            "\n"
            "[[service.real]]\n"
            "address = \"203.0.113.12\"\n"
            "weight = 1\n"
            "forward = \"nat\"\n");
  expect_round_trip(cfg);
}

TEST(ConfigWriter, EmptyConfigRoundTrips) { expect_round_trip(Config{}); }

TEST(ConfigWriter, SampleFileRoundTrips) {
  // etc/vsd.toml, found from this file's place in the tree.
  auto path = std::filesystem::path(__FILE__).parent_path() / "../../../etc/vsd.toml";
  std::ifstream in(path);
  if (!in) GTEST_SKIP() << "no " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  expect_round_trip(parse_ok(ss.str()));
}

TEST(ConfigWriter, EveryOptionalKeyRoundTrips) {
  Config cfg = parse_ok(R"(
[director]
queue = 7
queues = 4
fail_open = true
max_connections = 4096
expire_nodest_conn = true
expire_quiescent_template = true
drop_entry = 3
drop_packet = 2
secure_tcp = 1
am_droprate = 20
pressure_threshold = 0.85

[timeouts]
tcp = 1000
tcpfin = 30
udp = 60

[control]
socket = "/run/vsd/odd \"name\" \\ here.sock"

[log]
level = "debug"

[arp]
garp_repeat = 5
garp_interval_ms = 50
hiding = "sysctl"

[[service]]
address = "192.0.2.10:0"
protocol = "tcp"
scheduler = "sh"
scheduler_flags = ["sh-fallback", "sh-port"]
persistent = 1800
persistence_netmask = 24
table_share = 0.5
synproxy = true
synproxy_mss = 1400
synproxy_wscale = 8

[[service.real]]
address = "203.0.113.11"
weight = 0
forward = "nat"
upper_threshold = 100
lower_threshold = 50

[[service]]
address = "[2001:db8::10]:53"
protocol = "udp"
scheduler = "rr"
ops = true

[[service.real]]
address = "[2001:db8:2::11]"
forward = "nat"

[[service.real]]
address = "[2001:db8:2::12]:5353"
weight = 65535
forward = "nat"

[[service]]
fwmark = 42
members = ["192.0.2.30:80", "192.0.2.30:443"]
scheduler = "mh"
scheduler_flags = ["mh-port"]

[[service.real]]
address = "203.0.113.31:0"
forward = "nat"

[[service]]
address = "192.0.2.40:443"
protocol = "tcp"
scheduler = "wlc"
tunnel_source = "198.51.100.2"

[[service.real]]
address = "198.51.100.41"
forward = "tun"

[[service.real]]
address = "192.0.2.42:443"
forward = "dr"
)");
  ASSERT_EQ(cfg.services.size(), 4u);
  EXPECT_EQ(cfg.arp.hiding, ArpHiding::sysctl);
  EXPECT_EQ(cfg.services[2].members.size(), 2u);
  expect_round_trip(cfg);
  const std::string text = write_config_toml(cfg);
  EXPECT_NE(text.find("socket = \"/run/vsd/odd \\\"name\\\" \\\\ here.sock\"\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("fwmark = 42\nmembers = [\"192.0.2.30:80\", \"192.0.2.30:443\"]\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("address = \"[2001:db8:2::11]\"\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace vsd

namespace vsd {
namespace {

TEST(ConfigWriter, HealthChecksSorryServerQuorumAndMetricsRoundTrip) {
  Config cfg = parse_ok(R"(
[metrics]
listen = "127.0.0.1:9100"

[[service]]
address = "192.0.2.10:80"
sorry_server = "203.0.113.99:8000"
quorum = 3
hysteresis = 1
quorum_up = "/bin/up"
quorum_down = "/bin/down"
[service.check]
type = "http"
path = "/healthz"
status = [200, 204]
interval = 2.5
slow_start = 10
on_failure = "quiesce"

[[service.real]]
address = "203.0.113.11:8000"

[[service.real]]
address = "203.0.113.12:8000"
[service.real.check]
type = "misc"
command = "/bin/true"
user = "nobody"
timeout = 0.25
)");
  const std::string text = write_config_toml(cfg);
  Config back = parse_ok(text);
  EXPECT_EQ(write_config_toml(back), text);
  EXPECT_EQ(back.metrics.listen, "127.0.0.1:9100");
  ASSERT_EQ(back.services.size(), 1u);
  const auto& s = back.services[0];
  EXPECT_EQ(s.sorry_server, cfg.services[0].sorry_server);
  EXPECT_EQ(s.quorum, 3u);
  EXPECT_EQ(s.hysteresis, 1u);
  EXPECT_EQ(s.quorum_up, "/bin/up");
  EXPECT_EQ(s.quorum_down, "/bin/down");
  ASSERT_EQ(s.reals.size(), 2u);
  EXPECT_EQ(s.reals[0].check, cfg.services[0].reals[0].check);
  // A misc check inherits the service's interval, slow start and policy;
  // HTTP-only keys (path, status) do not apply to it and are not written.
  const auto& misc = *s.reals[1].check;
  EXPECT_EQ(misc.type, health::CheckType::misc);
  EXPECT_EQ(misc.command, "/bin/true");
  EXPECT_EQ(misc.timeout_ms, 250u);
  EXPECT_EQ(misc.interval_ms, 2500u);
  EXPECT_EQ(misc.slow_start_ms, 10000u);
  EXPECT_EQ(misc.on_failure, health::OnFailure::quiesce);
}

}  // namespace
}  // namespace vsd
