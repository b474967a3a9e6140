// VS-NAT packet rewriting: destination (client -> real server) and source
// (real server -> client) address and port, with checksums kept right.
// It is told the new addresses; it never decides them.
#pragma once

#include <cstdint>

#include "forwarders/packet_view.hpp"

namespace vsd {

enum class ChecksumState : std::uint8_t {
  complete,   // the L4 checksum is valid: update it incrementally (RFC 1624)
  not_ready,  // the kernel's CHECKSUM_PARTIAL (NFQA_SKB_CSUMNOTREADY): the field
              // holds only the pseudo-header sum. The kernel marks a mangled
              // packet CHECKSUM_NONE on reinjection, so the rewriter writes a
              // complete checksum computed from scratch.
};

// Both return false and leave the packet untouched when the address family
// differs from the packet's or the protocol is not TCP/UDP.
bool nat_rewrite_destination(PacketView& pkt, const IpAddress& addr, std::uint16_t port,
                             ChecksumState cs);
bool nat_rewrite_source(PacketView& pkt, const IpAddress& addr, std::uint16_t port,
                        ChecksumState cs);

}  // namespace vsd
