// VS-TUN: IP-in-IP encapsulation toward a real server, and the matching
// decapsulation for a real server that runs without the ipip / ip6_tunnel
// modules. Inner IPv4 travels as protocol 4 (RFC 2003), inner IPv6 as next
// header 41 (RFC 2473), in either outer family, as IPVS allows.
//
// The outer header follows IPVS (ip_vs_tunnel_xmit / ip_vs_prepare_tunneled_skb):
//  - TTL / hop limit: copied from the inner header, not a fixed 64. IPVS has
//    already decremented the inner TTL at that point (decrement_ttl() in its
//    route lookup); TunParams::decrement_inner_ttl does the same here, for a
//    caller whose outer packet is not forwarded (and decremented) by the kernel.
//  - TOS / traffic class: the inner DS field, ECN per RFC 6040 "normal mode"
//    (INET_ECN_encapsulate): a CE inner mark becomes ECT(0) outside.
//  - DF: copied from an inner IPv4 header when pmtu_disc is on (IPVS sysctl
//    net.ipv4.vs.pmtu_disc, default 1); always 0 for an inner IPv6 packet.
//  - Identification: the caller's counter; flow label 0.
// Pure code: no syscalls, no allocation; the caller owns every buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "net/ip_address.hpp"

namespace vsd {

// Bytes the encapsulation puts in front of the inner packet. A caller that
// receives the inner packet at out.data() + tun_header_len(outer) saves the copy.
constexpr std::size_t tun_header_len(Family outer) { return outer == Family::v4 ? 20 : 40; }

enum class TunStatus : std::uint8_t {
  ok,
  bad_inner,        // not a whole IPv4/IPv6 packet (version, header or length field)
  bad_outer,        // outer source and destination differ in family
  no_room,          // out is shorter than the outer header plus the inner packet
  too_big,          // over the MTU and must not be fragmented: answer the sender
                    // with ICMP frag needed / packet too big carrying TunResult::mtu
  mtu_too_small,    // the route MTU minus the outer header is under 68 (IPv4 outer)
                    // or 1280 (IPv6 outer): IPVS drops such packets silently
  ttl_expired,      // decrement_inner_ttl and the inner TTL / hop limit was <= 1:
                    // answer with ICMP time exceeded
};
const char* to_string(TunStatus);  // snake_case, for counter labels

struct TunParams {
  IpAddress outer_src;           // the director's address on the route to the real server
  IpAddress outer_dst;           // the real server
  std::uint16_t ip_id = 0;       // IPv4 outer Identification: the caller's counter
  std::uint32_t mtu = 0;         // route MTU toward the real server; 0 = unchecked
  bool pmtu_disc = true;         // IPVS's net.ipv4.vs.pmtu_disc (see above)
  bool decrement_inner_ttl = false;
};

struct TunResult {
  TunStatus status = TunStatus::ok;
  std::size_t len = 0;    // ok: length of the outer packet written at out.data()
  std::uint32_t mtu = 0;  // too_big: the MTU to report to the sender (route MTU
                          // minus the outer header)
};

// Writes outer header + inner packet to out. The inner packet's own length
// (IPv4 total length / IPv6 40 + payload length) is used; bytes of `inner`
// past it are ignored. `inner` may overlap `out` (it is moved, not copied),
// so the packet can be encapsulated in place inside a buffer with headroom.
// On any error out is untouched.
TunResult tun_encapsulate(std::span<const std::uint8_t> inner, std::span<std::uint8_t> out,
                          const TunParams& params);

enum class DecapStatus : std::uint8_t {
  ok,
  truncated,         // shorter than the outer header or its length field says
  bad_version,       // outer version not 4 or 6
  bad_ihl,           // outer IPv4 IHL < 5 or beyond the buffer
  bad_total_length,  // outer IPv4 total length < IHL, IPv6 payload length 0 (jumbogram)
  bad_checksum,      // outer IPv4 header checksum wrong
  fragment,          // outer fragment: reassemble first (the kernel does, vsd does not)
  not_tunnel,        // outer protocol / final next header is not 4 or 41
  bad_inner,         // inner version disagrees with 4/41, or the inner header or
                     // its length field does not fit in the outer payload
  ecn_drop,          // outer CE over a not-ECN-capable inner packet: RFC 6040 says drop
};
inline constexpr std::size_t kDecapStatusCount = 10;
const char* to_string(DecapStatus);

struct DecapResult {
  DecapStatus status = DecapStatus::ok;
  Family outer_family = Family::v4;
  IpAddress outer_src, outer_dst;  // filled once the outer header parsed
  std::span<std::uint8_t> inner;   // ok: the inner packet (its own length), inside pkt
};

// Validates the outer header of a received IP-in-IP packet and returns a view
// of the inner packet. Never reads outside pkt. The one write: a CE mark on
// the outer header is copied into the inner one (RFC 6040, as the kernel's
// ip_tunnel_rcv does), fixing the inner IPv4 header checksum.
DecapResult tun_decapsulate(std::span<std::uint8_t> pkt);

}  // namespace vsd
