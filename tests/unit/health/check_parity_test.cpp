// keepalived check parity, the configuration half: the keys added for
// virtualhost/SNI/TLS files, several URLs and status ranges, retry and
// delay_before_retry, misc_dynamic and script users, DNS, UDP bytes as hex,
// the file check, and several checks per real server.
#include <gtest/gtest.h>

#include "appliance/health/check_config_toml.hpp"
#include "appliance/health/dns_message.hpp"

namespace vsd::health {
namespace {

CheckTableResult read_table(const toml::table& doc, const char* path) {
  const toml::node* n = doc.at_path(path).node();
  EXPECT_TRUE(n && n->is_table()) << path;
  return parse_check_table(*n->as_table(), std::string("[") + path + "]");
}

std::vector<std::string> errors_of(const char* text, const char* path = "check") {
  toml::table doc = toml::parse(text);
  std::vector<std::string> out;
  auto r = read_table(doc, path);
  for (const auto& e : r.errors) out.push_back(std::to_string(e.line) + ":" + std::to_string(e.column) + ": " + e.reason);
  if (r.errors.empty())
    for (const auto& e : merge_check(&r.overrides, nullptr).errors)
      out.push_back(std::to_string(e.line) + ":" + std::to_string(e.column) + ": " + e.reason);
  return out;
}

CheckConfig check_of(const char* text) {
  toml::table doc = toml::parse(text);
  auto r = read_table(doc, "check");
  EXPECT_TRUE(r.errors.empty()) << (r.errors.empty() ? "" : r.errors[0].reason);
  auto m = merge_check(&r.overrides, nullptr);
  EXPECT_TRUE(m.config) << (m.errors.empty() ? "" : m.errors[0].reason);
  return m.config.value_or(CheckConfig{});
}

// The table a check writes reads back as the same check.
void expect_round_trip(const CheckConfig& c) {
  const std::string text = "[check]\n" + write_check_keys(check_overrides(nullptr, c));
  toml::table doc = toml::parse(text);
  auto r = read_table(doc, "check");
  ASSERT_TRUE(r.errors.empty()) << text << r.errors[0].reason;
  auto m = merge_check(&r.overrides, nullptr);
  ASSERT_TRUE(m.config) << text << m.errors[0].reason;
  EXPECT_EQ(*m.config, c) << text;
}

TEST(CheckParity, HttpsKeys) {
  auto c = check_of(R"(
[check]
type = "https"
virtualhost = "www.example.com:8443"
sni = "www.example.com"
tls_ca = "/etc/vsd/ca.pem"
tls_cert = "/etc/vsd/client.pem"
tls_key = "/etc/vsd/client.key"
status = [200, "300-302", 204]
retry = 2
delay_before_retry = 0.5
)");
  EXPECT_EQ(c.virtualhost, "www.example.com:8443");
  EXPECT_EQ(c.sni, "www.example.com");
  EXPECT_EQ(c.tls_ca, "/etc/vsd/ca.pem");
  EXPECT_EQ(c.tls_cert, "/etc/vsd/client.pem");
  EXPECT_EQ(c.tls_key, "/etc/vsd/client.key");
  EXPECT_EQ(c.status, (std::vector<int>{200, 204, 300, 301, 302}));
  EXPECT_EQ(c.retry, 2u);
  EXPECT_EQ(c.retry_delay_ms, 500u);
  EXPECT_EQ(describe_status(c.status), "200, 204, 300-302");
  EXPECT_EQ(describe_status({301, 302}), "301, 302");
  expect_round_trip(c);
  EXPECT_NE(write_check_keys(check_overrides(nullptr, c)).find("status = [200, 204, \"300-302\"]"), std::string::npos);
}

TEST(CheckParity, SniEmptyMeansNone) {
  auto c = check_of("[check]\ntype = \"https\"\nvirtualhost = \"a.example\"\nsni = \"\"\n");
  ASSERT_TRUE(c.sni);
  EXPECT_EQ(*c.sni, "");
  expect_round_trip(c);
}

TEST(CheckParity, SeveralUrls) {
  auto c = check_of(R"(
[check]
type = "http"
virtualhost = "www.example.com"
url = [{ path = "/a" }, { path = "/b", status = ["200-299", 304], digest = "5d41402abc4b2a76b9719d911017c592", virtualhost = "b.example.com" }]
)");
  ASSERT_EQ(c.urls.size(), 2u);
  EXPECT_EQ(c.urls[0].path, "/a");
  EXPECT_TRUE(c.urls[0].status.empty());
  EXPECT_EQ(c.urls[1].status.size(), 101u);
  ASSERT_TRUE(c.urls[1].digest);
  EXPECT_EQ(c.urls[1].virtualhost, "b.example.com");
  EXPECT_EQ(requests_per_check(c), 2u);
  EXPECT_EQ(check_urls(c).size(), 2u);
  expect_round_trip(c);
}

TEST(CheckParity, UrlExcludesPath) {
  auto e = errors_of("[check]\ntype = \"http\"\npath = \"/x\"\nurl = [{ path = \"/a\" }]\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].find("check.url lists the URLs"), std::string::npos) << e[0];
  EXPECT_EQ(e[0].substr(0, 4), "4:7:");
  e = errors_of("[check]\ntype = \"http\"\nurl = [{ status = [200] }, { path = \"/a\", size = 1 }]\n");
  ASSERT_EQ(e.size(), 2u);
  EXPECT_NE(e[0].find("needs a path"), std::string::npos);
  EXPECT_NE(e[1].find("unknown key 'size' in check.url"), std::string::npos);
}

TEST(CheckParity, UrlFormsMergeByLevel) {
  toml::table doc = toml::parse(R"(
[svc]
type = "http"
url = [{ path = "/a" }, { path = "/b" }]
[one]
path = "/only"
[none]
interval = 9
)");
  auto svc = read_table(doc, "svc").overrides;
  auto one = read_table(doc, "one").overrides;
  auto none = read_table(doc, "none").overrides;
  auto m = merge_check(&svc, &one);
  ASSERT_TRUE(m.config);
  EXPECT_TRUE(m.config->urls.empty()) << "a real server's path brings back the one-URL form";
  EXPECT_EQ(m.config->path, "/only");
  // Written back over the service: the path says it.
  auto back = check_overrides(&svc, *m.config);
  EXPECT_EQ(back.path, "/only");
  m = merge_check(&svc, &none);
  ASSERT_TRUE(m.config);
  EXPECT_EQ(m.config->urls.size(), 2u);
}

TEST(CheckParity, StatusRangeErrors) {
  auto e = errors_of("[check]\ntype = \"http\"\nstatus = [\"299-200\", \"abc\", 99, \"200-299\"]\n");
  ASSERT_EQ(e.size(), 3u);
  for (const auto& x : e) EXPECT_NE(x.find("ranges \"LOW-HIGH\""), std::string::npos) << x;
}

TEST(CheckParity, UdpBytesAsHex) {
  auto e = errors_of("[check]\ntype = \"udp\"\npayload_hex = \"12 34 01 00\"\nexpect_hex = \"1234818 0\"\n");
  ASSERT_EQ(e.size(), 1u) << "an odd digit is no byte";
  auto c = check_of("[check]\ntype = \"udp\"\npayload_hex = \"123401ff\"\nexpect_hex = \"1234 8180\"\n");
  EXPECT_EQ(c.payload, std::string("\x12\x34\x01\xff", 4));
  EXPECT_EQ(c.expect, std::string("\x12\x34\x81\x80", 4));
  const std::string written = write_check_keys(check_overrides(nullptr, c));
  EXPECT_NE(written.find("payload_hex = \"123401ff\""), std::string::npos) << written;
  EXPECT_EQ(written.find("payload = "), std::string::npos) << written;
  expect_round_trip(c);
  c = check_of("[check]\ntype = \"udp\"\npayload = \"ping\"\n");
  EXPECT_NE(write_check_keys(check_overrides(nullptr, c)).find("payload = \"ping\""), std::string::npos);
}

TEST(CheckParity, ScriptsNeedAUser) {
  auto e = errors_of("[check]\ntype = \"misc\"\ncommand = \"/bin/true\"\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].find("needs a user to run as"), std::string::npos) << e[0];
  e = errors_of("[check]\ntype = \"tcp\"\nnotify = \"/bin/alert\"\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].find("notify_user"), std::string::npos) << e[0];
  auto c = check_of("[check]\ntype = \"misc\"\ncommand = \"/bin/true\"\nuser = \"nobody:nogroup\"\ndynamic = true\n"
                    "notify = \"/bin/alert\"\nnotify_user = \"root\"\n");
  ASSERT_TRUE(c.user);
  EXPECT_EQ(c.user->user, "nobody");
  EXPECT_EQ(c.user->group, "nogroup");
  EXPECT_TRUE(c.dynamic);
  ASSERT_TRUE(c.notify_user);
  EXPECT_TRUE(c.notify_user->root());
  expect_round_trip(c);
  e = errors_of("[check]\ntype = \"misc\"\ncommand = \"/bin/true\"\nuser = \"a:\"\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].find("bad check.user \"a:\""), std::string::npos) << e[0];
}

TEST(CheckParity, DnsAndFileKeys) {
  auto c = check_of("[check]\ntype = \"dns\"\nquery_type = \"aaaa\"\nquery_name = \"www.example.com\"\nanswer = \"2001:db8::1\"\n");
  EXPECT_EQ(c.query_type, DnsType::aaaa);
  EXPECT_EQ(c.query_name, "www.example.com");
  expect_round_trip(c);
  EXPECT_EQ(CheckConfig{}.query_type, DnsType::soa) << "keepalived's DNS_CHECK default";
  auto e = errors_of("[check]\ntype = \"dns\"\nquery_type = \"ANY\"\nquery_name = \"a..b\"\n");
  ASSERT_EQ(e.size(), 2u);
  c = check_of("[check]\ntype = \"file\"\nfile = \"/run/w\"\nfactor = -10\nreverse = true\n");
  EXPECT_EQ(c.file, "/run/w");
  EXPECT_EQ(c.factor, -10);
  EXPECT_TRUE(c.reverse);
  expect_round_trip(c);
  e = errors_of("[check]\ntype = \"file\"\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].find("needs the file"), std::string::npos);
  e = errors_of("[check]\ntype = \"file\"\nfile = \"rel\"\nfactor = 70000\nconnect_to = \":80\"\n");
  ASSERT_EQ(e.size(), 3u);
}

TEST(CheckParity, KeysOfOtherTypesAreRefused) {
  auto e = errors_of("[check]\ntype = \"http\"\nsni = \"a\"\nuser = \"nobody\"\n");
  ASSERT_EQ(e.size(), 2u);
  EXPECT_NE(e[0].find("check.sni does not apply to type = \"http\""), std::string::npos) << e[0];
}

TEST(CheckParity, SeveralChecksMerge) {
  toml::table doc = toml::parse(R"(
[s0]
type = "http"
on_failure = "quiesce"
[s1]
type = "tcp"
connect_to = ":22"
[r0]
path = "/x"
[r1]
[r2]
type = "icmp"
[bad]
type = "tcp"
slow_start = 5
)");
  std::vector<CheckOverrides> service{read_table(doc, "s0").overrides, read_table(doc, "s1").overrides};
  // No tables of its own: the service's checks.
  auto m = merge_checks(service, nullptr, false, {9, 1});
  ASSERT_TRUE(m.errors.empty());
  ASSERT_EQ(m.checks.size(), 2u);
  EXPECT_EQ(m.checks[1].connect_to.to_string(), ":22");
  // Entry i over the service's i, an empty one takes it, extra ones stand alone.
  std::vector<CheckOverrides> real{read_table(doc, "r0").overrides, read_table(doc, "r1").overrides,
                                   read_table(doc, "r2").overrides};
  m = merge_checks(service, &real, true, {9, 1});
  ASSERT_TRUE(m.errors.empty()) << m.errors[0].reason;
  ASSERT_EQ(m.checks.size(), 3u);
  EXPECT_EQ(m.checks[0].path, "/x");
  EXPECT_EQ(m.checks[0].on_failure, OnFailure::quiesce);
  EXPECT_EQ(m.checks[1].type, CheckType::tcp);
  EXPECT_EQ(m.checks[2].type, CheckType::icmp);
  // Fewer than the service's: refused, with the position.
  std::vector<CheckOverrides> short_list{real[0]};
  m = merge_checks(service, &short_list, true, {9, 1});
  ASSERT_EQ(m.errors.size(), 1u);
  EXPECT_EQ(m.errors[0].line, 9);
  EXPECT_NE(m.errors[0].reason.find("its service has 2 checks and this real server lists 1"), std::string::npos);
  // One table over several: refused.
  m = merge_checks(service, &short_list, false, {9, 1});
  ASSERT_EQ(m.errors.size(), 1u);
  EXPECT_NE(m.errors[0].reason.find("[[service.real.check]]"), std::string::npos);
  // The real server's keys in a later check.
  std::vector<CheckOverrides> with_bad{read_table(doc, "s0").overrides, read_table(doc, "bad").overrides};
  m = merge_checks(with_bad, nullptr, false, {9, 1});
  ASSERT_EQ(m.errors.size(), 1u);
  EXPECT_NE(m.errors[0].reason.find("belong to the real server"), std::string::npos);
  EXPECT_EQ(m.errors[0].line, read_table(doc, "bad").overrides.where.line);
  EXPECT_FALSE(check_problems(std::vector<CheckConfig>{CheckConfig{}, m.checks.empty() ? CheckConfig{} : m.checks[0]})
                   .size() > 0);
}

TEST(CheckParity, RunAsParse) {
  EXPECT_EQ(RunAs::parse("nobody")->to_string(), "nobody");
  EXPECT_EQ(RunAs::parse("nobody:nogroup")->group, "nogroup");
  std::string why;
  EXPECT_FALSE(RunAs::parse("", &why));
  EXPECT_FALSE(RunAs::parse("a b"));
  EXPECT_TRUE(RunAs::parse("root")->root());
}

// ---- the DNS messages

TEST(DnsMessage, QueryBytes) {
  auto q = dns_query(0x1234, "example.com", DnsType::a);
  ASSERT_TRUE(q);
  const std::string want("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07"
                         "example\x03"
                         "com\x00\x00\x01\x00\x01",
                         29);
  EXPECT_EQ(*q, want);
  auto root = dns_query(1, ".", DnsType::soa);
  ASSERT_TRUE(root);
  EXPECT_EQ(root->size(), 12u + 1 + 4);
  EXPECT_FALSE(dns_query(1, "a..b", DnsType::a));
  EXPECT_FALSE(dns_query(1, std::string(64, 'a') + ".com", DnsType::a));
}

// A reply to "www.example.com A": a CNAME then an A, names compressed.
std::string sample_reply(int rcode = 0) {
  std::string m("\x12\x34", 2);
  m += static_cast<char>(0x81);
  m += static_cast<char>(0x80 | rcode);
  m += std::string("\x00\x01\x00\x02\x00\x00\x00\x00", 8);
  m += std::string("\x03www\x07" "example\x03" "com\x00\x00\x01\x00\x01", 21);  // question at 12
  // CNAME: name -> ptr 12, type 5, class 1, ttl, rdlen 6, "web" + ptr to "example.com" (16)
  m += std::string("\xc0\x0c\x00\x05\x00\x01\x00\x00\x00\x3c\x00\x06\x03web\xc0\x10", 18);
  // A: name -> ptr to "web.example.com" (12 + 21 + 12 = 45), 192.0.2.7
  m += std::string("\xc0\x2d\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc0\x00\x02\x07", 16);
  return m;
}

TEST(DnsMessage, ParsesAnswersOfTheQueriedType) {
  auto r = parse_dns_reply(sample_reply(), DnsType::a);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, 0x1234);
  EXPECT_TRUE(r->response);
  EXPECT_EQ(r->rcode, 0);
  ASSERT_EQ(r->answers.size(), 1u);
  EXPECT_EQ(r->answers[0], "192.0.2.7");
  EXPECT_TRUE(dns_answer_matches(r->answers, "192.0.2.7", DnsType::a));
  EXPECT_FALSE(dns_answer_matches(r->answers, "192.0.2.8", DnsType::a));
  auto c = parse_dns_reply(sample_reply(), DnsType::cname);
  ASSERT_TRUE(c);
  ASSERT_EQ(c->answers.size(), 1u);
  EXPECT_EQ(c->answers[0], "web.example.com");
  EXPECT_TRUE(dns_answer_matches(c->answers, "WEB.example.com.", DnsType::cname));
  auto nx = parse_dns_reply(sample_reply(3), DnsType::a);
  ASSERT_TRUE(nx);
  EXPECT_EQ(nx->rcode, 3);
  EXPECT_STREQ(rcode_name(nx->rcode), "NXDOMAIN");
}

TEST(DnsMessage, MalformedRepliesAreRefused) {
  const std::string good = sample_reply();
  for (std::size_t n = 0; n < good.size(); ++n)  // every cut is refused
    EXPECT_FALSE(parse_dns_reply(good.substr(0, n), DnsType::a)) << n;
  std::string loop = good;
  loop[good.size() - 16 + 1] = static_cast<char>(good.size() - 16);  // the A's name points at itself
  EXPECT_FALSE(parse_dns_reply(loop, DnsType::a));
  std::string why;
  EXPECT_FALSE(parse_dns_reply("\x12", DnsType::a, &why));
  EXPECT_EQ(why, "shorter than a DNS header");
}

}  // namespace
}  // namespace vsd::health
