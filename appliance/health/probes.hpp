// The kinds of probe; make_probe() picks one from a CheckConfig.
#pragma once

#include <memory>
#include <string>

#include "appliance/health/http_match.hpp"
#include "appliance/health/probe.hpp"

namespace vsd::health {

// keepalived TCP_CHECK: the check passes when the connection is established.
std::shared_ptr<Probe> make_tcp_probe(boost::asio::io_context& io, const Endpoint& destination);

// keepalived HTTP_GET / SSL_GET: GET `path`, judge the status and body digest.
// TLS certificates are not verified (nor are they by keepalived): the check
// is about the server answering, not about its identity.
std::shared_ptr<Probe> make_http_probe(boost::asio::io_context& io, const Endpoint& destination,
                                       const std::string& path, HttpExpect expect);
std::shared_ptr<Probe> make_https_probe(boost::asio::io_context& io, boost::asio::ssl::context& tls,
                                        const Endpoint& destination, const std::string& path,
                                        HttpExpect expect);

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
