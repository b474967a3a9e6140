#include "arp/garp_frame.hpp"

#include <cstring>

#include "forwarders/checksum.hpp"

namespace vsd::arp {

namespace {

constexpr std::uint16_t kEthTypeArp = 0x0806, kEthTypeIpv6 = 0x86dd;
constexpr std::uint8_t kIcmpv6 = 58;
constexpr std::uint8_t kNeighbourAdvertisement = 136;
constexpr std::uint8_t kOptTargetLinkLayer = 2;
constexpr std::uint8_t kNaRouter = 0x80, kNaOverride = 0x20;  // and Solicited 0x40

void write_ethernet(std::uint8_t* f, const std::uint8_t* dst, const MacAddress& src,
                    std::uint16_t type) {
  std::memcpy(f, dst, 6);
  std::memcpy(f + 6, src.data(), 6);
  csum::store16(f + 12, type);
}

}  // namespace

std::size_t build_gratuitous_arp(const MacAddress& sender, const IpAddress& vip,
                                 std::span<std::uint8_t> out) {
  if (!vip.is_v4() || out.size() < kGarpFrameLen) return 0;
  static constexpr std::uint8_t broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  std::uint8_t* f = out.data();
  write_ethernet(f, broadcast, sender, kEthTypeArp);
  std::uint8_t* a = f + 14;
  csum::store16(a, 1);           // hardware type Ethernet
  csum::store16(a + 2, 0x0800);  // protocol IPv4
  a[4] = 6;                      // hardware address length
  a[5] = 4;                      // protocol address length
  csum::store16(a + 6, 1);       // request: every neighbour processes it (RFC 5227 3)
  std::memcpy(a + 8, sender.data(), 6);
  std::memcpy(a + 14, vip.v4_bytes(), 4);
  std::memset(a + 18, 0, 6);  // target MAC: ignored, zero per RFC 5227 2.3
  std::memcpy(a + 24, vip.v4_bytes(), 4);
  return kGarpFrameLen;
}

std::size_t build_unsolicited_na(const MacAddress& sender, const IpAddress& vip,
                                 std::span<std::uint8_t> out, bool router) {
  if (vip.is_v4() || out.size() < kUnsolicitedNaFrameLen) return 0;
  // ff02::1 and its Ethernet multicast mapping 33:33 + low 32 bits (RFC 2464 7).
  static constexpr std::uint8_t all_nodes[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0,
                                                 0,    0,    0, 0, 0, 0, 0, 1};
  static constexpr std::uint8_t all_nodes_mac[6] = {0x33, 0x33, 0, 0, 0, 1};
  std::uint8_t* f = out.data();
  write_ethernet(f, all_nodes_mac, sender, kEthTypeIpv6);
  std::uint8_t* ip = f + 14;
  constexpr std::uint16_t payload = 32;  // NA 24 + one 8-byte option
  ip[0] = 0x60;
  ip[1] = ip[2] = ip[3] = 0;
  csum::store16(ip + 4, payload);
  ip[6] = kIcmpv6;
  ip[7] = 255;  // receivers drop NDP with any other hop limit (RFC 4861 7.1.2)
  std::memcpy(ip + 8, vip.bytes.data(), 16);  // from the VIP, as the kernel does
  std::memcpy(ip + 24, all_nodes, 16);
  std::uint8_t* na = ip + 40;
  na[0] = kNeighbourAdvertisement;
  na[1] = 0;
  csum::store16(na + 2, 0);
  // Override: replace cached entries; unsolicited, so not Solicited.
  na[4] = static_cast<std::uint8_t>(kNaOverride | (router ? kNaRouter : 0));
  na[5] = na[6] = na[7] = 0;
  std::memcpy(na + 8, vip.bytes.data(), 16);  // target address
  na[24] = kOptTargetLinkLayer;
  na[25] = 1;  // length in units of 8 bytes
  std::memcpy(na + 26, sender.data(), 6);
  csum::store16(na + 2, csum::l4(true, ip + 8, ip + 24, kIcmpv6, na, payload, 2));
  return kUnsolicitedNaFrameLen;
}

std::size_t build_announcement(const MacAddress& sender, const IpAddress& vip,
                               std::span<std::uint8_t> out, bool router) {
  return vip.is_v4() ? build_gratuitous_arp(sender, vip, out)
                     : build_unsolicited_na(sender, vip, out, router);
}

}  // namespace vsd::arp
