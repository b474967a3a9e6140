#include "forwarders/icmp_nat.hpp"

#include <netinet/in.h>

#include <cstring>

#include "forwarders/checksum.hpp"

namespace vsd {

const char* to_string(IcmpNatStatus s) {
  switch (s) {
    case IcmpNatStatus::ok: return "ok";
    case IcmpNatStatus::not_icmp: return "not_icmp";
    case IcmpNatStatus::not_error: return "not_error";
    case IcmpNatStatus::truncated_embedded: return "truncated_embedded";
    case IcmpNatStatus::bad_embedded: return "bad_embedded";
    case IcmpNatStatus::embedded_fragment: return "embedded_fragment";
    case IcmpNatStatus::unsupported_protocol: return "unsupported_protocol";
    case IcmpNatStatus::family_mismatch: return "family_mismatch";
  }
  return "unknown";
}

bool icmp_is_error(Family family, std::uint8_t type) {
  if (family == Family::v4) return type == 3 || type == 4 || type == 11 || type == 12;
  return type >= 1 && type <= 4;
}

namespace {

// The quoted IPv4 header: complete, since its checksum and the L4 offset
// depend on all of it.
IcmpNatStatus parse_embedded_v4(const std::uint8_t* e, std::size_t avail, IcmpErrorView& out) {
  if (avail < 20) return IcmpNatStatus::truncated_embedded;
  if ((e[0] >> 4) != 4) return IcmpNatStatus::bad_embedded;
  const std::size_t ihl = static_cast<std::size_t>(e[0] & 0x0f) * 4;
  if (ihl < 20) return IcmpNatStatus::bad_embedded;
  if (ihl > avail) return IcmpNatStatus::truncated_embedded;
  out.family = Family::v4;
  out.src = IpAddress::v4(e + 12);
  out.dst = IpAddress::v4(e + 16);
  out.proto = e[9];
  out.embedded_l4_offset = out.embedded_offset + ihl;
  if (csum::load16(e + 6) & 0x1fff) return IcmpNatStatus::embedded_fragment;
  return IcmpNatStatus::ok;
}

// The quoted IPv6 header and the extension headers before its L4 header, as
// far as the quote goes (its payload length describes the original, not the
// quote, so only `avail` bounds the walk).
IcmpNatStatus parse_embedded_v6(const std::uint8_t* e, std::size_t avail, IcmpErrorView& out) {
  if (avail < 40) return IcmpNatStatus::truncated_embedded;
  if ((e[0] >> 4) != 6) return IcmpNatStatus::bad_embedded;
  out.family = Family::v6;
  out.src = IpAddress::v6(e + 8);
  out.dst = IpAddress::v6(e + 24);
  std::uint8_t next = e[6];
  std::size_t off = 40;
  for (int hops = 0; hops < 8; ++hops) {
    if (next != 0 && next != 43 && next != 60 && next != 44) break;
    if (off + 8 > avail) return IcmpNatStatus::truncated_embedded;
    const std::uint8_t following = e[off];
    if (next == 44) {
      if (csum::load16(e + off + 2) & 0xfff8) return IcmpNatStatus::embedded_fragment;
      off += 8;
    } else {
      off += (static_cast<std::size_t>(e[off + 1]) + 1) * 8;
    }
    next = following;
  }
  out.proto = next;
  out.embedded_l4_offset = out.embedded_offset + off;
  if (off > avail) return IcmpNatStatus::truncated_embedded;
  return IcmpNatStatus::ok;
}

// Writes `len` new bytes at `at`, a field the ICMP checksum covers, keeping
// that checksum right.
void write_covered(std::uint8_t* at, const std::uint8_t* new_bytes, std::size_t len,
                   std::uint8_t* icmp_check) {
  csum::update(icmp_check, at, new_bytes, len);
  std::memcpy(at, new_bytes, len);
}

}  // namespace

IcmpNatStatus icmp_error_parse(const PacketView& outer, IcmpErrorView& out) {
  out = IcmpErrorView{};
  const int want = outer.v6() ? int{IPPROTO_ICMPV6} : int{IPPROTO_ICMP};
  if (outer.l4proto != want || outer.data == nullptr || outer.l4_offset + 8 > outer.len)
    return IcmpNatStatus::not_icmp;
  const std::uint8_t* icmp = outer.l4();
  out.type = icmp[0];
  out.code = icmp[1];
  if (!icmp_is_error(outer.family, out.type)) return IcmpNatStatus::not_error;
  if (!outer.v6() && out.type == 3 && out.code == 4) out.mtu = csum::load16(icmp + 6);
  if (outer.v6() && out.type == 2)
    out.mtu = (static_cast<std::uint32_t>(csum::load16(icmp + 4)) << 16) | csum::load16(icmp + 6);
  out.embedded_offset = outer.l4_offset + 8;
  const std::uint8_t* e = outer.data + out.embedded_offset;
  const std::size_t avail = outer.len - out.embedded_offset;
  if (avail > 0 && (e[0] >> 4) != (outer.v6() ? 6 : 4)) return IcmpNatStatus::bad_embedded;
  const IcmpNatStatus st =
      outer.v6() ? parse_embedded_v6(e, avail, out) : parse_embedded_v4(e, avail, out);
  if (st != IcmpNatStatus::ok) return st;
  if (out.proto != IPPROTO_TCP && out.proto != IPPROTO_UDP)
    return IcmpNatStatus::unsupported_protocol;
  const std::size_t l4_avail = outer.len - out.embedded_l4_offset;
  if (l4_avail < 4) return IcmpNatStatus::truncated_embedded;
  const std::uint8_t* l4 = outer.data + out.embedded_l4_offset;
  out.sport = csum::load16(l4);
  out.dport = csum::load16(l4 + 2);
  out.l4_checksum_quoted = l4_avail >= (out.proto == IPPROTO_TCP ? 18u : 8u);
  return IcmpNatStatus::ok;
}

IcmpNatStatus icmp_nat_rewrite(PacketView& outer, const IcmpNatChange& change) {
  IcmpErrorView err;
  const IcmpNatStatus st = icmp_error_parse(outer, err);
  if (st != IcmpNatStatus::ok) return st;
  if (change.outer_addr.family() != outer.family || change.embedded_addr.family() != outer.family)
    return IcmpNatStatus::family_mismatch;
  const bool v6 = outer.v6();
  const std::size_t alen = v6 ? 16 : 4;
  std::uint8_t* icmp_check = outer.l4() + 2;

  // Outer address: the IPv4 header checksum covers it; ICMPv4 does not.
  std::uint8_t* outer_addr = outer.data + (change.outer_source ? (v6 ? 8 : 12) : (v6 ? 24 : 16));
  if (v6)
    csum::update(icmp_check, outer_addr, change.outer_addr.data(), alen);  // pseudo-header
  else
    csum::update(outer.data + 10, outer_addr, change.outer_addr.data(), alen);
  std::memcpy(outer_addr, change.outer_addr.data(), alen);

  // Quoted endpoint. Every byte below lies inside the ICMP message, so each
  // change, checksum fields included, is folded into the ICMP checksum.
  std::uint8_t* e = outer.data + err.embedded_offset;
  std::uint8_t* l4 = outer.data + err.embedded_l4_offset;
  std::uint8_t* e_addr = e + (change.embedded_source ? (v6 ? 8 : 12) : (v6 ? 24 : 16));
  std::uint8_t* e_port = l4 + (change.embedded_source ? 0 : 2);
  const std::uint8_t* new_addr = change.embedded_addr.data();
  std::uint8_t new_port[2];
  csum::store16(new_port, change.embedded_port);

  if (err.l4_checksum_quoted) {
    std::uint8_t* l4_check = l4 + (err.proto == IPPROTO_TCP ? 16 : 6);
    const bool udp = err.proto == IPPROTO_UDP;
    if (!(udp && !v6 && csum::load16(l4_check) == 0)) {  // IPv4 UDP without checksum
      std::uint8_t c[2] = {l4_check[0], l4_check[1]};
      csum::update(c, e_addr, new_addr, alen);  // the quoted pseudo-header
      csum::update(c, e_port, new_port, 2);
      if (udp && csum::load16(c) == 0) csum::store16(c, 0xffff);  // RFC 768
      write_covered(l4_check, c, 2, icmp_check);
    }
  }
  if (!v6) {
    std::uint8_t c[2] = {e[10], e[11]};
    csum::update(c, e_addr, new_addr, 4);
    write_covered(e + 10, c, 2, icmp_check);
  }
  write_covered(e_addr, new_addr, alen, icmp_check);
  write_covered(e_port, new_port, 2, icmp_check);

  (change.outer_source ? outer.src : outer.dst) = change.outer_addr;
  return IcmpNatStatus::ok;
}

IcmpNatStatus icmp_nat_from_real_server(PacketView& outer, const IpAddress& vip,
                                        std::uint16_t vport) {
  return icmp_nat_rewrite(outer, {true, vip, false, vip, vport});
}

IcmpNatStatus icmp_nat_to_real_server(PacketView& outer, const IpAddress& rip,
                                      std::uint16_t rport) {
  return icmp_nat_rewrite(outer, {false, rip, true, rip, rport});
}

}  // namespace vsd
