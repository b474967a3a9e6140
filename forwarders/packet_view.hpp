// A parsed view of an IP packet in place: where the headers are and what
// the 5-tuple is. Parsing never reads outside [data, data + len) and never
// allocates; every way a packet can be unusable has its own status, which
// the engine counts and answers with a documented verdict.
#pragma once

#include <cstddef>
#include <cstdint>

#include "net/ip_address.hpp"

namespace vsd {

enum class ParseStatus : std::uint8_t {
  ok,
  truncated_ip,          // shorter than the IP header
  bad_version,           // not 4 or 6
  bad_ihl,               // IPv4 header length < 20 or beyond the buffer
  bad_total_length,      // IP length 0, or shorter than its header
  fragment,              // IPv4/IPv6 fragment: vsd does not reassemble
  truncated_l4,          // the TCP/UDP/ICMP header is cut off
  unsupported_protocol,  // not TCP, UDP, ICMP or ICMPv6 (addresses are filled)
};
inline constexpr std::size_t kParseStatusCount = 8;
const char* to_string(ParseStatus);  // snake_case, used as counter labels

struct PacketView {
  std::uint8_t* data = nullptr;
  std::size_t len = 0;  // the IP packet's own length (buffer may be longer)
  Family family = Family::v4;
  std::uint8_t l4proto = 0;
  std::size_t l4_offset = 0;
  IpAddress src, dst;
  std::uint16_t sport = 0, dport = 0;  // host order; 0 for ICMP
  std::uint8_t tcp_flags = 0;          // FIN 0x01 SYN 0x02 RST 0x04 ACK 0x10
  std::uint8_t icmp_type = 0, icmp_code = 0;

  bool v6() const { return family == Family::v6; }
  std::uint8_t* l4() const { return data + l4_offset; }
  std::size_t l4_len() const { return len - l4_offset; }
  // Offset of the L4 checksum field inside the L4 header (TCP 16, UDP 6).
  std::size_t l4_check_offset() const;
};

ParseStatus parse_packet(std::uint8_t* data, std::size_t len, PacketView& out);

// Finishes a TCP/UDP checksum the kernel left partial (CHECKSUM_PARTIAL:
// the field holds only the pseudo-header sum, for a NIC to complete). A
// packet vsd sends out itself (DR, TUN) never meets that NIC, so the sum is
// computed here in full. Other protocols are left alone.
void complete_l4_checksum(PacketView& pkt);

}  // namespace vsd
