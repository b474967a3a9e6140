// VS-NAT for ICMP errors about a NAT'ed connection (IPVS's ip_vs_out_icmp /
// ip_vs_in_icmp and ip_vs_nat_icmp). An ICMP error quotes the packet that
// caused it, so the quote must be translated like the connection's packets,
// or the receiver cannot match it to its socket.
//
// The two cases the director sees, for a connection client:cport -> VIP:vport
// scheduled to RIP:rport:
//  - from the real-server side (the real server itself, or a router between
//    the director and it, e.g. port unreachable, frag needed): outer
//    X -> client, quoting the DNAT'ed packet client:cport -> RIP:rport.
//    icmp_nat_from_real_server sets the outer source to the VIP and the
//    quote's destination to VIP:vport (IPVS rewrites the outer source to the
//    VIP even when X is a router).
//  - from the client side (the client or a router on its path): outer
//    X -> VIP, quoting the SNAT'ed reply VIP:vport -> client:cport.
//    icmp_nat_to_real_server sets the outer destination to RIP and the
//    quote's source to RIP:rport.
// icmp_error_parse gives the quoted 5-tuple for the connection lookup.
//
// Checksums: the outer IPv4 header checksum, the quoted IPv4 header checksum,
// the quoted TCP/UDP checksum when the quote reaches it (the quote may stop
// after 8 L4 bytes: the TCP checksum, at offset 16, is then absent; a UDP
// checksum of 0 over IPv4 stays 0), and the ICMP checksum (ICMPv6 covers the
// outer addresses through its pseudo-header) are all updated incrementally
// (RFC 1624), so a checksum that was wrong stays detectably wrong.
// Pure code: no syscalls, no allocation; never reads or writes outside the
// packet.
#pragma once

#include <cstddef>
#include <cstdint>

#include "net/ip_address.hpp"
#include "forwarders/packet_view.hpp"

namespace vsd {

enum class IcmpNatStatus : std::uint8_t {
  ok,
  not_icmp,              // the outer packet is not ICMP (IPv4) / ICMPv6 (IPv6)
  not_error,             // a type that quotes no packet (echo, neighbour discovery, ...)
  truncated_embedded,    // the quoted IP header, or the 4 port bytes after it, cut off
  bad_embedded,          // quoted version / IHL wrong, or a family other than the outer's
  embedded_fragment,     // the quote is a non-first fragment: it has no ports
  unsupported_protocol,  // the quote is not TCP/UDP (addresses are filled)
  family_mismatch,       // rewrite: a new address of the other family
};
inline constexpr std::size_t kIcmpNatStatusCount = 8;
const char* to_string(IcmpNatStatus);  // snake_case, for counter labels

// ICMP errors translated: IPv4 destination unreachable (3), source quench (4),
// time exceeded (11), parameter problem (12); ICMPv6 destination unreachable
// (1), packet too big (2), time exceeded (3), parameter problem (4).
bool icmp_is_error(Family family, std::uint8_t type);

struct IcmpErrorView {
  std::uint8_t type = 0, code = 0;
  std::uint32_t mtu = 0;  // frag needed (3/4) / packet too big (2): the MTU reported
  // The quoted packet.
  Family family = Family::v4;
  std::uint8_t proto = 0;
  IpAddress src, dst;
  std::uint16_t sport = 0, dport = 0;  // host order
  std::size_t embedded_offset = 0;     // quoted IP header, from the outer packet's start
  std::size_t embedded_l4_offset = 0;  // quoted L4 header, likewise
  bool l4_checksum_quoted = false;     // the quoted TCP/UDP checksum field is present
};

// Parses the error in `outer` (as parse_packet returned it, status ok).
IcmpNatStatus icmp_error_parse(const PacketView& outer, IcmpErrorView& out);

// The general rewrite: one outer address and one quoted endpoint.
struct IcmpNatChange {
  bool outer_source = true;  // change the outer source (else the destination)
  IpAddress outer_addr;
  bool embedded_source = false;  // change the quote's source (else its destination)
  IpAddress embedded_addr;
  std::uint16_t embedded_port = 0;  // host order
};
// Parses, then rewrites with every checksum kept right; returns the parse
// status (the packet is untouched unless ok). Updates outer.src / outer.dst.
IcmpNatStatus icmp_nat_rewrite(PacketView& outer, const IcmpNatChange& change);

// The two IPVS directions described above.
IcmpNatStatus icmp_nat_from_real_server(PacketView& outer, const IpAddress& vip,
                                        std::uint16_t vport);
IcmpNatStatus icmp_nat_to_real_server(PacketView& outer, const IpAddress& rip,
                                      std::uint16_t rport);

}  // namespace vsd
