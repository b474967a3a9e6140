// keepalived check parity, the running half: Host header and SNI, CA
// verification and client certificates, several URLs, DNS, the file check,
// misc_dynamic, scripts run as another user, retry / delay_before_retry,
// several checks per real server, and ha_suspend.
#include <gtest/gtest.h>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <fstream>

#include "appliance/health/check_config_toml.hpp"
#include "appliance/health/child_process.hpp"
#include "appliance/health/dns_message.hpp"
#include "appliance/health/health_monitor.hpp"
#include "appliance/health/probe_misc.hpp"
#include "appliance/health/probes.hpp"
#include "health_test_util.hpp"
#include "test_servers.hpp"

namespace vsd::health {
namespace {

using namespace std::chrono_literals;
using testing::loopback;
using testing::run_probe;
using testing::run_until;

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/vsd-parity-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

// ---- HTTP: virtualhost, several URLs

TEST(HttpParity, VirtualhostIsTheHostHeader) {
  boost::asio::io_context io;
  testing::HttpServer server(io);
  server.response = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
  server.by_host["www.example.com"] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  ProbeContext context(io);
  CheckConfig c;
  c.type = CheckType::http;
  auto r = run_probe(io, make_probe(context, c, loopback(server.port())), 1000ms);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok) << "Host: RIP:PORT gets the default site's 404";
  EXPECT_EQ(server.hosts.back(), "127.0.0.1:" + std::to_string(server.port()));
  c.virtualhost = "www.example.com";
  r = run_probe(io, make_probe(context, c, loopback(server.port())), 1000ms);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << r->reason;
  EXPECT_EQ(server.hosts.back(), "www.example.com");
}

TEST(HttpParity, EveryUrlMustPass) {
  boost::asio::io_context io;
  testing::HttpServer server(io);
  server.by_path["/missing"] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
  server.by_path["/moved"] = "HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n";
  ProbeContext context(io);
  CheckConfig c;
  c.type = CheckType::http;
  c.urls = {HttpUrl{"/a", {}, {}, ""}, HttpUrl{"/moved", {200, 301, 302}, {}, "b.example"}};
  auto r = run_probe(io, make_probe(context, c, loopback(server.port())), 2000ms);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << r->reason;
  EXPECT_EQ(r->reason, "all 2 URLs passed");
  ASSERT_EQ(server.paths.size(), 2u);
  EXPECT_EQ(server.paths[0], "/a");
  EXPECT_EQ(server.hosts[1], "b.example") << "a url's own virtualhost";
  c.urls.insert(c.urls.begin() + 1, HttpUrl{"/missing", {}, {}, ""});
  r = run_probe(io, make_probe(context, c, loopback(server.port())), 3000ms);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->reason, "/missing: HTTP status 404 (expected 2xx)");
  EXPECT_EQ(server.paths.size(), 4u) << "stops at the first failing URL";
}

// ---- HTTPS: SNI, CA verification, client certificate

struct SniCapture {
  std::string name;
  static int callback(SSL* ssl, int*, void* arg) {
    const char* n = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    static_cast<SniCapture*>(arg)->name = n ? n : "(none)";
    return SSL_TLSEXT_ERR_OK;
  }
};

TEST(HttpsParity, SniFollowsTheVirtualhost) {
  boost::asio::io_context io;
  boost::asio::ssl::context server_tls(boost::asio::ssl::context::tls_server);
  testing::use_self_signed_certificate(server_tls);
  SniCapture sni;
  SSL_CTX_set_tlsext_servername_callback(server_tls.native_handle(), SniCapture::callback);
  SSL_CTX_set_tlsext_servername_arg(server_tls.native_handle(), &sni);
  testing::HttpServer server(io, &server_tls);
  ProbeContext context(io);
  CheckConfig c;
  c.type = CheckType::https;
  c.virtualhost = "www.example.com:8443";
  auto r = run_probe(io, make_probe(context, c, loopback(server.port())), 1500ms);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << r->reason;
  EXPECT_EQ(sni.name, "www.example.com");
  c.sni = "other.example.com";
  r = run_probe(io, make_probe(context, c, loopback(server.port())), 1500ms);
  EXPECT_EQ(sni.name, "other.example.com");
  c.sni = "";
  sni.name.clear();
  r = run_probe(io, make_probe(context, c, loopback(server.port())), 1500ms);
  ASSERT_TRUE(r && r->ok);
  EXPECT_EQ(sni.name, "(none)");
}

