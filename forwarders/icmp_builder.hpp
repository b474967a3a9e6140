// ICMP errors vsd answers itself (a packet too big for the tunnel, a TTL that
// ran out), built as the kernel's icmp_send / icmp6_send would send them when
// IPVS calls them on the director:
//  - source = the offending packet's destination (the VIP: a local address,
//    so the kernel picks it), destination = its source (the client);
//  - IPv4: TOS = (original TOS & 0x1e) | 0xc0 (precedence "internetwork
//    control"), TTL 64 (ip_default_ttl), DF clear (the ICMP socket does not do
//    PMTU discovery), Identification from the caller; the quote is as much of
//    the original as keeps the reply within 576 bytes (RFC 1812 4.3.2.3);
//  - IPv6: traffic class 0, flow label 0, hop limit 64; the quote keeps the
//    reply within the minimum MTU, 1280 bytes (RFC 4443 2.4(c)).
// No reply is built where RFC 1122 / RFC 4443 2.4(e) forbid one: for an ICMP
// error, a non-first IPv4 fragment, or a source or destination that is not a
// single unicast host.
// Pure code: no syscalls, no allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace vsd {

enum class IcmpBuildStatus : std::uint8_t {
  ok,
  bad_original,  // not an IPv4/IPv6 packet whose header fits in the bytes given
  not_allowed,   // the rules above forbid an error about this packet: send nothing
  no_room,       // out is too short (576 / 1280 bytes always suffice)
};
const char* to_string(IcmpBuildStatus);

struct IcmpBuildResult {
  IcmpBuildStatus status = IcmpBuildStatus::ok;
  std::size_t len = 0;  // ok: the reply's length, written at out.data()
};

struct IcmpReplyParams {
  std::uint16_t ip_id = 0;  // IPv4 Identification: the caller's counter
  std::uint8_t ttl = 64;    // TTL / hop limit
};

inline constexpr std::size_t kIcmpReplyMax = 576;    // an IPv4 reply never exceeds this
inline constexpr std::size_t kIcmp6ReplyMax = 1280;  // an IPv6 reply never exceeds this

// IPv4 destination unreachable, fragmentation needed (type 3 code 4) with the
// next-hop MTU (RFC 1191). bad_original for an IPv6 packet.
IcmpBuildResult icmp_build_frag_needed(std::span<const std::uint8_t> original, std::uint16_t mtu,
                                       std::span<std::uint8_t> out,
                                       const IcmpReplyParams& params = {});
// ICMPv6 packet too big (type 2 code 0) with the MTU (RFC 8201). bad_original
// for an IPv4 packet.
IcmpBuildResult icmp6_build_packet_too_big(std::span<const std::uint8_t> original,
                                           std::uint32_t mtu, std::span<std::uint8_t> out,
                                           const IcmpReplyParams& params = {});
// Whichever of the two fits the original's family (an IPv4 MTU above 65535
// is reported as 65535), e.g. with TunResult::mtu.
IcmpBuildResult icmp_build_too_big(std::span<const std::uint8_t> original, std::uint32_t mtu,
                                   std::span<std::uint8_t> out, const IcmpReplyParams& params = {});
// Time exceeded in transit (IPv4 type 11 / ICMPv6 type 3, code 0), for
// TunStatus::ttl_expired.
IcmpBuildResult icmp_build_time_exceeded(std::span<const std::uint8_t> original,
                                         std::span<std::uint8_t> out,
                                         const IcmpReplyParams& params = {});

// The general form: type and code in the original's family's numbering;
// `info` is the 32-bit word after the checksum (host order).
struct IcmpErrorSpec {
  std::uint8_t type = 0, code = 0;
  std::uint32_t info = 0;
};
// `out` may overlap `original` (for a reply built in the packet's own
// buffer): every field is read before the quote is moved into place.
IcmpBuildResult icmp_build_error(std::span<const std::uint8_t> original, const IcmpErrorSpec& spec,
                                 std::span<std::uint8_t> out, const IcmpReplyParams& params = {});

}  // namespace vsd
