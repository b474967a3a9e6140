// Service-level defaults (forward, sorry_server_forward, ha_suspend) and
// several checks per real server ([[service.check]] / [[service.real.check]])
// through the reader, validate() and the writer.
#include <gtest/gtest.h>

#include "appliance/config/config.hpp"
#include "appliance/config/config_validate.hpp"
#include "appliance/config/config_writer.hpp"

namespace vsd {
namespace {

Config parse_ok(const std::string& text) {
  auto r = parse_config(text, "t.toml");
  EXPECT_TRUE(r.config) << (r.errors.empty() ? "" : r.errors[0].to_string()) << "\n" << text;
  return r.config.value_or(Config{});
}

std::vector<std::string> errors(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& e : parse_config(text, "t.toml").errors) out.push_back(e.to_string());
  return out;
}

TEST(ServiceForward, RealServersInheritIt) {
  Config c = parse_ok(R"(
[[service]]
address = "198.51.100.100:80"
forward = "dr"
[[service.real]]
address = "198.51.100.21"
[[service.real]]
address = "198.51.100.22"
forward = "nat"
)");
  ASSERT_EQ(c.services[0].reals.size(), 2u);
  EXPECT_EQ(c.services[0].forward, ForwardMethod::dr);
  EXPECT_EQ(c.services[0].reals[0].forward, ForwardMethod::dr);
  EXPECT_EQ(c.services[0].reals[1].forward, ForwardMethod::nat) << "its own forward wins";
  const std::string text = write_config_toml(c);
  EXPECT_NE(text.find("forward = \"dr\"\n"), std::string::npos) << text;
  Config back = parse_ok(text);
  EXPECT_EQ(back.services[0].forward, ForwardMethod::dr);
  EXPECT_EQ(back.services[0].reals[1].forward, ForwardMethod::nat);
}

TEST(ServiceForward, InheritedDrKeepsThePortRule) {
  auto e = errors(R"(
[[service]]
address = "198.51.100.100:80"
forward = "dr"
[[service.real]]
address = "198.51.100.21:8080"
)");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].find("t.toml:6:11: real server 198.51.100.21:8080 uses forward = \"dr\""), std::string::npos) << e[0];
}

TEST(ServiceForward, TheSorryServerTakesTheServicesMethodAndKeepsItsPort) {
  // keepalived's default: the sorry server takes the virtual server's
  // lvs_method. DR/TUN do not rewrite ports.
  auto e = errors(R"(
[[service]]
address = "198.51.100.100:80"
forward = "dr"
sorry_server = "198.51.100.99:8080"
[[service.real]]
address = "198.51.100.21"
)");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0], "t.toml:5:16: sorry_server 198.51.100.99:8080 is forwarded with forward = \"dr\" (the service's "
                  "forward), which does not rewrite ports: give it the service's port 80 (or none) and let it "
                  "listen there, or set sorry_server_forward = \"nat\"");
  Config c = parse_ok(R"(
[[service]]
address = "198.51.100.100:80"
forward = "dr"
sorry_server = "198.51.100.99"
[[service.real]]
address = "198.51.100.21"
)");
  EXPECT_EQ(sorry_forward(c.services[0]), ForwardMethod::dr);
  auto reals = node_reals(c.services[0]);
  ASSERT_EQ(reals.size(), 2u);
  EXPECT_EQ(reals[1].address.to_string(), "198.51.100.99:0");
  EXPECT_EQ(reals[1].forward, ForwardMethod::dr);
  EXPECT_EQ(reals[1].where.line, 5) << "the sorry_server key's line";
  c = parse_ok(R"(
[[service]]
address = "198.51.100.100:80"
forward = "dr"
sorry_server = "203.0.113.99:8080"
sorry_server_forward = "nat"
[[service.real]]
address = "198.51.100.21"
)");
  EXPECT_EQ(sorry_forward(c.services[0]), ForwardMethod::nat);
  EXPECT_EQ(node_reals(c.services[0]).back().forward, ForwardMethod::nat);
  e = errors("[[service]]\naddress = \"192.0.2.1:80\"\nsorry_server = \"203.0.113.9:81\"\nsorry_server_forward = \"tun\"\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].find("t.toml:3:16: sorry_server 203.0.113.9:81 is forwarded with forward = \"tun\" (its "
                      "sorry_server_forward)"),
            std::string::npos)
      << e[0];
  e = errors("[[service]]\naddress = \"192.0.2.1:80\"\nsorry_server_forward = \"nat\"\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0], "t.toml:3:24: service.sorry_server_forward needs a sorry_server");
  e = errors("[[service]]\naddress = \"192.0.2.1:80\"\nforward = \"drr\"\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0], "t.toml:3:11: service.forward must be nat | tun | dr, got \"drr\"");
}