TEST(HttpsParity, CaVerifiesTheCertificateAndItsName) {
  TempDir dir;
  boost::asio::io_context io;
  boost::asio::ssl::context server_tls(boost::asio::ssl::context::tls_server);
  testing::use_self_signed_certificate(server_tls, "www.example.com", dir.path.string());
  testing::HttpServer server(io, &server_tls);
  ProbeContext context(io);
  CheckConfig c;
  c.type = CheckType::https;
  c.virtualhost = "www.example.com";
  c.tls_ca = (dir.path / "cert.pem").string();
  auto r = run_probe(io, make_probe(context, c, loopback(server.port())), 1500ms);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << r->reason;
  c.virtualhost = "wrong.example.com";
  r = run_probe(io, make_probe(context, c, loopback(server.port())), 1500ms);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  EXPECT_NE(r->reason.find("TLS handshake"), std::string::npos) << r->reason;
  // Another CA: the chain does not verify.
  TempDir other;
  boost::asio::ssl::context unused(boost::asio::ssl::context::tls_server);
  testing::use_self_signed_certificate(unused, "www.example.com", other.path.string());
  c.virtualhost = "www.example.com";
  c.tls_ca = (other.path / "cert.pem").string();
  r = run_probe(io, make_probe(context, c, loopback(server.port())), 1500ms);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  EXPECT_NE(r->reason.find("certificate"), std::string::npos) << r->reason;
  c.tls_ca = "/nonexistent/ca.pem";
  r = run_probe(io, make_probe(context, c, loopback(server.port())), 1500ms);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  EXPECT_NE(r->reason.find("TLS CA file /nonexistent/ca.pem"), std::string::npos) << r->reason;
}

TEST(HttpsParity, ClientCertificate) {
  TempDir client;
  boost::asio::io_context io;
  boost::asio::ssl::context client_material(boost::asio::ssl::context::tls_server);
  testing::use_self_signed_certificate(client_material, "client", client.path.string());
  boost::asio::ssl::context server_tls(boost::asio::ssl::context::tls_server);
  testing::use_self_signed_certificate(server_tls);
  server_tls.load_verify_file((client.path / "cert.pem").string());
  server_tls.set_verify_mode(boost::asio::ssl::verify_peer | boost::asio::ssl::verify_fail_if_no_peer_cert);
  testing::HttpServer server(io, &server_tls);
  ProbeContext context(io);
  CheckConfig c;
  c.type = CheckType::https;
  auto r = run_probe(io, make_probe(context, c, loopback(server.port())), 1500ms);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok) << "no client certificate: refused";
  c.tls_cert = (client.path / "cert.pem").string();
  c.tls_key = (client.path / "key.pem").string();
  r = run_probe(io, make_probe(context, c, loopback(server.port())), 1500ms);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << r->reason;
}

// ---- DNS

// Answers every query with its id, the question and one A record (or RCODE).
class DnsServer {
 public:
  explicit DnsServer(boost::asio::io_context& io)
      : socket_(io, boost::asio::ip::udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)) {
    receive();
  }
  std::uint16_t port() const { return socket_.local_endpoint().port(); }
  int rcode = 0;
  bool stray_first = false;  // send a reply with another id first

 private:
  void receive() {
    socket_.async_receive_from(boost::asio::buffer(buf_), peer_, [this](const boost::system::error_code& ec, std::size_t n) {
      if (ec) return;
      std::string q(buf_.data(), n);
      std::string a = q;
      a[2] = static_cast<char>(0x81);
      a[3] = static_cast<char>(0x80 | rcode);
      a[7] = 1;  // ANCOUNT
      a += std::string("\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc0\x00\x02\x35", 16);
      if (stray_first) {
        std::string stray = a;
        stray[0] = static_cast<char>(stray[0] ^ 0xff);
        socket_.send_to(boost::asio::buffer(stray), peer_);
      }
      socket_.send_to(boost::asio::buffer(a), peer_);
      receive();
    });
  }
  boost::asio::ip::udp::socket socket_;
  boost::asio::ip::udp::endpoint peer_;
  std::array<char, 512> buf_{};
};

