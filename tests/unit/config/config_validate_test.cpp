// validate() on configurations built in code, as vsadm edits build them: each
// rule, the same reasons a file with the same values gets from parse_config
// (what the daemon checked by writing the file and reading it back), and no
// position but the service or real server the error is about.
#include "appliance/config/config_validate.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "appliance/config/config_writer.hpp"

namespace vsd {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> sorted_reasons(const std::vector<ConfigError>& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors) out.push_back(e.reason);
  std::sort(out.begin(), out.end());
  return out;
}

// validate(cfg) finds exactly `expected`, and so does reading cfg back from
// the file the writer makes of it.
void expect_refused(const Config& cfg, std::vector<std::string> expected) {
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(sorted_reasons(validate(cfg)), expected);
  const std::string text = write_config_toml(cfg);
  EXPECT_EQ(sorted_reasons(parse_config(text, "edited.toml").errors), expected) << text;
}

// "192.0.2.10:80", or an address alone ("203.0.113.11", "[2001:db8::11]")
// for port 0.
Endpoint ep(std::string text) {
  if (auto e = Endpoint::parse(text)) return *e;
  if (text.front() == '[') text = text.substr(1, text.size() - 2);
  auto ip = IpAddress::parse(text);
  EXPECT_TRUE(ip) << text;
  return Endpoint{ip.value_or(IpAddress{}), 0};
}

ServiceConfig service(const char* vip, Protocol protocol = Protocol::tcp) {
  ServiceConfig s;
  s.address = ep(vip);
  s.protocol = protocol;
  return s;
}

RealServerConfig real(const char* address, ForwardMethod forward = ForwardMethod::nat) {
  RealServerConfig r;
  r.address = ep(address);
  r.forward = forward;
  return r;
}

Config with(std::vector<ServiceConfig> services) {
  Config c;
  c.services = std::move(services);
  return c;
}

TEST(Validate, AValidConfigAndEveryParsedOnePass) {
  auto s = service("192.0.2.10:80");
  s.reals = {real("203.0.113.11:8080"), real("203.0.113.12")};
  EXPECT_TRUE(validate(with({s})).empty());
  EXPECT_TRUE(validate(Config{}).empty());
  auto parsed = load_config_file(VSD_SOURCE_DIR "/etc/vsd.toml");
  ASSERT_TRUE(parsed.config);
  EXPECT_TRUE(validate(*parsed.config).empty());
}

TEST(Validate, PortZeroNeedsPersistence) {
  auto s = service("192.0.2.10:0");
  expect_refused(with({s}), {"a port-0 service (every port of 192.0.2.10) needs persistent = SECONDS, "
                             "as ipvsadm requires -p for port 0"});
  s.persistent = 360;
  EXPECT_TRUE(validate(with({s})).empty());
}

TEST(Validate, OnePacketSchedulingIsForUdpWithoutPersistence) {
  auto s = service("192.0.2.10:53");
  s.ops = true;
  s.persistent = 60;
  expect_refused(with({s}), {"service.ops (one-packet scheduling) is for UDP services only",
                             "service.ops and persistent exclude each other (as in IPVS)"});
  s.protocol = Protocol::udp;
  s.persistent = 0;
  EXPECT_TRUE(validate(with({s})).empty());
}

TEST(Validate, Thresholds) {
  auto s = service("192.0.2.10:80");
  s.reals = {real("203.0.113.11"), real("203.0.113.12")};
  s.reals[0].upper_threshold = 10;
  s.reals[0].lower_threshold = 10;
  s.reals[1].lower_threshold = 5;
  expect_refused(with({s}), {"real.lower_threshold (10) must be below upper_threshold (10)",
                             "real.lower_threshold needs an upper_threshold"});
}

TEST(Validate, AddressFamilies) {
  auto s = service("192.0.2.10:80");
  s.reals = {real("[2001:db8::11]:80"), real("[2001:db8::12]:80", ForwardMethod::tun)};
  s.sorry_server = ep("[2001:db8::99]:80");
  s.tunnel_source = *IpAddress::parse("198.51.100.2");
  expect_refused(with({s}),
                 {"real server [2001:db8::11]:80 is not of the same address family as the service TCP "
                  "192.0.2.10:80 (only forward = \"tun\" may mix)",
                  "sorry_server [2001:db8::99]:80 is not of the service's address family",
                  "service.tunnel_source 198.51.100.2 is not of the family of TUN real server [2001:db8::12]:80: "
                  "the outer header needs both addresses in one family"});
}

