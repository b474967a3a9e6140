// ICMP / ICMPv6 echo messages for the ping check: building a request and
// reading what comes back. Pure, so the byte layouts are unit-tested.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vsd::health {

// Echo request: type 8 (ICMP) or 128 (ICMPv6), code 0. The ICMP checksum is
// filled in; for ICMPv6 the kernel computes it (it covers a pseudo-header).
std::string build_echo_request(bool v6, std::uint16_t id, std::uint16_t sequence, std::string_view payload);

struct IcmpMessage {
  enum class Kind { echo_reply, error, other } kind = Kind::other;
  std::uint8_t type = 0, code = 0;
  // echo_reply: the reply's id and sequence; error (unreachable, time exceeded): those of the
  // echo request quoted inside the error, when it was one.
  std::uint16_t id = 0, sequence = 0;
};

// Parses a received datagram. Raw IPv4 sockets deliver the IP header first
// (`with_ip_header`); ping sockets and ICMPv6 sockets do not.
std::optional<IcmpMessage> parse_icmp(bool v6, bool with_ip_header, std::string_view packet);

}  // namespace vsd::health