TEST(DnsProbe, RcodeAndAnswer) {
  boost::asio::io_context io;
  DnsServer server(io);
  server.stray_first = true;
  auto r = run_probe(io, make_dns_probe(io, loopback(server.port()), DnsType::a, "www.example.com", ""), 1000ms);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << r->reason;
  EXPECT_EQ(r->reason, "A www.example.com: NOERROR, 1 answer(s)");
  r = run_probe(io, make_dns_probe(io, loopback(server.port()), DnsType::a, "www.example.com", "192.0.2.53"), 1000ms);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << r->reason;
  r = run_probe(io, make_dns_probe(io, loopback(server.port()), DnsType::a, "www.example.com", "192.0.2.54"), 1000ms);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->reason, "A www.example.com: no answer 192.0.2.54 (got 192.0.2.53)");
  server.rcode = 2;
  r = run_probe(io, make_dns_probe(io, loopback(server.port()), DnsType::a, "www.example.com", ""), 1000ms);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->reason, "A www.example.com: SERVFAIL");
}

// keepalived's UDP_CHECK with a DNS query as payload and the reply's
// flags as expect: bytes from 0x80 up, given in TOML as hex.
TEST(UdpParity, MatchesADnsReplyByItsBytes) {
  boost::asio::io_context io;
  DnsServer server(io);
  // "id 12 34, RD; www.example.com A" as keepalived.conf's payload; the
  // reply starts with the id and the flags 81 80 (QR, RD, RA, NOERROR).
  const std::string query_hex =
      "1234 0100 0001 0000 0000 0000 03 777777 07 6578616d706c65 03 636f6d 00 0001 0001";
  toml::table doc = toml::parse("[check]\ntype = \"udp\"\npayload_hex = \"" + query_hex +
                                "\"\nexpect_hex = \"1234 8180\"\n");
  auto table = parse_check_table(*doc["check"].as_table(), "[check]");
  ASSERT_TRUE(table.errors.empty()) << table.errors[0].reason;
  auto check = merge_check(&table.overrides, nullptr).config;
  ASSERT_TRUE(check);
  ASSERT_EQ(check->payload, *dns_query(0x1234, "www.example.com", DnsType::a)) << "the same bytes as the DNS query";
  EXPECT_EQ(check->expect, std::string("\x12\x34\x81\x80", 4));
  auto r = run_probe(io, make_udp_probe(io, loopback(server.port()), check->payload, check->expect), 1000ms);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << r->reason;
  // SERVFAIL (81 82) is not the expected reply.
  server.rcode = 2;
  r = run_probe(io, make_udp_probe(io, loopback(server.port()), check->payload, check->expect), 300ms);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  EXPECT_NE(r->reason.find("\\x81\\x82"), std::string::npos) << r->reason;
}

// ---- the file check (keepalived's track_file rules)

TEST(FileCheck, Verdicts) {
  // factor 0: the value is a status.
  EXPECT_TRUE(file_verdict(std::nullopt, 0, false).ok);
  EXPECT_TRUE(file_verdict("0\n", 0, false).ok);
  EXPECT_FALSE(file_verdict("1\n", 0, false).ok);
  EXPECT_FALSE(file_verdict(std::nullopt, 0, true).ok) << "reverse: 0 is down";
  EXPECT_TRUE(file_verdict("7", 0, true).ok);
  // factor != 0: the weight moves; at -65535 down.
  auto r = file_verdict("-3", 2, false);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.add_weight, -6);
  r = file_verdict("0x10", 1, true);
  EXPECT_EQ(r.add_weight, -16);
  EXPECT_FALSE(file_verdict("-65535", 1, false).ok);
  EXPECT_FALSE(file_verdict("-1000000", 100, false).ok);
  r = file_verdict("junk", 5, false);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.add_weight, 0);
}

TEST(FileCheck, ReadsTheFile) {
  TempDir dir;
  const auto file = (dir.path / "weight").string();
  boost::asio::io_context io;
  auto r = run_probe(io, make_file_probe(io, file, 0, false), 500ms);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok);
  EXPECT_EQ(r->reason, file + ": value missing (0): up");
  std::ofstream(file) << "1\n";
  r = run_probe(io, make_file_probe(io, file, 0, false), 500ms);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
}

// ---- MISC: misc_dynamic, and another user