TEST(Validate, FwmarkMembersAndTheFamilyOfTheirRealServers) {
  ServiceConfig fw;
  fw.fwmark = 3;
  fw.members = {ep("192.0.2.20:80"), ep("[2001:db8::20]:443")};
  fw.reals = {real("[2001:db8::21]")};
  EXPECT_THAT(sorted_reasons(validate(with({fw}))),
              ElementsAre("fwmark member [2001:db8::20]:443 is not of the same address family as the others",
                          "real server [2001:db8::21]:0 is not of the same address family as the service FWM 3 "
                          "(only forward = \"tun\" may mix)"));
  // Without members, the first real server gives the family.
  fw.members.clear();
  fw.reals = {real("[2001:db8::21]"), real("203.0.113.22")};
  expect_refused(with({fw}), {"real server 203.0.113.22:0 is not of the same address family as the service "
                              "FWM 3 (only forward = \"tun\" may mix)"});
  auto s = service("192.0.2.10:80");
  s.members = {ep("192.0.2.10:443")};
  expect_refused(with({s}), {"service.members belongs to fwmark services (ipvsadm -f); this service has an address"});
}

TEST(Validate, DirectRoutingAndTunnelsKeepThePort) {
  auto s = service("192.0.2.10:80");
  s.reals = {real("192.0.2.21:8080", ForwardMethod::dr), real("192.0.2.22:80", ForwardMethod::dr),
             real("192.0.2.23", ForwardMethod::tun)};
  expect_refused(with({s}), {"real server 192.0.2.21:8080 uses forward = \"dr\", which does not rewrite ports: "
                             "give it the service's port 80 (or none) and let it listen there"});
}

TEST(Validate, SchedulerFlagsBelongToTheScheduler) {
  auto s = service("192.0.2.10:80");
  s.scheduler = "mh";
  s.scheduler_flags = {"mh-port", "sh-port"};
  expect_refused(with({s}),
                 {"scheduler flag \"sh-port\" is not a flag of scheduler mh; its flags: mh-fallback, mh-port"});
  s.scheduler = "rr";
  s.scheduler_flags = {"mh-port"};
  expect_refused(with({s}), {"scheduler flag \"mh-port\" is not a flag of scheduler rr; it takes none"});
}

TEST(Validate, QuorumKeysNeedQuorum) {
  auto s = service("192.0.2.10:80");
  s.hysteresis = 1;
  s.quorum_up = "/bin/up";
  expect_refused(with({s}),
                 {"quorum_up, quorum_down and hysteresis need quorum = N (the healthy weight a service needs)"});
  s.quorum = 2;
  EXPECT_TRUE(validate(with({s})).empty());
}

TEST(Validate, PersistenceNetmaskWithinTheFamily) {
  auto s = service("192.0.2.10:80");
  s.persistent = 60;
  s.persistence_netmask = 64;
  expect_refused(with({s}), {"service.persistence_netmask must be a prefix length from 1 to 32, got 64"});
  s = service("[2001:db8::10]:80");
  s.persistent = 60;
  s.persistence_netmask = 64;
  EXPECT_TRUE(validate(with({s})).empty());
}

TEST(Validate, DuplicatesOfServicesAndRealServers) {
  auto s = service("192.0.2.10:80");
  s.reals = {real("203.0.113.11:80"), real("203.0.113.11:80")};
  ServiceConfig fw;
  fw.fwmark = 5;
  auto errors = validate(with({s, s, fw, fw, service("192.0.2.10:80", Protocol::udp)}));
  std::vector<std::string> printed;
  for (const auto& e : errors) printed.push_back(e.to_string());
  EXPECT_THAT(printed, ElementsAre("TCP 192.0.2.10:80 -> 203.0.113.11:80: real server 203.0.113.11:80 is listed "
                                   "twice in service TCP 192.0.2.10:80",
                                   "TCP 192.0.2.10:80: service TCP 192.0.2.10:80 is defined twice",
                                   "TCP 192.0.2.10:80 -> 203.0.113.11:80: real server 203.0.113.11:80 is listed "
                                   "twice in service TCP 192.0.2.10:80",
                                   "FWM 5: service FWM 5 is defined twice"));
}

