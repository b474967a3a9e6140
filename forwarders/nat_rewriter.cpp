#include "forwarders/nat_rewriter.hpp"

#include <netinet/in.h>

#include "forwarders/checksum.hpp"

namespace vsd {
namespace {

// Offsets of the source/destination address in the IP header and of the
// source/destination port in the L4 header.
struct Fields {
  std::size_t addr;
  std::size_t port;
};

bool rewrite(PacketView& pkt, const IpAddress& addr, std::uint16_t port, ChecksumState cs,
             bool destination) {
  if (pkt.l4proto != IPPROTO_TCP && pkt.l4proto != IPPROTO_UDP) return false;
  if (addr.is_v4() != (pkt.family == Family::v4)) return false;
  const bool v6 = pkt.v6();
  const std::size_t alen = v6 ? 16 : 4;
  const Fields f = destination ? Fields{v6 ? 24u : 16u, 2} : Fields{v6 ? 8u : 12u, 0};
  std::uint8_t* ip_addr = pkt.data + f.addr;
  std::uint8_t* l4 = pkt.l4();
  std::uint8_t* l4_port = l4 + f.port;
  std::uint8_t* l4_check = l4 + pkt.l4_check_offset();
  const std::uint8_t* new_addr = addr.data();
  std::uint8_t new_port[2];
  csum::store16(new_port, port);
  const bool udp = pkt.l4proto == IPPROTO_UDP;
  // IPv4 UDP may carry no checksum (0): keep it that way.
  const bool l4_has_check = !(udp && !v6 && csum::load16(l4_check) == 0);

  if (cs == ChecksumState::complete && l4_has_check) {
    csum::update(l4_check, ip_addr, new_addr, alen);  // pseudo-header
    csum::update(l4_check, l4_port, new_port, 2);
    // RFC 768: a computed UDP checksum of 0 is sent as all ones.
    if (udp && csum::load16(l4_check) == 0) csum::store16(l4_check, 0xffff);
  }
  if (!v6) csum::update(pkt.data + 10, ip_addr, new_addr, 4);  // IPv4 header checksum
  std::memcpy(ip_addr, new_addr, alen);
  std::memcpy(l4_port, new_port, 2);

  if (cs == ChecksumState::not_ready && l4_has_check) {
    const std::uint8_t* src = pkt.data + (v6 ? 8 : 12);
    const std::uint8_t* dst = pkt.data + (v6 ? 24 : 16);
    std::uint16_t c = csum::l4(v6, src, dst, pkt.l4proto, l4, pkt.l4_len(), pkt.l4_check_offset());
    if (udp && c == 0) c = 0xffff;
    csum::store16(l4_check, c);
  }
  if (destination) {
    pkt.dst = addr;
    pkt.dport = port;
  } else {
    pkt.src = addr;
    pkt.sport = port;
  }
  return true;
}

}  // namespace

bool nat_rewrite_destination(PacketView& pkt, const IpAddress& addr, std::uint16_t port,
                             ChecksumState cs) {
  return rewrite(pkt, addr, port, cs, true);
}

bool nat_rewrite_source(PacketView& pkt, const IpAddress& addr, std::uint16_t port,
                        ChecksumState cs) {
  return rewrite(pkt, addr, port, cs, false);
}

}  // namespace vsd