TEST(MiscParity, DynamicExitCodes) {
  boost::asio::io_context io;
  for (auto [code, ok, weight] : {std::tuple{0, true, -1}, {1, false, -1}, {2, true, 0}, {12, true, 10}, {255, true, 253}}) {
    auto p = std::make_shared<MiscProbe>(io, "exit " + std::to_string(code), ChildProcess::Env{}, true);
    auto r = run_probe(io, p, 2000ms);
    ASSERT_TRUE(r) << code;
    EXPECT_EQ(r->ok, ok) << code << " " << r->reason;
    if (weight >= 0) {
      ASSERT_TRUE(r->set_weight) << code;
      EXPECT_EQ(*r->set_weight, static_cast<std::uint32_t>(weight));
    } else {
      EXPECT_FALSE(r->set_weight);
    }
  }
  // Without dynamic, 2 is a failure.
  auto r = run_probe(io, std::make_shared<MiscProbe>(io, "exit 2", ChildProcess::Env{}), 2000ms);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
}

TEST(MiscParity, RunsAsTheUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "changing users needs root";
  boost::asio::io_context io;
  auto p = std::make_shared<MiscProbe>(io, "test \"$(id -u)\" = 65534 && test \"$(id -g)\" = 65534",
                                       ChildProcess::Env{}, false, RunAs{"nobody", "65534"});
  auto r = run_probe(io, p, 3000ms);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << r->reason;
  p = std::make_shared<MiscProbe>(io, "true", ChildProcess::Env{}, false, RunAs{"no-such-user-vsd", ""});
  r = run_probe(io, p, 3000ms);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->reason, "no user \"no-such-user-vsd\" on this node");
  std::string error;
  auto c = resolve(RunAs{"root", ""}, &error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->uid, 0u);
}

// ---- the monitor: retry, several checks, weights, ha_suspend

class ScriptedProbe final : public Probe {
 public:
  ScriptedProbe(boost::asio::io_context& io, std::deque<ProbeResult>& script) : Probe(io), script_(script) {}

 private:
  void begin() override {
    ProbeResult r{false, "script ran out"};
    if (!script_.empty()) {
      r = script_.front();
      script_.pop_front();
    }
    finish(std::move(r));
  }
  void stop_io() override {}
  std::deque<ProbeResult>& script_;
};

CheckConfig fast(CheckType type = CheckType::tcp) {
  CheckConfig c;
  c.type = type;
  c.interval_ms = 30;
  c.timeout_ms = 200;
  c.rise = 1;
  c.fall = 1;
  return c;
}

struct Event {
  bool up;
  std::string reason;
};

TEST(MonitorParity, RetryBeforeTheCheckFails) {
  boost::asio::io_context io;
  SteadyClock clock;
  std::vector<Event> events;
  HealthMonitor monitor(io, clock, [&](const std::string&, bool up, const std::string& why) { events.push_back({up, why}); });
  std::deque<ProbeResult> script = {{false, "refused"}, {false, "refused"}, {true, "connected"},  // 2 retries: passes
                                    {false, "refused"}, {false, "refused"}, {false, "refused"}};  // all 3 fail
  monitor.set_probe_factory([&](const TargetSpec&, const Endpoint&) { return std::make_shared<ScriptedProbe>(io, script); });
  CheckConfig c = fast();
  c.retry = 2;
  c.retry_delay_ms = 5;
  monitor.upsert({"a", "svc", *Endpoint::parse("203.0.113.11:80"), c});
  ASSERT_TRUE(run_until(io, [&] { return !events.empty(); }, 3000ms));
  EXPECT_TRUE(script.empty());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_FALSE(events[0].up);
  EXPECT_EQ(events[0].reason, "check failed: refused (3 tries)");
  auto s = monitor.status("a");
  EXPECT_EQ(s->checks, 2u) << "a check with its retries counts once";
  EXPECT_EQ(s->failed_checks, 1u);
}

TEST(MonitorParity, EveryCheckMustPass) {
  boost::asio::io_context io;
  SteadyClock clock;
  std::vector<Event> events;
  HealthMonitor monitor(io, clock, [&](const std::string&, bool up, const std::string& why) { events.push_back({up, why}); });
  std::deque<ProbeResult> tcp_script = {{true, "connected"}, {true, "connected"}, {true, "connected"}};
  std::deque<ProbeResult> http_script = {{true, "HTTP status 200"}, {false, "HTTP status 404 (expected 2xx)"}};
  monitor.set_probe_factory([&](const TargetSpec& t, const Endpoint&) {
    return std::make_shared<ScriptedProbe>(io, t.check.type == CheckType::tcp ? tcp_script : http_script);
  });
  TargetSpec spec{"a", "svc", *Endpoint::parse("203.0.113.11:80"), fast(), {fast(CheckType::http)}};
  monitor.upsert(spec);
  ASSERT_TRUE(run_until(io, [&] { return !events.empty(); }, 3000ms));
  EXPECT_FALSE(events[0].up);
  EXPECT_EQ(events[0].reason, "http check: check failed: HTTP status 404 (expected 2xx)");
  auto s = monitor.status("a");
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->up);
  ASSERT_EQ(s->per_check.size(), 2u);
  EXPECT_TRUE(s->per_check[0].up);
  EXPECT_FALSE(s->per_check[1].up);
  EXPECT_EQ(s->last_reason, "HTTP status 404 (expected 2xx)");
  auto json = monitor.status_json();
  EXPECT_EQ(json[0]["checks_detail"].size(), 2u);
}

