#include "appliance/config/config.hpp"
#include "appliance/config/config_writer.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace vsd {
namespace {

std::vector<std::string> errors_of(const char* text) {
  auto r = parse_config(text, "t.toml");
  EXPECT_FALSE(r.config);
  std::vector<std::string> out;
  for (const auto& e : r.errors) out.push_back(e.to_string());
  return out;
}

TEST(Config, DefaultsAndValues) {
  auto r = parse_config(R"(
[director]
queue = 7
queues = 2
fail_open = true
[timeouts]
tcp = 600
[[service]]
address = "192.0.2.10:80"
[[service.real]]
address = "203.0.113.11:8000"
[[service.real]]
address = "203.0.113.12"
weight = 0
)", "t.toml");
  ASSERT_TRUE(r.config) << r.errors[0].to_string();
  const Config& c = *r.config;
  EXPECT_EQ(c.director.queue, 7);
  EXPECT_EQ(c.director.queues, 2);
  EXPECT_TRUE(c.director.fail_open);
  EXPECT_EQ(c.director.max_connections, 1048576u);
  EXPECT_EQ(c.timeouts.tcp, 600u);
  EXPECT_EQ(c.timeouts.tcpfin, 120u);
  EXPECT_EQ(c.timeouts.udp, 300u);
  EXPECT_EQ(c.control.socket, "/run/vsd/vsd.sock");
  ASSERT_EQ(c.services.size(), 1u);
  const auto& s = c.services[0];
  EXPECT_EQ(s.protocol, Protocol::tcp);
  EXPECT_EQ(s.scheduler, "wlc");  // ipvsadm's default
  EXPECT_EQ(s.where.line, 8);
  ASSERT_EQ(s.reals.size(), 2u);
  EXPECT_EQ(s.reals[0].weight, 1u);
  EXPECT_EQ(s.reals[0].forward, ForwardMethod::nat);
  EXPECT_EQ(s.reals[1].address.port, 0);
  EXPECT_EQ(s.reals[1].weight, 0u);
}

TEST(Config, EveryErrorWithLineAndColumnInFileOrder) {
  auto errs = errors_of(R"([director]
queues = "two"
fail_open = 1
[[service]]
address = "192.0.2.10:80"
protocol = "sctp"
scheduler = "wrrr"
[[service.real]]
address = "203.0.113.11:8000"
weigth = 3
[[service.real]]
address = "203.0.113.11:8000"
weight = 70000
)");
  const std::vector<std::string> expected = {
      "t.toml:2:10: director.queues must be an integer, got string",
      "t.toml:3:13: director.fail_open must be true or false, got integer",
      "t.toml:6:12: service.protocol must be tcp | udp, got \"sctp\"",
      "t.toml:7:13: unknown scheduler \"wrrr\"; known: rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos",
      "t.toml:10:10: unknown key 'weigth' in [[service.real]]; known keys: address, weight, forward, upper_threshold, lower_threshold, check",
      "t.toml:12:11: real server 203.0.113.11:8000 is listed twice in service TCP 192.0.2.10:80 "
      "(first at line 8)",
      "t.toml:13:10: real.weight must be from 0 to 65535, got 70000",
  };
  EXPECT_EQ(errs, expected);
}

TEST(Config, AddressesFamiliesDuplicatesAndMissingKeys) {
  auto errs = errors_of(R"([[service]]
address = "2001:db8::10:80"
[[service]]
address = "[2001:db8::10]:80"
[[service.real]]
address = "203.0.113.11:80"
[[service]]
address = "[2001:db8::10]:80"
[[service]]
protocol = "udp"
[[service]]
address = "192.0.2.10:0"
)");
  ASSERT_EQ(errs.size(), 5u);
  EXPECT_EQ(errs[0], "t.toml:2:11: bad service address \"2001:db8::10:80\": an IPv6 address needs brackets: \"[2001:db8::10]:80\"");
  EXPECT_EQ(errs[1], "t.toml:6:11: real server 203.0.113.11:80 is not of the same address family as the service TCP [2001:db8::10]:80 (only forward = \"tun\" may mix)");
  EXPECT_EQ(errs[2], "t.toml:8:11: service TCP [2001:db8::10]:80 is defined twice (first at line 3)");
  EXPECT_EQ(errs[3], "t.toml:9:1: [[service]] needs an address, e.g. address = \"192.0.2.10:80\", or a fwmark");
  EXPECT_EQ(errs[4], "t.toml:12:11: a port-0 service (every port of 192.0.2.10) needs persistent = SECONDS, as ipvsadm requires -p for port 0");
}

TEST(Config, SyntaxErrorAndUnknownSectionsAndPortOfDirectRouting) {
  auto syntax = errors_of("[director]\nqueue = = 3\n");
  ASSERT_EQ(syntax.size(), 1u);
  EXPECT_EQ(syntax[0].rfind("t.toml:2:", 0), 0u) << syntax[0];
  auto errs = errors_of(R"([directer]
queue = 1
[[service]]
address = "192.0.2.10:80"
[[service.real]]
address = "203.0.113.11:8080"
forward = "dr"
[control]
socket = "relative.sock"
)");
  ASSERT_EQ(errs.size(), 3u);
  EXPECT_EQ(errs[0].rfind("t.toml:1:1: unknown key 'directer' in the top level; known keys: director, timeouts, control, metrics, log, arp, ha, bgp, service", 0), 0u) << errs[0];
  EXPECT_EQ(errs[1], "t.toml:6:11: real server 203.0.113.11:8080 uses forward = \"dr\", which does not rewrite ports: give it the service's port 80 (or none) and let it listen there");
  EXPECT_EQ(errs[2], "t.toml:9:10: control.socket must be an absolute path, got \"relative.sock\"");
}

TEST(Config, ArpSection) {
  auto r = parse_config("[arp]\ngarp_repeat = 0\nhiding = \"sysctl\"\n", "t.toml");
  ASSERT_TRUE(r.config) << r.errors[0].to_string();
  EXPECT_EQ(r.config->arp.garp_repeat, 0u);
  EXPECT_EQ(r.config->arp.garp_interval_ms, 200u);
  EXPECT_EQ(r.config->arp.hiding, ArpHiding::sysctl);
  EXPECT_EQ(parse_config("", "t.toml").config->arp.hiding, ArpHiding::both);
  auto errs = errors_of("[arp]\nhiding = \"nft\"\ngarp_repeat = 1000\n");
  ASSERT_EQ(errs.size(), 2u);
  EXPECT_EQ(errs[0].rfind("t.toml:2:10: ", 0), 0u) << errs[0];
  EXPECT_NE(errs[0].find("both"), std::string::npos) << errs[0];
  EXPECT_EQ(errs[1].rfind("t.toml:3:15: ", 0), 0u) << errs[1];
}

TEST(Config, UnreadableFile) {
  auto r = load_config_file("/nonexistent/vsd.toml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].to_string(), "/nonexistent/vsd.toml:0:0: cannot read: No such file or directory");
}

TEST(Config, ShippedSamplesParse) {
  namespace fs = std::filesystem;
  fs::path root = fs::path(__FILE__).parent_path().parent_path().parent_path().parent_path();
  for (const char* f : {"etc/vsd.toml", "etc/demo.toml", "etc/demo-dr.toml"}) {
    auto r = load_config_file((root / f).string());
    EXPECT_TRUE(r.config) << f << ": " << (r.errors.empty() ? "" : r.errors[0].to_string());
  }
}

TEST(ConfigSemantics, PersistenceKeysAndTheirErrors) {
  auto r = parse_config(R"(
[[service]]
address = "192.0.2.10:0"
[[service]]
address = "192.0.2.11:53"
protocol = "udp"
ops = true
persistent = true
[[service]]
fwmark = 3
address = "192.0.2.12:80"
persistence_netmask = "255.0.255.0"
[[service]]
address = "192.0.2.13:80"
persistent = true
scheduler = "mh"
scheduler_flags = ["mh-port", "sh-port"]
[[service.real]]
address = "203.0.113.11"
upper_threshold = 10
lower_threshold = 20
)", "t.toml");
  std::vector<std::string> errs;
  for (auto& e : r.errors) errs.push_back(e.to_string());
  ASSERT_EQ(errs.size(), 6u) << ::testing::PrintToString(errs);
  EXPECT_NE(errs[0].find("t.toml:3:11: a port-0 service"), std::string::npos);
  EXPECT_NE(errs[1].find("t.toml:7:7: service.ops and persistent exclude each other"), std::string::npos);
  EXPECT_NE(errs[2].find("t.toml:10:10: a service has either address"), std::string::npos);
  EXPECT_NE(errs[3].find("t.toml:12:23: service.persistence_netmask \"255.0.255.0\" is not a contiguous"), std::string::npos);
  EXPECT_NE(errs[4].find("t.toml:17:31: scheduler flag \"sh-port\" is not a flag of scheduler mh; its flags: mh-fallback, mh-port"), std::string::npos);
  EXPECT_NE(errs[5].find("t.toml:21:19: real.lower_threshold (20) must be below upper_threshold (10)"), std::string::npos);
  auto ok = parse_config("[[service]]\naddress = \"192.0.2.10:0\"\npersistent = true\n", "t.toml");
  ASSERT_TRUE(ok.config);
  EXPECT_EQ(ok.config->services[0].persistent, 360u) << "bare -p is 360 s";
}

TEST(ConfigFastPath, KeysAndTheirErrors) {
  auto ok = parse_config("[director]\nfast_path = false\nmark_mask = 0x00ff0000\n", "t.toml");
  ASSERT_TRUE(ok.config);
  EXPECT_FALSE(ok.config->director.fast_path);
  EXPECT_EQ(ok.config->director.mark_mask, 0x00ff0000u);
  auto defaults = parse_config("", "t.toml");
  EXPECT_TRUE(defaults.config->director.fast_path);
  EXPECT_EQ(defaults.config->director.mark_mask, 0xffff0000u);
  auto bad = parse_config("[director]\nmark_mask = 0xff00ff00\n", "t.toml");
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_EQ(bad.errors[0].to_string().rfind("t.toml:2:13: director.mark_mask 0xff00ff00 must be one run of bits", 0), 0u)
      << bad.errors[0].to_string();
  auto tiny = parse_config("[director]\nmark_mask = 3\n", "t.toml");
  ASSERT_EQ(tiny.errors.size(), 1u);
  EXPECT_NE(tiny.errors[0].reason.find("at least 4 bits"), std::string::npos) << tiny.errors[0].reason;
}

TEST(ConfigFloodDefences, KeysDefaultsAndErrors) {
  auto defaults = parse_config("", "t.toml");
  ASSERT_TRUE(defaults.config);
  const DirectorConfig& d = defaults.config->director;
  EXPECT_EQ(d.drop_entry, 1u) << "vsd's default: evict half-open entries under pressure";
  EXPECT_EQ(d.drop_packet, 0u);
  EXPECT_EQ(d.secure_tcp, 0u);
  EXPECT_EQ(d.am_droprate, 10u);
  EXPECT_DOUBLE_EQ(d.pressure_threshold, 0.9);
  auto ok = parse_config(R"([director]
drop_entry = 3
drop_packet = 2
secure_tcp = 1
am_droprate = 5
pressure_threshold = 0.75
[[service]]
address = "192.0.2.10:80"
table_share = 0.5
synproxy = true
synproxy_mss = 1400
synproxy_wscale = 9
[[service.real]]
address = "203.0.113.11"
)",
                         "t.toml");
  ASSERT_TRUE(ok.config) << ok.errors.front().to_string();
  EXPECT_EQ(ok.config->director.drop_entry, 3u);
  EXPECT_EQ(ok.config->director.drop_packet, 2u);
  EXPECT_EQ(ok.config->director.secure_tcp, 1u);
  EXPECT_EQ(ok.config->director.am_droprate, 5u);
  EXPECT_DOUBLE_EQ(ok.config->director.pressure_threshold, 0.75);
  const ServiceConfig& s = ok.config->services.at(0);
  EXPECT_DOUBLE_EQ(s.table_share, 0.5);
  EXPECT_TRUE(s.synproxy);
  EXPECT_EQ(s.synproxy_mss, 1400u);
  EXPECT_EQ(s.synproxy_wscale, 9u);
  EXPECT_DOUBLE_EQ(parse_config("[[service]]\naddress = \"192.0.2.10:80\"\ntable_share = 1\n", "t.toml")
                       .config->services.at(0).table_share,
                   1.0)
      << "the integer 1 is a share too";

  auto bad = parse_config(R"([director]
drop_entry = 4
pressure_threshold = 0
[[service]]
address = "192.0.2.10:80"
table_share = 1.5
synproxy_wscale = 15
)",
                          "t.toml");
  std::vector<std::string> errors;
  for (const auto& e : bad.errors) errors.push_back(e.to_string());
  EXPECT_EQ(errors, (std::vector<std::string>{
                        "t.toml:2:14: director.drop_entry must be from 0 to 3, got 4",
                        "t.toml:3:22: director.pressure_threshold must be a fraction above 0 and at most 1, "
                        "e.g. 0.5, got 0.0",
                        "t.toml:6:15: service.table_share must be a fraction above 0 and at most 1, e.g. 0.5, "
                        "got 1.5",
                        "t.toml:7:19: service.synproxy_wscale must be from 0 to 14, got 15"}));
}

