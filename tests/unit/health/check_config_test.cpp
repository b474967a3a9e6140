#include "appliance/health/check_config_toml.hpp"

#include <gtest/gtest.h>

namespace vsd::health {
namespace {

// Parses a document and reads the check table at `path` ("service.check").
CheckTableResult read(const toml::table& doc, const char* path) {
  const toml::node* n = doc.at_path(path).node();
  EXPECT_TRUE(n && n->is_table()) << path;
  return parse_check_table(*n->as_table(), std::string("[") + path + "]");
}

std::vector<std::string> errors_of(const char* text, const char* path = "check") {
  toml::table doc = toml::parse(text);
  std::vector<std::string> out;
  for (const auto& e : read(doc, path).errors)
    out.push_back(std::to_string(e.line) + ":" + std::to_string(e.column) + ": " + e.reason);
  return out;
}

TEST(CheckConfig, Defaults) {
  CheckConfig c;
  EXPECT_EQ(c.type, CheckType::tcp);
  EXPECT_EQ(c.interval_ms, 5000u);
  EXPECT_EQ(c.timeout_ms, 3000u);
  EXPECT_EQ(c.rise, 2u);
  EXPECT_EQ(c.fall, 3u);
  EXPECT_FALSE(c.alpha);
  EXPECT_EQ(c.on_failure, OnFailure::remove);
  EXPECT_EQ(c.path, "/");
}

TEST(CheckConfig, EveryKey) {
  toml::table doc = toml::parse(R"(
[check]
type = "http"
interval = 2
timeout = 0.5
rise = 3
fall = 4
connect_to = "[2001:db8::9]:8080"
path = "/healthz"
status = [200, 204]
digest = "5d41402abc4b2a76b9719d911017c592"
warmup = 10
alpha = true
on_failure = "quiesce"
slow_start = 30
notify = "/usr/local/bin/alert"
notify_user = "nobody"
)");
  auto r = read(doc, "check");
  ASSERT_TRUE(r.errors.empty()) << r.errors[0].reason;
  auto m = merge_check(&r.overrides, nullptr);
  ASSERT_TRUE(m.config);
  const CheckConfig& c = *m.config;
  EXPECT_EQ(c.type, CheckType::http);
  EXPECT_EQ(c.interval_ms, 2000u);
  EXPECT_EQ(c.timeout_ms, 500u);
  EXPECT_EQ(c.rise, 3u);
  EXPECT_EQ(c.fall, 4u);
  EXPECT_EQ(c.connect_to.to_string(), "[2001:db8::9]:8080");
  EXPECT_EQ(c.path, "/healthz");
  EXPECT_EQ(c.status, (std::vector<int>{200, 204}));
  ASSERT_TRUE(c.digest);
  EXPECT_EQ(c.digest->algorithm, Digest::Algorithm::md5);
  EXPECT_EQ(c.warmup_ms, 10000u);
  EXPECT_TRUE(c.alpha);
  EXPECT_EQ(c.on_failure, OnFailure::quiesce);
  EXPECT_EQ(c.slow_start_ms, 30000u);
  EXPECT_EQ(c.notify, "/usr/local/bin/alert");
}

TEST(CheckConfig, ConnectToForms) {
  auto ct = [](const char* s) {
    std::string why;
    auto c = ConnectTo::parse(s, &why);
    return c ? c->to_string() : "error: " + why;
  };
  EXPECT_EQ(ct("203.0.113.5:8080"), "203.0.113.5:8080");
  EXPECT_EQ(ct("203.0.113.5"), "203.0.113.5");
  EXPECT_EQ(ct("2001:db8::5"), "[2001:db8::5]");
  EXPECT_EQ(ct("[2001:db8::5]"), "[2001:db8::5]");
  EXPECT_EQ(ct(":8080"), ":8080");
  EXPECT_EQ(ct(":0"), "error: bad port \"0\"");
  EXPECT_EQ(ct("example.com:80"), "error: not an IPv4 or IPv6 address");
  EXPECT_EQ(ct("203.0.113.5:0"), "error: port 0 cannot be probed");

  Endpoint real = *Endpoint::parse("203.0.113.11:8000");
  EXPECT_EQ(probe_destination(real, {}).to_string(), "203.0.113.11:8000");
  EXPECT_EQ(probe_destination(real, *ConnectTo::parse(":9000")).to_string(), "203.0.113.11:9000");
  EXPECT_EQ(probe_destination(real, *ConnectTo::parse("198.51.100.1")).to_string(), "198.51.100.1:8000");

  toml::table doc = toml::parse("[check]\ntype = \"tcp\"\nconnect_to = 9100\n");
  auto r = read(doc, "check");
  ASSERT_TRUE(r.errors.empty());
  EXPECT_EQ(r.overrides.connect_to->to_string(), ":9100");
}

TEST(CheckConfig, ErrorsCarryLineAndColumn) {
  EXPECT_EQ(errors_of(R"([check]
type = "smtp"
interval = "5s"
timeout = 0
rise = 0
fall = 1.5
alpha = "yes"
)"),
            (std::vector<std::string>{
                "2:8: check.type must be tcp | http | https | udp | icmp | misc | dns | file, got \"smtp\"",
                "3:12: check.interval must be a number of seconds, got string",
                "4:11: check.timeout must be from 0.01 to 3600 seconds, got 0",
                "5:8: check.rise must be from 1 to 1000, got 0",
                "6:8: check.fall must be an integer, got float",
                "7:9: check.alpha must be true or false, got string",
            }));
}

TEST(CheckConfig, UnknownKeysListTheKnownOnes) {
  auto e = errors_of("[check]\ntype = \"tcp\"\nintervall = 5\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0],
            "3:13: unknown key 'intervall' in [check]; known keys: type, interval, timeout, rise, fall, "
            "retry, delay_before_retry, warmup, alpha, on_failure, slow_start, notify, notify_user, connect_to, "
            "path, status, digest, url, virtualhost, sni, tls_ca, tls_cert, tls_key, payload, payload_hex, "
            "expect, expect_hex, command, dynamic, user, query_type, query_name, answer, file, factor, reverse");
}

TEST(CheckConfig, ValueErrors) {
  EXPECT_EQ(errors_of(R"([check]
type = "http"
status = [200, 700, "x"]
digest = "1234"
path = "healthz"
connect_to = "203.0.113.5:99999"
on_failure = "drain"
)"),
            (std::vector<std::string>{
                "3:16: check.status entries must be HTTP status codes from 100 to 599 or ranges \"LOW-HIGH\" "
                "such as \"200-299\"",
                "3:21: check.status entries must be HTTP status codes from 100 to 599 or ranges \"LOW-HIGH\" "
                "such as \"200-299\"",
                "4:10: bad check.digest: a digest is 32 hex digits (MD5, as keepalived's genhash prints) or 64 "
                "(SHA-256), got 4 characters",
                "5:8: check.path must start with '/' and hold no spaces or line breaks, got \"healthz\"",
                "6:14: bad check.connect_to \"203.0.113.5:99999\": port must be a number from 0 to 65535 "
                "(write \"ADDRESS:PORT\", \"ADDRESS\" or \":PORT\")",
                "7:14: check.on_failure must be remove | quiesce, got \"drain\"",
            }));
  EXPECT_EQ(errors_of("[check]\ntype = \"http\"\nstatus = []\n"),
            (std::vector<std::string>{
                "3:10: check.status must list at least one code (leave it out to accept any 2xx)"}));
  EXPECT_EQ(errors_of("[check]\ntype = \"misc\"\ncommand = \"  \"\n"),
            (std::vector<std::string>{"3:11: check.command must not be empty"}));
}

TEST(CheckConfig, KeysMustFitTheTablesType) {
  EXPECT_EQ(errors_of("[check]\ntype = \"tcp\"\npath = \"/x\"\n"),
            (std::vector<std::string>{
                "3:8: check.path does not apply to type = \"tcp\" (its keys: type, interval, timeout, rise, "
                "fall, retry, delay_before_retry, warmup, alpha, on_failure, slow_start, notify, notify_user, "
                "connect_to)"}));
}

const char* service_and_reals = R"([[service]]
address = "192.0.2.10:80"
[service.check]
type = "http"
path = "/healthz"
interval = 2
fall = 2
[[service.real]]
address = "203.0.113.11:8000"
[[service.real]]
address = "203.0.113.12:8000"
[service.real.check]
path = "/other"
rise = 5
[[service.real]]
address = "203.0.113.13:8000"
[service.real.check]
type = "tcp"
[[service.real]]
address = "203.0.113.14:8000"
[service.real.check]
payload = "x"
)";

TEST(CheckConfig, RealOverridesServiceDefaults) {
  toml::table doc = toml::parse(service_and_reals);
  auto svc = read(doc, "service[0].check");
  ASSERT_TRUE(svc.errors.empty());

  auto plain = merge_check(&svc.overrides, nullptr);  // real 1: the service's check
  ASSERT_TRUE(plain.config);
  EXPECT_EQ(plain.config->path, "/healthz");
  EXPECT_EQ(plain.config->interval_ms, 2000u);
  EXPECT_EQ(plain.config->rise, 2u);

  auto r2 = read(doc, "service[0].real[1].check");
  auto m2 = merge_check(&svc.overrides, &r2.overrides);
  ASSERT_TRUE(m2.config);
  EXPECT_EQ(m2.config->type, CheckType::http);
  EXPECT_EQ(m2.config->path, "/other");
  EXPECT_EQ(m2.config->rise, 5u);
  EXPECT_EQ(m2.config->fall, 2u);           // inherited
  EXPECT_EQ(m2.config->interval_ms, 2000u);  // inherited

  // Another type: the service's http keys simply do not apply.
  auto r3 = read(doc, "service[0].real[2].check");
  auto m3 = merge_check(&svc.overrides, &r3.overrides);
  ASSERT_TRUE(m3.config) << m3.errors[0].reason;
  EXPECT_EQ(m3.config->type, CheckType::tcp);
  EXPECT_EQ(m3.config->interval_ms, 2000u);

  // A real's key that does not fit the inherited type is an error at the key.
  auto r4 = read(doc, "service[0].real[3].check");
  ASSERT_TRUE(r4.errors.empty());
  auto m4 = merge_check(&svc.overrides, &r4.overrides);
  EXPECT_FALSE(m4.config);
  ASSERT_EQ(m4.errors.size(), 1u);
  EXPECT_EQ(m4.errors[0].line, 22);
  EXPECT_EQ(m4.errors[0].column, 11);
  EXPECT_EQ(m4.errors[0].reason.substr(0, 46), "check.payload does not apply to type = \"http\" ");
}

TEST(CheckConfig, MergeNeedsATypeAndMiscACommand) {
  EXPECT_FALSE(merge_check(nullptr, nullptr).config);  // no check at all
  EXPECT_TRUE(merge_check(nullptr, nullptr).errors.empty());

  toml::table doc = toml::parse("[a]\ninterval = 3\n[b]\ntype = \"misc\"\n");
  auto a = read(doc, "a");
  auto m = merge_check(&a.overrides, nullptr);
  ASSERT_EQ(m.errors.size(), 1u);
  EXPECT_EQ(m.errors[0].line, 1);
  EXPECT_EQ(m.errors[0].reason.substr(0, 22), "a check needs a type: ");

  auto b = read(doc, "b");
  m = merge_check(&a.overrides, &b.overrides);
  ASSERT_EQ(m.errors.size(), 1u);
  EXPECT_EQ(m.errors[0].line, 3);
  EXPECT_EQ(m.errors[0].reason, "a misc check needs a command, e.g. command = \"/usr/local/bin/check\"");
}

TEST(CheckConfig, WriteKeysGivesBackTheTable) {
  toml::table doc = toml::parse(R"([check]
type = "http"
interval = 2.5
timeout = 0.25
rise = 2
connect_to = "[2001:db8::9]:8080"
path = "/q\"x\""
status = [200, 204]
digest = "5D41402ABC4B2A76B9719D911017C592"
alpha = false
notify = ""
)");
  auto r = read(doc, "check");
  ASSERT_TRUE(r.errors.empty());
  const std::string text = write_check_keys(r.overrides);
  EXPECT_EQ(text,
            "type = \"http\"\ninterval = 2.500\ntimeout = 0.250\nrise = 2\nalpha = false\nnotify = \"\"\n"
            "connect_to = \"[2001:db8::9]:8080\"\npath = \"/q\\\"x\\\"\"\nstatus = [200, 204]\n"
            "digest = \"5d41402abc4b2a76b9719d911017c592\"\n");
  toml::table again = toml::parse("[check]\n" + text);
  auto back = read(again, "check");
  ASSERT_TRUE(back.errors.empty()) << back.errors[0].reason;
  EXPECT_EQ(write_check_keys(back.overrides), text);
  EXPECT_EQ(merge_check(&back.overrides, nullptr).config, merge_check(&r.overrides, nullptr).config);
  EXPECT_EQ(write_check_keys(CheckOverrides{}), "");
}

TEST(CheckConfig, OverridesAreWhatDiffersFromTheService) {
  toml::table doc = toml::parse(service_and_reals);
  auto svc = read(doc, "service[0].check");
  ASSERT_TRUE(svc.errors.empty());
  for (const char* real : {"service[0].real[1].check", "service[0].real[2].check"}) {
    auto own = read(doc, real);
    auto merged = merge_check(&svc.overrides, &own.overrides);
    ASSERT_TRUE(merged.config) << real;
    CheckOverrides written = check_overrides(&svc.overrides, *merged.config);
    EXPECT_EQ(merge_check(&svc.overrides, &written).config, merged.config) << real;
  }
  auto same = merge_check(&svc.overrides, nullptr).config;
  EXPECT_EQ(write_check_keys(check_overrides(&svc.overrides, *same)), "") << "the service's own check";
  auto own = read(doc, "service[0].real[1].check");
  EXPECT_EQ(write_check_keys(check_overrides(&svc.overrides, *merge_check(&svc.overrides, &own.overrides).config)),
            "rise = 5\npath = \"/other\"\n");
  // Without a service table, or one without a type, the type is written.
  CheckConfig plain;
  EXPECT_EQ(write_check_keys(check_overrides(nullptr, plain)), "type = \"tcp\"\n");
  CheckOverrides no_type;
  no_type.interval_ms = 1000;
  plain.interval_ms = 1000;
  EXPECT_EQ(write_check_keys(check_overrides(&no_type, plain)), "type = \"tcp\"\n");
}

TEST(CheckConfig, ProblemsOfChecksBuiltInCode) {
  CheckConfig c;
  EXPECT_TRUE(check_problems(c).empty());
  c.interval_ms = 0;
  c.rise = 0;
  c.path = "x";  // not an http check: path is not its key
  EXPECT_EQ(check_problems(c), (std::vector<std::string>{"check.interval must be from 0.01 to 86400 seconds, got 0",
                                                         "check.rise must be from 1 to 1000, got 0"}));
  c = {};
  c.type = CheckType::http;
  c.path = "x";
  c.status = {99};
  c.connect_to.port = 0;
  EXPECT_EQ(check_problems(c),
            (std::vector<std::string>{"check.connect_to port must be from 1 to 65535, got 0",
                                      "check.path must start with '/' and hold no spaces or line breaks, got \"x\"",
                                      "check.status entries must be HTTP status codes from 100 to 599 or ranges "
                                      "\"LOW-HIGH\" such as \"200-299\""}));
  c = {};
  c.type = CheckType::misc;
  EXPECT_EQ(check_problems(c),
            (std::vector<std::string>{"a misc check needs a command, e.g. command = \"/usr/local/bin/check\""}));
  CheckOverrides table;
  table.timeout_ms = 3600001;
  table.command = " ";
  EXPECT_EQ(check_problems(table),
            (std::vector<std::string>{"check.timeout must be from 0.01 to 3600 seconds, got 3600.001",
                                      "check.command must not be empty"}));
}

}  // namespace
}  // namespace vsd::health
