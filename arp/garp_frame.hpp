// The frames a director sends when it takes over a VIP, so that switches and
// neighbours move the address to its MAC at once (as keepalived does on a
// VRRP transition):
//  - IPv4: a gratuitous ARP request, the RFC 5227 2.3 "ARP Announcement":
//    broadcast, sender IP = target IP = VIP, sender MAC = ours, target MAC 0;
//  - IPv6: an unsolicited neighbour advertisement (RFC 4861 7.2.6) to the
//    all-nodes group ff02::1, from the VIP, hop limit 255, Override set and
//    Solicited clear, with the target link-layer address option.
// Whole Ethernet frames for an AF_PACKET SOCK_RAW socket; no padding (the
// driver pads to 60 bytes). Pure code: no syscalls, no allocation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "net/ip_address.hpp"
#include "net/mac_address.hpp"

namespace vsd::arp {

inline constexpr std::size_t kGarpFrameLen = 14 + 28;                // Ethernet + ARP
inline constexpr std::size_t kUnsolicitedNaFrameLen = 14 + 40 + 32;  // Ethernet + IPv6 + NA + option

// Each returns the frame length, or 0 when `out` is too short or `vip` is of
// the other family.
std::size_t build_gratuitous_arp(const MacAddress& sender, const IpAddress& vip,
                                 std::span<std::uint8_t> out);
// `router` sets the Router flag: the kernel sets it when the interface
// forwards, and a neighbour that sees it go from 1 to 0 stops using the node
// as a default router (RFC 4861 7.2.5).
std::size_t build_unsolicited_na(const MacAddress& sender, const IpAddress& vip,
                                 std::span<std::uint8_t> out, bool router = false);
// Whichever of the two fits the VIP's family.
std::size_t build_announcement(const MacAddress& sender, const IpAddress& vip,
                               std::span<std::uint8_t> out, bool router = false);

}  // namespace vsd::arp
