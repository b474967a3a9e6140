// Real sockets on 127.0.0.1, inside the test process.
#include <gtest/gtest.h>

#include "appliance/health/probes.hpp"
#include "health_test_util.hpp"
#include "test_servers.hpp"

namespace vsd::health {
namespace {

using namespace std::chrono_literals;
using testing::loopback;
using testing::run_probe;

TEST(TcpProbe, ListenerUpThenClosed) {
  boost::asio::io_context io;
  auto acceptor = std::make_unique<boost::asio::ip::tcp::acceptor>(
      io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  const std::uint16_t port = acceptor->local_endpoint().port();

  auto r = run_probe(io, make_tcp_probe(io, loopback(port)), 1000ms);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << r->reason;
  EXPECT_EQ(r->reason, "connected");

  acceptor.reset();
  auto start = std::chrono::steady_clock::now();
  r = run_probe(io, make_tcp_probe(io, loopback(port)), 1000ms);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->reason, "connect: Connection refused");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);  // refused, not timed out
}

TEST(HttpProbe, Returns200Then500) {
  boost::asio::io_context io;
  testing::HttpServer server(io);
  auto r = run_probe(io, make_http_probe(io, loopback(server.port()), "/healthz", {}), 1000ms);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << r->reason;
  EXPECT_EQ(r->reason, "HTTP status 200");
  EXPECT_EQ(server.last_request.substr(0, 26), "GET /healthz HTTP/1.1\r\nHos");

  server.response = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n";
  r = run_probe(io, make_http_probe(io, loopback(server.port()), "/healthz", {}), 1000ms);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->reason, "HTTP status 500 (expected 2xx)");
  EXPECT_EQ(server.requests, 2);
}

TEST(HttpProbe, BodyDigestOverTheWire) {
  boost::asio::io_context io;
  testing::HttpServer server(io);
  server.response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n";
  HttpExpect good{{200}, Digest::parse("5d41402abc4b2a76b9719d911017c592")};
  auto r = run_probe(io, make_http_probe(io, loopback(server.port()), "/", good), 1000ms);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << r->reason;
  HttpExpect bad{{200}, Digest::parse(std::string(32, '0'))};
  r = run_probe(io, make_http_probe(io, loopback(server.port()), "/", bad), 1000ms);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  EXPECT_NE(r->reason.find("body md5 is 5d41402abc4b2a76b9719d911017c592"), std::string::npos);
}

TEST(HttpProbe, SilentServerTimesOut) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  boost::asio::ip::tcp::socket peer(io);
  acceptor.async_accept(peer, [](const boost::system::error_code&) {});  // accepts, never answers
  auto start = std::chrono::steady_clock::now();
  auto r = run_probe(io, make_http_probe(io, loopback(acceptor.local_endpoint().port()), "/", {}), 150ms);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->reason, "timed out after 150 ms");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1000ms);
}

TEST(HttpsProbe, HandshakeAndStatus) {
  boost::asio::io_context io;
  boost::asio::ssl::context server_tls(boost::asio::ssl::context::tls_server);
  testing::use_self_signed_certificate(server_tls);
  testing::HttpServer server(io, &server_tls);
  ProbeContext context(io);
  CheckConfig check;
  check.type = CheckType::https;
  auto r = run_probe(io, make_probe(context, check, loopback(server.port())), 1500ms);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << r->reason;
  EXPECT_EQ(server.requests, 1);

  // Plain HTTP to a TLS server is a failed check, not a hang.
  auto plain = run_probe(io, make_http_probe(io, loopback(server.port()), "/", {}), 500ms);
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->ok);
}

TEST(UdpProbe, EchoReplyMatchesThePrefix) {
  boost::asio::io_context io;
  testing::UdpEcho echo(io);
  auto r = run_probe(io, make_udp_probe(io, loopback(echo.port()), "ping", "pong:ping"), 1000ms);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << r->reason;
  EXPECT_EQ(r->reason, "reply matches");

  r = run_probe(io, make_udp_probe(io, loopback(echo.port()), "ping", ""), 1000ms);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, "reply received");

  r = run_probe(io, make_udp_probe(io, loopback(echo.port()), "ping", "PONG"), 150ms);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->reason, "no reply within 150 ms; a reply did not start with \"PONG\": \"pong:ping\"");
}

TEST(UdpProbe, ClosedPortFailsFast) {
  boost::asio::io_context io;
  std::uint16_t port;
  {
    boost::asio::ip::udp::socket s(io, boost::asio::ip::udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    port = s.local_endpoint().port();
  }
  auto start = std::chrono::steady_clock::now();
  auto r = run_probe(io, make_udp_probe(io, loopback(port), "ping", ""), 1000ms);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->reason, "port unreachable (ICMP): Connection refused");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);
}

TEST(IcmpProbe, LoopbackEcho) {
  boost::asio::io_context io;
  auto r = run_probe(io, make_icmp_probe(io, *IpAddress::parse("127.0.0.1")), 1000ms);
  ASSERT_TRUE(r);
  if (!r->ok && r->reason.rfind("no ICMP socket", 0) == 0) GTEST_SKIP() << r->reason;
  EXPECT_TRUE(r->ok) << r->reason;
  EXPECT_EQ(r->reason, "echo reply");

  r = run_probe(io, make_icmp_probe(io, *IpAddress::parse("::1")), 1000ms);
  ASSERT_TRUE(r);
  if (!r->ok && r->reason.rfind("ICMP connect", 0) == 0) GTEST_SKIP() << "no IPv6 loopback: " << r->reason;
  EXPECT_TRUE(r->ok) << r->reason;
}

TEST(Probe, MissingPortFailsWithAReason) {
  boost::asio::io_context io;
  ProbeContext context(io);
  CheckConfig check;
  auto r = run_probe(io, make_probe(context, check, *Endpoint::parse("127.0.0.1:0")), 100ms);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, "no port to probe: give the real server a port or set connect_to");
}

TEST(Probe, AbandonedProbeNeverReports) {
  boost::asio::io_context io;
  testing::HttpServer server(io);
  bool reported = false;
  auto p = make_http_probe(io, loopback(server.port()), "/", {});
  p->start(1000ms, [&](ProbeResult) { reported = true; });
  p->abandon();
  p.reset();
  testing::run_for(io, 50ms);
  EXPECT_FALSE(reported);
}

}  // namespace
}  // namespace vsd::health