TEST(MonitorParity, WeightsFromPassingChecks) {
  boost::asio::io_context io;
  SteadyClock clock;
  std::vector<WeightEffect> weights;
  HealthMonitor monitor(io, clock);
  monitor.set_weight_callback([&](const std::string&, const WeightEffect& w, const std::string&) { weights.push_back(w); });
  std::deque<ProbeResult> misc = {{true, "exit 7", 5u, std::nullopt}, {true, "exit 7", 5u, std::nullopt},
                                  {true, "exit 0"}};
  std::deque<ProbeResult> file = {{true, "v", std::nullopt, -2}, {true, "v", std::nullopt, -2}, {true, "v", std::nullopt, -2},
                                  {true, "v", std::nullopt, -2}};
  monitor.set_probe_factory([&](const TargetSpec& t, const Endpoint&) {
    return std::make_shared<ScriptedProbe>(io, t.check.type == CheckType::misc ? misc : file);
  });
  CheckConfig m = fast(CheckType::misc);
  m.interval_ms = 40;
  monitor.upsert({"a", "svc", *Endpoint::parse("203.0.113.11:80"), m, {fast(CheckType::file)}});
  ASSERT_TRUE(run_until(io, [&] { return misc.empty() && weights.size() >= 3; }, 3000ms));
  EXPECT_EQ(weights.back(), (WeightEffect{std::nullopt, -2})) << "exit 0: the configured weight again";
  bool saw_both = false;
  for (const auto& w : weights) saw_both |= w == WeightEffect{5u, -2};
  EXPECT_TRUE(saw_both);
  EXPECT_EQ(*monitor.weight("a"), (WeightEffect{std::nullopt, -2}));
}

TEST(MonitorParity, HaSuspendPausesWhileTheVipIsElsewhere) {
  boost::asio::io_context io;
  SteadyClock clock;
  std::vector<std::string> log;
  HealthMonitor monitor(io, clock);
  monitor.set_log([&](const std::string& line) { log.push_back(line); });
  std::deque<ProbeResult> script;
  for (int i = 0; i < 1000; ++i) script.push_back({true, "connected"});
  int probes = 0;
  monitor.set_probe_factory([&](const TargetSpec&, const Endpoint&) {
    ++probes;
    return std::make_shared<ScriptedProbe>(io, script);
  });
  const IpAddress vip = *IpAddress::parse("192.0.2.10");
  std::vector<IpAddress> held;  // this node's addresses
  monitor.set_address_source([&] { return std::optional<std::vector<IpAddress>>(held); }, 20ms);
  monitor.upsert({"a", "svc", *Endpoint::parse("203.0.113.11:80"), fast(), {}, {vip}});
  testing::run_for(io, 150ms);
  EXPECT_EQ(probes, 0) << "the VIP is not here: no checks";
  EXPECT_TRUE(monitor.status("a")->suspended);
  held.push_back(vip);
  ASSERT_TRUE(run_until(io, [&] { return probes >= 2; }, 2000ms));
  EXPECT_FALSE(monitor.status("a")->suspended);
  ASSERT_FALSE(log.empty());
  EXPECT_NE(log.back().find("checks resumed (ha_suspend)"), std::string::npos) << log.back();
  held.clear();
  ASSERT_TRUE(run_until(io, [&] { return monitor.status("a")->suspended; }, 2000ms));
  testing::run_for(io, 60ms);  // a check in flight may finish
  const int paused_at = probes;
  testing::run_for(io, 150ms);
  EXPECT_EQ(probes, paused_at);
  // A target without ha_suspend never pauses.
  monitor.upsert({"b", "svc", *Endpoint::parse("203.0.113.12:80"), fast()});
  ASSERT_TRUE(run_until(io, [&] { return probes > paused_at; }, 2000ms));
}

}  // namespace
}  // namespace vsd::health
