// The kinds of probe; make_probe() picks one from a CheckConfig.
#pragma once

#include <memory>
#include <functional>
#include <string>
#include <vector>

#include "appliance/health/http_match.hpp"
#include "appliance/health/probe.hpp"

namespace vsd::health {

// keepalived TCP_CHECK: the check passes when the connection is established.
std::shared_ptr<Probe> make_tcp_probe(boost::asio::io_context& io, const Endpoint& destination);

// keepalived HTTP_GET / SSL_GET: GET `path` with Host: `host` (empty: the
// destination's RIP:PORT), judge the status and body digest.
std::shared_ptr<Probe> make_http_probe(boost::asio::io_context& io, const Endpoint& destination,
                                       const std::string& path, HttpExpect expect, const std::string& host = "");

// What an https request says and checks of TLS: the SNI name (empty:
// none), and whether the certificate chain is verified against the
// context's CAs (then the certificate must also name `verify_name` when
// that is given). Without verification (no tls_ca, keepalived's default)
// the check is about the server answering, not about its identity.
struct TlsRequest {
  std::string sni;
  bool verify = false;
  std::string verify_name;
};
std::shared_ptr<Probe> make_https_probe(boost::asio::io_context& io, std::shared_ptr<boost::asio::ssl::context> tls,
                                        const Endpoint& destination, const std::string& path, HttpExpect expect,
                                        const std::string& host = "", TlsRequest request = {});

// Runs probes one after another (each with the whole timeout the sequence
// was started with, divided by their number); passes when every one
// passes, fails with the first failure. keepalived's several url blocks.
using ProbeMaker = std::function<std::shared_ptr<Probe>()>;
std::shared_ptr<Probe> make_sequence_probe(boost::asio::io_context& io, std::vector<ProbeMaker> steps,
                                           std::vector<std::string> names);

// keepalived DNS_CHECK: one query over UDP; passes on a reply with the
// query's id and RCODE NOERROR (and, when `answer` is given, an answer
// record of the queried type equal to it).
std::shared_ptr<Probe> make_dns_probe(boost::asio::io_context& io, const Endpoint& destination, DnsType type,
                                      std::string name, std::string answer);

// keepalived FILE_CHECK: reads the file (see CheckConfig::file).
std::shared_ptr<Probe> make_file_probe(boost::asio::io_context& io, std::string path, std::int32_t factor,
                                       bool reverse);
// The verdict on one reading of the file (nullopt content: missing).
ProbeResult file_verdict(const std::optional<std::string>& content, std::int32_t factor, bool reverse);

// keepalived UDP_CHECK: send `payload`, pass on a reply starting with
// `expect` (any reply when empty); an ICMP port unreachable fails at once.
std::shared_ptr<Probe> make_udp_probe(boost::asio::io_context& io, const Endpoint& destination,
                                      std::string payload, std::string expect);

// keepalived PING_CHECK: one ICMP / ICMPv6 echo. Uses an unprivileged ping
// socket (net.ipv4.ping_group_range) when allowed, else a raw socket
// (CAP_NET_RAW).
std::shared_ptr<Probe> make_icmp_probe(boost::asio::io_context& io, const IpAddress& destination);

// A probe that fails at once, for configurations that cannot be probed.
std::shared_ptr<Probe> make_failed_probe(boost::asio::io_context& io, std::string reason);

}  // namespace vsd::health
