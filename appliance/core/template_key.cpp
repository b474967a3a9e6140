#include "appliance/core/template_key.hpp"

namespace vsd {

IpAddress masked(const IpAddress& a, std::uint8_t prefix) {
  // v4-mapped: the prefix counts from the IPv4 address's first bit.
  unsigned bits = a.is_v4() ? 96u + prefix : prefix;
  IpAddress out = a;
  for (unsigned i = 0; i < 16; ++i) {
    unsigned keep = bits >= (i + 1) * 8 ? 8 : (bits > i * 8 ? bits - i * 8 : 0);
    out.bytes[i] &= static_cast<std::uint8_t>(keep == 8 ? 0xff : (0xff00u >> keep) & 0xff);
  }
  return out;
}

TemplateKey template_key(const ServiceView& svc, const PacketView& pkt) {
  TemplateKey k;
  k.caddr = masked(pkt.src, svc.netmask);
  if (svc.fwmark) {
    const std::uint8_t m[4] = {static_cast<std::uint8_t>(svc.fwmark >> 24),
                               static_cast<std::uint8_t>(svc.fwmark >> 16),
                               static_cast<std::uint8_t>(svc.fwmark >> 8),
                               static_cast<std::uint8_t>(svc.fwmark)};
    k.proto = 0;
    k.vaddr = IpAddress::v4(m);
    k.vport = 0;
  } else {
    k.proto = static_cast<std::uint8_t>(0x80 | pkt.l4proto);
    k.vaddr = pkt.dst;
    k.vport = svc.vip.port == 0 ? 0 : pkt.dport;  // port-0 service: one template for all ports
  }
  return k;
}

}  // namespace vsd
