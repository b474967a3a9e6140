#include "appliance/health/icmp_echo.hpp"

#include "forwarders/checksum.hpp"

namespace vsd::health {

namespace {

constexpr std::uint8_t echo_request_v4 = 8, echo_reply_v4 = 0, unreachable_v4 = 3, time_exceeded_v4 = 11;
constexpr std::uint8_t echo_request_v6 = 128, echo_reply_v6 = 129, unreachable_v6 = 1, time_exceeded_v6 = 3;

std::uint16_t be16(std::string_view p, std::size_t at) {
  return static_cast<std::uint16_t>((static_cast<unsigned char>(p[at]) << 8) | static_cast<unsigned char>(p[at + 1]));
}

// Skips the IPv4 header of a raw-socket datagram; empty when malformed.
std::string_view skip_ipv4(std::string_view p) {
  if (p.size() < 20 || (static_cast<unsigned char>(p[0]) >> 4) != 4) return {};
  const std::size_t ihl = (static_cast<unsigned char>(p[0]) & 15u) * 4u;
  if (ihl < 20 || p.size() < ihl) return {};
  return p.substr(ihl);
}

}  // namespace

std::string build_echo_request(bool v6, std::uint16_t id, std::uint16_t sequence, std::string_view payload) {
  std::string m(8, '\0');
  m[0] = static_cast<char>(v6 ? echo_request_v6 : echo_request_v4);
  m[4] = static_cast<char>(id >> 8);
  m[5] = static_cast<char>(id & 0xff);
  m[6] = static_cast<char>(sequence >> 8);
  m[7] = static_cast<char>(sequence & 0xff);
  m += payload;
  // ICMPv6's checksum covers a pseudo-header: the kernel fills it in.
  if (!v6) {
    auto* bytes = reinterpret_cast<std::uint8_t*>(m.data());
    csum::store16(bytes + 2, static_cast<std::uint16_t>(~csum::fold(csum::add(bytes, m.size()))));
  }
  return m;
}

std::optional<IcmpMessage> parse_icmp(bool v6, bool with_ip_header, std::string_view p) {
  if (with_ip_header && !v6) p = skip_ipv4(p);
  if (p.size() < 8) return std::nullopt;
  IcmpMessage m;
  m.type = static_cast<std::uint8_t>(p[0]);
  m.code = static_cast<std::uint8_t>(p[1]);
  if (m.type == (v6 ? echo_reply_v6 : echo_reply_v4)) {
    m.kind = IcmpMessage::Kind::echo_reply;
    m.id = be16(p, 4);
    m.sequence = be16(p, 6);
    return m;
  }
  const bool error = v6 ? (m.type == unreachable_v6 || m.type == time_exceeded_v6)
                        : (m.type == unreachable_v4 || m.type == time_exceeded_v4);
  if (!error) return m;
  m.kind = IcmpMessage::Kind::error;
  // The error quotes the offending packet: its IP header, then (at least)
  // the first 8 bytes of our echo request.
  std::string_view quoted = p.substr(8);
  if (v6) {
    if (quoted.size() < 40 + 8 || static_cast<unsigned char>(quoted[6]) != 58) return m;  // next header ICMPv6
    quoted = quoted.substr(40);
  } else {
    quoted = skip_ipv4(quoted);
    if (quoted.size() < 8) return m;
  }
  if (static_cast<std::uint8_t>(quoted[0]) == (v6 ? echo_request_v6 : echo_request_v4)) {
    m.id = be16(quoted, 4);
    m.sequence = be16(quoted, 6);
  }
  return m;
}

}  // namespace vsd::health
