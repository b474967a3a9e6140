// A persistence template's key in the connection table. Templates live
// there under a protocol no real packet carries (IPVS flags them
// IP_VS_CONN_F_TEMPLATE instead): 0x80|proto for VIP services, 0 (IPVS's
// IPPROTO_IP) for fwmark services, so one template spans TCP and UDP of a
// mark; the client address is masked by the service's persistence netmask.
#pragma once

#include <cstdint>

#include "appliance/core/service_snapshot.hpp"
#include "forwarders/packet_view.hpp"

namespace vsd {

struct TemplateKey {
  std::uint8_t proto;
  IpAddress caddr, vaddr;
  std::uint16_t vport;
};

// `a` with its first `prefix` bits kept (IPv4: of its own 32 bits).
IpAddress masked(const IpAddress& a, std::uint8_t prefix);
// The key of the template for a packet's client: what the packet's
// source, destination, protocol and port are read for.
TemplateKey template_key(const ServiceView& svc, const PacketView& pkt);

}  // namespace vsd