TEST(ServiceForward, HaSuspendNeedsAVip) {
  Config c = parse_ok("[[service]]\naddress = \"192.0.2.1:80\"\nha_suspend = true\n");
  EXPECT_TRUE(c.services[0].ha_suspend);
  EXPECT_NE(write_config_toml(c).find("ha_suspend = true"), std::string::npos);
  auto e = errors("[[service]]\nfwmark = 3\nha_suspend = true\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].find("t.toml:3:14: service.ha_suspend pauses the checks"), std::string::npos) << e[0];
  parse_ok("[[service]]\nfwmark = 3\nmembers = [\"192.0.2.1:80\"]\nha_suspend = true\n");
}

const char* kSeveral = R"(
[[service]]
address = "192.0.2.10:80"
[[service.check]]
type = "http"
virtualhost = "www.example.com"
on_failure = "quiesce"
[[service.check]]
type = "tcp"
connect_to = ":22"

[[service.real]]
address = "203.0.113.11:80"

[[service.real]]
address = "203.0.113.12:80"
[[service.real.check]]
path = "/other"
[[service.real.check]]
[[service.real.check]]
type = "misc"
command = "/usr/local/bin/extra"
user = "nobody"
)";

TEST(SeveralChecks, ReadValidateWrite) {
  Config c = parse_ok(kSeveral);
  const auto& s = c.services[0];
  ASSERT_TRUE(s.check_defaults);
  ASSERT_EQ(s.more_check_defaults.size(), 1u);
  ASSERT_EQ(checks_of(s.reals[0]).size(), 2u);
  EXPECT_EQ(checks_of(s.reals[0])[1].connect_to.to_string(), ":22");
  const auto three = checks_of(s.reals[1]);
  ASSERT_EQ(three.size(), 3u);
  EXPECT_EQ(three[0].path, "/other");
  EXPECT_EQ(three[0].virtualhost, "www.example.com");
  EXPECT_EQ(three[1].type, health::CheckType::tcp);
  EXPECT_EQ(three[2].type, health::CheckType::misc);
  EXPECT_TRUE(validate(c).empty());
  // Written and read back: the same checks, the service's twice.
  const std::string text = write_config_toml(c);
  EXPECT_NE(text.find("[[service.check]]\ntype = \"http\""), std::string::npos) << text;
  EXPECT_NE(text.find("[[service.real.check]]\npath = \"/other\"\n\n[[service.real.check]]\n\n[[service.real.check]]\n"
                      "type = \"misc\""),
            std::string::npos)
      << text;
  Config back = parse_ok(text);
  EXPECT_EQ(checks_of(back.services[0].reals[0]), checks_of(s.reals[0]));
  EXPECT_EQ(checks_of(back.services[0].reals[1]), three);
  EXPECT_EQ(write_config_toml(back), text);
  // vsadm -a: a new real server takes the service's checks.
  EXPECT_EQ(service_checks(s).size(), 2u);
}

TEST(SeveralChecks, Errors) {
  auto e = errors(R"(
[[service]]
address = "192.0.2.10:80"
[[service.check]]
type = "http"
[[service.check]]
type = "tcp"
[[service.real]]
address = "203.0.113.11:80"
[service.real.check]
path = "/x"
)");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].find("t.toml:10:1: its service has 2 checks ([[service.check]])"), std::string::npos) << e[0];
  e = errors(R"(
[[service]]
address = "192.0.2.10:80"
[[service.check]]
type = "http"
[[service.check]]
type = "tcp"
notify = "/bin/alert"
notify_user = "nobody"
[[service.real]]
address = "203.0.113.11:80"
)");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].find("t.toml:6:1: on_failure, slow_start, notify and notify_user belong to the real server"),
            std::string::npos)
      << e[0];
  // Built in code: the same rule through validate().
  Config c = parse_ok(kSeveral);
  c.services[0].reals[0].more_checks[0].on_failure = health::OnFailure::quiesce;
  auto v = validate(c);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_NE(v[0].reason.find("not in check 2"), std::string::npos) << v[0].reason;
}

}  // namespace
}  // namespace vsd
