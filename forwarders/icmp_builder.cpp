#include "forwarders/icmp_builder.hpp"

#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "forwarders/checksum.hpp"

namespace vsd {

const char* to_string(IcmpBuildStatus s) {
  switch (s) {
    case IcmpBuildStatus::ok: return "ok";
    case IcmpBuildStatus::bad_original: return "bad_original";
    case IcmpBuildStatus::not_allowed: return "not_allowed";
    case IcmpBuildStatus::no_room: return "no_room";
  }
  return "unknown";
}

namespace {

constexpr std::size_t kIcmpHeader = 8;

// Everything the reply needs from the original, read before anything is
// written (out may overlap the original).
struct Original {
  bool v6 = false;
  std::uint8_t src[16], dst[16];
  std::uint8_t tos = 0;
  std::size_t len = 0;  // bytes of the original present: min(own length, buffer)
};

// RFC 1122 3.2.2: no error about a datagram whose source is not one host
// (0/8 "this network", 127/8 loopback, 224/4 multicast, 240/4 class E and
// the limited broadcast). The reply's source is the original destination,
// which must be a unicast address too.
bool v4_unicast(const std::uint8_t* a) { return a[0] != 0 && a[0] != 127 && a[0] < 224; }

bool v6_unicast(const std::uint8_t* a) {
  static constexpr std::uint8_t zero[16] = {};
  return a[0] != 0xff && std::memcmp(a, zero, 16) != 0;
}

// The kernel's icmp_send: an ICMP error (or an unknown type) never gets an
// ICMP error back, nor does a fragment other than the first.
IcmpBuildStatus check_v4(const std::uint8_t* d, std::size_t ihl, std::size_t len) {
  if (!v4_unicast(d + 12) || !v4_unicast(d + 16)) return IcmpBuildStatus::not_allowed;
  if (csum::load16(d + 6) & 0x1fff) return IcmpBuildStatus::not_allowed;
  if (d[9] != IPPROTO_ICMP) return IcmpBuildStatus::ok;
  if (ihl >= len) return IcmpBuildStatus::not_allowed;  // type unreadable
  const std::uint8_t type = d[ihl];
  const bool error = type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
  return (error || type > 18) ? IcmpBuildStatus::not_allowed : IcmpBuildStatus::ok;
}

// The kernel's icmp6_send / is_ineligible (RFC 4443 2.4(e)): nothing about
// an ICMPv6 error (type < 128), and the addresses must be unicast.
IcmpBuildStatus check_v6(const std::uint8_t* d, std::size_t len) {
  if (!v6_unicast(d + 8) || !v6_unicast(d + 24)) return IcmpBuildStatus::not_allowed;
  std::uint8_t next = d[6];
  std::size_t off = 40;
  bool later_fragment = false;
  for (int hops = 0; hops < 8; ++hops) {
    if (next != 0 && next != 43 && next != 60 && next != 44) break;
    if (off + 8 > len) return IcmpBuildStatus::ok;  // cannot see further: not an ICMPv6 error
    const std::uint8_t following = d[off];
    if (next == 44) {
      later_fragment = (csum::load16(d + off + 2) & 0xfff8) != 0;
      off += 8;
    } else {
      off += (static_cast<std::size_t>(d[off + 1]) + 1) * 8;
    }
    next = following;
  }
  if (next != IPPROTO_ICMPV6 || later_fragment) return IcmpBuildStatus::ok;
  if (off >= len) return IcmpBuildStatus::not_allowed;  // an ICMPv6 type we cannot read
  return d[off] < 128 ? IcmpBuildStatus::not_allowed : IcmpBuildStatus::ok;
}

IcmpBuildStatus read_original(std::span<const std::uint8_t> p, Original& o) {
  if (p.empty()) return IcmpBuildStatus::bad_original;
  const std::uint8_t* d = p.data();
  if ((d[0] >> 4) == 4) {
    if (p.size() < 20) return IcmpBuildStatus::bad_original;
    const std::size_t ihl = static_cast<std::size_t>(d[0] & 0x0f) * 4;
    const std::size_t total = csum::load16(d + 2);
    if (ihl < 20 || ihl > p.size() || total < ihl) return IcmpBuildStatus::bad_original;
    o.len = std::min(total, p.size());
    std::memcpy(o.src, d + 12, 4);
    std::memcpy(o.dst, d + 16, 4);
    o.tos = d[1];
    return check_v4(d, ihl, o.len);
  }
  if ((d[0] >> 4) == 6) {
    if (p.size() < 40) return IcmpBuildStatus::bad_original;
    o.v6 = true;
    o.len = std::min<std::size_t>(40 + csum::load16(d + 4), p.size());
    std::memcpy(o.src, d + 8, 16);
    std::memcpy(o.dst, d + 24, 16);
    return check_v6(d, o.len);
  }
  return IcmpBuildStatus::bad_original;
}

void write_icmp_header(std::uint8_t* icmp, const IcmpErrorSpec& spec) {
  icmp[0] = spec.type;
  icmp[1] = spec.code;
  csum::store16(icmp + 2, 0);
  csum::store16(icmp + 4, static_cast<std::uint16_t>(spec.info >> 16));
  csum::store16(icmp + 6, static_cast<std::uint16_t>(spec.info));
}

void write_v4(std::uint8_t* h, const Original& o, std::size_t total, const IcmpReplyParams& p) {
  h[0] = 0x45;
  h[1] = static_cast<std::uint8_t>((o.tos & 0x1e) | 0xc0);
  csum::store16(h + 2, static_cast<std::uint16_t>(total));
  csum::store16(h + 4, p.ip_id);
  csum::store16(h + 6, 0);
  h[8] = p.ttl;
  h[9] = IPPROTO_ICMP;
  csum::store16(h + 10, 0);
  std::memcpy(h + 12, o.dst, 4);  // from the VIP
  std::memcpy(h + 16, o.src, 4);  // back to the client
  csum::store16(h + 10, csum::ipv4_header(h, 20));
  std::uint8_t* icmp = h + 20;
  const std::size_t icmp_len = total - 20;
  csum::store16(icmp + 2, static_cast<std::uint16_t>(~csum::fold(csum::add(icmp, icmp_len))));
}

void write_v6(std::uint8_t* h, const Original& o, std::size_t total, const IcmpReplyParams& p) {
  h[0] = 0x60;
  h[1] = h[2] = h[3] = 0;
  const std::size_t payload = total - 40;
  csum::store16(h + 4, static_cast<std::uint16_t>(payload));
  h[6] = IPPROTO_ICMPV6;
  h[7] = p.ttl;
  std::memcpy(h + 8, o.dst, 16);
  std::memcpy(h + 24, o.src, 16);
  csum::store16(h + 42, csum::l4(true, h + 8, h + 24, IPPROTO_ICMPV6, h + 40, payload, 2));
}

}  // namespace

IcmpBuildResult icmp_build_error(std::span<const std::uint8_t> original, const IcmpErrorSpec& spec,
                                 std::span<std::uint8_t> out, const IcmpReplyParams& params) {
  IcmpBuildResult r;
  Original o;
  r.status = read_original(original, o);
  if (r.status != IcmpBuildStatus::ok) return r;
  const std::size_t hdr = (o.v6 ? 40 : 20) + kIcmpHeader;
  const std::size_t quote = std::min(o.len, (o.v6 ? kIcmp6ReplyMax : kIcmpReplyMax) - hdr);
  if (out.size() < hdr + quote) {
    r.status = IcmpBuildStatus::no_room;
    return r;
  }
  std::memmove(out.data() + hdr, original.data(), quote);
  write_icmp_header(out.data() + hdr - kIcmpHeader, spec);
  if (o.v6)
    write_v6(out.data(), o, hdr + quote, params);
  else
    write_v4(out.data(), o, hdr + quote, params);
  r.len = hdr + quote;
  return r;
}

namespace {
bool is_v6(std::span<const std::uint8_t> p) { return !p.empty() && (p[0] >> 4) == 6; }
}  // namespace

IcmpBuildResult icmp_build_frag_needed(std::span<const std::uint8_t> original, std::uint16_t mtu,
                                       std::span<std::uint8_t> out,
                                       const IcmpReplyParams& params) {
  if (is_v6(original)) return {IcmpBuildStatus::bad_original, 0};
  return icmp_build_error(original, {3, 4, mtu}, out, params);  // unused 16 bits, then the MTU
}

IcmpBuildResult icmp6_build_packet_too_big(std::span<const std::uint8_t> original,
                                           std::uint32_t mtu, std::span<std::uint8_t> out,
                                           const IcmpReplyParams& params) {
  if (!is_v6(original)) return {IcmpBuildStatus::bad_original, 0};
  return icmp_build_error(original, {2, 0, mtu}, out, params);
}

IcmpBuildResult icmp_build_too_big(std::span<const std::uint8_t> original, std::uint32_t mtu,
                                   std::span<std::uint8_t> out, const IcmpReplyParams& params) {
  if (is_v6(original)) return icmp6_build_packet_too_big(original, mtu, out, params);
  return icmp_build_frag_needed(original, static_cast<std::uint16_t>(std::min(mtu, 65535u)), out,
                                params);
}

IcmpBuildResult icmp_build_time_exceeded(std::span<const std::uint8_t> original,
                                         std::span<std::uint8_t> out,
                                         const IcmpReplyParams& params) {
  const IcmpErrorSpec spec = is_v6(original) ? IcmpErrorSpec{3, 0, 0} : IcmpErrorSpec{11, 0, 0};
  return icmp_build_error(original, spec, out, params);
}

}  // namespace vsd