TEST(ConfigFloodDefences, SynproxyOnlyWhereTheKernelCanCarryTheFlow) {
  auto errors = [](const std::string& text) {
    std::vector<std::string> out;
    for (const auto& e : parse_config(text, "t.toml").errors) out.push_back(e.to_string());
    return out;
  };
  // DR: the director sees one direction.
  auto dr = errors(R"([[service]]
address = "198.51.100.100:80"
synproxy = true
[[service.real]]
address = "198.51.100.21"
forward = "dr"
)");
  ASSERT_EQ(dr.size(), 1u);
  EXPECT_EQ(dr[0].rfind("t.toml:3:12: service.synproxy works with NAT real servers only, and "
                        "198.51.100.21 is forward = \"dr\": the director sees one direction",
                        0),
            0u)
      << dr[0];
  // UDP, and the fast path off.
  auto udp = errors("[director]\nfast_path = false\n[[service]]\naddress = \"192.0.2.10:53\"\nprotocol = "
                    "\"udp\"\nsynproxy = true\n");
  ASSERT_EQ(udp.size(), 2u);
  EXPECT_NE(udp[0].find("service.synproxy is for TCP services"), std::string::npos) << udp[0];
  EXPECT_NE(udp[1].find("needs [director] fast_path = true"), std::string::npos) << udp[1];
  // fwmark services.
  auto fwm = errors("[[service]]\nfwmark = 7\nsynproxy = true\n");
  ASSERT_EQ(fwm.size(), 1u);
  EXPECT_NE(fwm[0].find("needs a VIP:port service"), std::string::npos) << fwm[0];
  // The proxy's options without the proxy.
  auto opts = errors("[[service]]\naddress = \"192.0.2.10:80\"\nsynproxy_mss = 1400\n");
  ASSERT_EQ(opts.size(), 1u);
  EXPECT_EQ(opts[0], "t.toml:3:16: synproxy_mss and synproxy_wscale are the SYN proxy's options: they need "
                     "synproxy = true");
}

TEST(ConfigFloodDefences, WrittenAndReadBack) {
  Config c;
  c.director.drop_entry = 0;
  c.director.pressure_threshold = 0.8;
  ServiceConfig s;
  s.address = *Endpoint::parse("192.0.2.10:80");
  s.table_share = 0.25;
  s.synproxy = true;
  c.services.push_back(s);
  const std::string text = write_config_toml(c);
  EXPECT_NE(text.find("drop_entry = 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("pressure_threshold = 0.8\n"), std::string::npos) << text;
  EXPECT_NE(text.find("table_share = 0.25\n"), std::string::npos) << text;
  EXPECT_NE(text.find("synproxy = true\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("synproxy_mss"), std::string::npos) << "at its default: left out";
  auto back = parse_config(text, "saved.toml");
  ASSERT_TRUE(back.config) << back.errors.front().to_string();
  EXPECT_DOUBLE_EQ(back.config->director.pressure_threshold, 0.8);
  EXPECT_DOUBLE_EQ(back.config->services.at(0).table_share, 0.25);
  EXPECT_EQ(back.config->director.drop_entry, 0u);
}

}  // namespace
}  // namespace vsd