TEST(Validate, ValuesAFileCouldNotHold) {
  Config c;
  c.director.queue = 65535;
  c.director.queues = 2;
  c.timeouts.udp = 0;
  c.control.socket = "vsd.sock";
  c.metrics.listen = "localhost:9100";
  c.log.level = "loud";
  c.arp.garp_repeat = 1000;
  auto s = service("192.0.2.10:80");
  s.scheduler = "fastest";
  s.persistent = 0x80000000u;
  s.reals = {real("203.0.113.11")};
  s.reals[0].weight = 70000;
  c.services = {s};
  expect_refused(c, {"[director] queue + queues - 1 must not exceed 65535",
                     "timeouts.udp must be from 1 to 2592000, got 0",
                     "control.socket must be an absolute path, got \"vsd.sock\"",
                     "metrics.listen must be \"IP:PORT\" such as \"127.0.0.1:9473\" or \"[::1]:9473\", got "
                     "\"localhost:9100\"",
                     "log.level must be trace | debug | info | warn | error, got \"loud\"",
                     "arp.garp_repeat must be from 0 to 100, got 1000",
                     "unknown scheduler \"fastest\"; known: rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, "
                     "ovf, mh, twos",
                     "service.persistent must be from 0 to 2147483647, got 2147483648",
                     "real.weight must be from 0 to 65535, got 70000"});
}

TEST(Validate, HealthChecks) {
  auto s = service("192.0.2.10:80");
  s.reals = {real("203.0.113.11"), real("203.0.113.12")};
  s.reals[0].check = health::CheckConfig{};
  s.reals[0].check->interval_ms = 0;
  s.reals[1].check = health::CheckConfig{};
  s.reals[1].check->type = health::CheckType::misc;
  expect_refused(with({s}), {"check.interval must be from 0.01 to 86400 seconds, got 0",
                             "a misc check needs a command, e.g. command = \"/usr/local/bin/check\""});
  // A real server added with vsadm -a to a service whose [service.check]
  // has no type (each of its servers had its own) cannot take that check.
  s.reals = {real("203.0.113.11")};
  s.check_defaults = health::CheckOverrides{};
  s.check_defaults->interval_ms = 2000;
  expect_refused(with({s}),
                 {"a check needs a type: type = \"tcp\" | \"http\" | \"https\" | \"udp\" | \"icmp\" | \"misc\""});
  s.check_defaults->type = health::CheckType::tcp;
  EXPECT_TRUE(validate(with({s})).empty());
  s.check_defaults->rise = 0;
  expect_refused(with({s}), {"check.rise must be from 1 to 1000, got 0"});
}

TEST(Validate, WithoutAPositionTheSubjectSaysWhat) {
  auto s = service("192.0.2.10:53", Protocol::udp);
  s.ops = true;
  s.persistent = 60;
  s.reals = {real("203.0.113.11")};
  s.reals[0].lower_threshold = 3;
  Config c = with({s});
  c.director.queue = 65535;
  c.director.queues = 2;
  std::vector<std::string> printed;
  for (const auto& e : validate(c)) {
    EXPECT_TRUE(e.where.file.empty());
    EXPECT_EQ(e.where.line, 0);
    printed.push_back(e.to_string());
  }
  EXPECT_THAT(printed, ElementsAre("[director] queue + queues - 1 must not exceed 65535",
                                   "UDP 192.0.2.10:53: service.ops and persistent exclude each other (as in IPVS)",
                                   "UDP 192.0.2.10:53 -> 203.0.113.11:53: real.lower_threshold needs an "
                                   "upper_threshold"));
}

// An edit of a parsed configuration: errors about values read from the file
// keep their position; a value set in code falls back to its table's.
TEST(Validate, EditedValuesKeepTheirFilePositions) {
  auto r = parse_config(R"([[service]]
address = "192.0.2.10:53"
protocol = "udp"
ops = true
[[service.real]]
address = "203.0.113.11"
)", "vsd.toml");
  ASSERT_TRUE(r.config);
  Config c = *r.config;
  c.services[0].persistent = 60;        // vsadm -E -p: persistent has no place
  c.services[0].reals.push_back(real("203.0.113.11"));  // vsadm -a, no table: the same server
  std::vector<std::string> printed;
  for (const auto& e : validate(c)) printed.push_back(e.to_string());
  EXPECT_THAT(printed,
              ElementsAre("vsd.toml:4:7: service.ops and persistent exclude each other (as in IPVS)",
                          "UDP 192.0.2.10:53 -> 203.0.113.11:53: real server 203.0.113.11:0 is listed twice in "
                          "service UDP 192.0.2.10:53 (first at line 5)"));
}

}  // namespace
}  // namespace vsd
