// `vsadm --save-toml` followed by a reload: write_config_toml then
// parse_config gives back the same configuration, the health checks'
// [service.check] defaults and every real server's effective check included
// (the defaults used to be dropped, so a reload lost them silently).
#include <gtest/gtest.h>

#include "appliance/config/config_validate.hpp"
#include "appliance/config/config_writer.hpp"
#include "config/config_compare.hpp"

namespace vsd {
namespace {

Config parse_ok(const std::string& text) {
  auto r = parse_config(text, "saved.toml");
  EXPECT_TRUE(r.config) << (r.errors.empty() ? "" : r.errors[0].to_string()) << "\n" << text;
  return r.config.value_or(Config{});
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The text between `[[service.real]]\naddress = "ADDRESS"` and the next
// real server or service.
std::string real_block(const std::string& text, const std::string& address) {
  auto at = text.find("address = \"" + address + "\"");
  EXPECT_NE(at, std::string::npos) << address;
  if (at == std::string::npos) return "";
  auto end = text.find("\n[[", at);
  return text.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

const char* every_kind_of_key = R"(
[metrics]
listen = "127.0.0.1:9100"

[arp]
garp_repeat = 1
hiding = "sysctl"

[[service]]
address = "192.0.2.10:80"
sorry_server = "203.0.113.99:8000"
quorum = 3
hysteresis = 1
quorum_up = "/usr/local/bin/up"
quorum_down = "/usr/local/bin/down"
[service.check]
type = "http"
path = "/healthz"
status = [200, 204]
interval = 2.5
rise = 2
connect_to = ":8080"
digest = "5d41402abc4b2a76b9719d911017c592"
slow_start = 10
on_failure = "quiesce"
notify = "/usr/local/bin/alert"
notify_user = "nobody"

[[service.real]]
address = "203.0.113.11:8000"

[[service.real]]
address = "203.0.113.12:8000"
weight = 2
[service.real.check]
path = "/other"
fall = 5

[[service.real]]
address = "203.0.113.13:8000"
[service.real.check]
type = "misc"
command = "/bin/true"
user = "root"
timeout = 0.25

[[service.real]]
address = "203.0.113.14:8000"
[service.real.check]
type = "udp"
payload = "ping"
expect = "pong"

[[service]]
fwmark = 7
members = ["192.0.2.20:80", "192.0.2.20:443"]
persistent = 600
persistence_netmask = 24
[service.check]
interval = 3

[[service.real]]
address = "203.0.113.21"
[service.real.check]
type = "tcp"

[[service.real]]
address = "203.0.113.22"
upper_threshold = 100
lower_threshold = 80
[service.real.check]
type = "icmp"
alpha = true

[[service]]
address = "[2001:db8::10]:53"
protocol = "udp"
scheduler = "rr"
ops = true
[[service.real]]
address = "[2001:db8:2::11]"

[[service]]
address = "198.51.100.100:443"
scheduler = "mh"
scheduler_flags = ["mh-port"]
tunnel_source = "198.51.100.2"
[[service.real]]
address = "198.51.100.21"
forward = "tun"
)";

TEST(SaveToml, EveryKindOfKeyComesBack) {
  const Config cfg = parse_ok(every_kind_of_key);
  const std::string text = write_config_toml(cfg);
  const Config back = parse_ok(text);
  expect_same(back, cfg);
  EXPECT_EQ(write_config_toml(back), text);
  // What the regression was about, spelled out.
  ASSERT_TRUE(back.services[0].check_defaults);
  EXPECT_EQ(back.services[0].check_defaults->path, "/healthz");
  EXPECT_EQ(back.services[0].check_defaults->rise, 2u) << "a key set at its default stays set";
  ASSERT_TRUE(back.services[1].check_defaults);
  EXPECT_EQ(back.services[1].check_defaults->interval_ms, 3000u);
  EXPECT_FALSE(back.services[1].check_defaults->type);
  EXPECT_EQ(back.metrics.listen, "127.0.0.1:9100");
  EXPECT_EQ(back.arp.hiding, ArpHiding::sysctl);
  EXPECT_EQ(count(text, "\n[service.check]\n"), 2u) << text;
}

TEST(SaveToml, RealServersWriteOnlyWhatTheyChange) {
  const std::string text = write_config_toml(parse_ok(every_kind_of_key));
  // Exactly the service's check: no table of its own.
  EXPECT_EQ(real_block(text, "203.0.113.11:8000"),
            "address = \"203.0.113.11:8000\"\nweight = 1\nforward = \"nat\"\n")
      << text;
  EXPECT_EQ(real_block(text, "203.0.113.12:8000"),
            "address = \"203.0.113.12:8000\"\nweight = 2\nforward = \"nat\"\n\n"
            "[service.real.check]\nfall = 5\npath = \"/other\"\n");
  // Another type: the type and what differs among the keys of that type.
  EXPECT_EQ(real_block(text, "203.0.113.13:8000"),
            "address = \"203.0.113.13:8000\"\nweight = 1\nforward = \"nat\"\n\n"
            "[service.real.check]\ntype = \"misc\"\ntimeout = 0.250\ncommand = \"/bin/true\"\nuser = \"root\"\n");
  // The service's table has no type: each real server writes its own.
  EXPECT_EQ(real_block(text, "203.0.113.21"),
            "address = \"203.0.113.21\"\nweight = 1\nforward = \"nat\"\n\n"
            "[service.real.check]\ntype = \"tcp\"\n");
}

// As the daemon edits: vsadm -A / -a build services and real servers in
// code, and a real server added to a service with [service.check] gets
// merge_check(defaults) as its check.
TEST(SaveToml, AConfigBuiltInCodeComesBack) {
  Config cfg;
  cfg.metrics.listen = "[::1]:9100";
  cfg.arp.garp_interval_ms = 50;
  ServiceConfig s;
  s.address = *Endpoint::parse("192.0.2.10:80");
  s.sorry_server = *Endpoint::parse("203.0.113.99:0");
  s.quorum = 2;
  s.quorum_down = "/bin/down";
  health::CheckOverrides defaults;
  defaults.type = health::CheckType::https;
  defaults.path = "/ready";
  defaults.timeout_ms = 1500;
  defaults.on_failure = health::OnFailure::quiesce;
  s.check_defaults = defaults;
  RealServerConfig r;
  r.address = *Endpoint::parse("203.0.113.11:8443");
  r.check = health::merge_check(&defaults, nullptr).config;  // what vsadm -a gives it
  s.reals.push_back(r);
  r.address = *Endpoint::parse("203.0.113.12:8443");
  r.check->rise = 4;
  r.check->status = {200};
  s.reals.push_back(r);
  r.address = *Endpoint::parse("203.0.113.13:8443");
  r.check = health::CheckConfig{};  // a plain tcp check
  r.check->type = health::CheckType::tcp;
  r.check->path = "/ready";  // http's key, inherited on reading: the same check
  s.reals.push_back(r);
  cfg.services.push_back(s);

  ServiceConfig fw;
  fw.fwmark = 9;
  fw.members = {*Endpoint::parse("[2001:db8::20]:80"), *Endpoint::parse("[2001:db8::20]:443")};
  fw.persistent = 300;
  fw.persistence_netmask = 64;
  r = {};
  r.address = *Endpoint::parse("[2001:db8:2::21]:0");
  fw.reals.push_back(r);
  cfg.services.push_back(fw);

  ASSERT_TRUE(validate(cfg).empty()) << validate(cfg)[0].to_string();
  const std::string text = write_config_toml(cfg);
  const Config back = parse_ok(text);
  expect_same(back, cfg);
  EXPECT_EQ(write_config_toml(back), text);
}

TEST(SaveToml, ARealServerAddedLaterGetsTheSavedDefaults) {
  // Save, reload, then vsadm -a: the added server takes [service.check].
  Config back = parse_ok(write_config_toml(parse_ok(every_kind_of_key)));
  const ServiceConfig& s = back.services[0];
  ASSERT_TRUE(s.check_defaults);
  auto check = health::merge_check(&*s.check_defaults, nullptr).config;
  ASSERT_TRUE(check);
  EXPECT_EQ(check->type, health::CheckType::http);
  EXPECT_EQ(check->path, "/healthz");
  EXPECT_EQ(check->interval_ms, 2500u);
  EXPECT_EQ(check->on_failure, health::OnFailure::quiesce);
}

}  // namespace
}  // namespace vsd
