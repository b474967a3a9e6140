#include "forwarders/tun_rewriter.hpp"

#include <cstring>

#include "forwarders/checksum.hpp"

namespace vsd {

const char* to_string(TunStatus s) {
  switch (s) {
    case TunStatus::ok: return "ok";
    case TunStatus::bad_inner: return "bad_inner";
    case TunStatus::bad_outer: return "bad_outer";
    case TunStatus::no_room: return "no_room";
    case TunStatus::too_big: return "too_big";
    case TunStatus::mtu_too_small: return "mtu_too_small";
    case TunStatus::ttl_expired: return "ttl_expired";
  }
  return "unknown";
}

const char* to_string(DecapStatus s) {
  switch (s) {
    case DecapStatus::ok: return "ok";
    case DecapStatus::truncated: return "truncated";
    case DecapStatus::bad_version: return "bad_version";
    case DecapStatus::bad_ihl: return "bad_ihl";
    case DecapStatus::bad_total_length: return "bad_total_length";
    case DecapStatus::bad_checksum: return "bad_checksum";
    case DecapStatus::fragment: return "fragment";
    case DecapStatus::not_tunnel: return "not_tunnel";
    case DecapStatus::bad_inner: return "bad_inner";
    case DecapStatus::ecn_drop: return "ecn_drop";
  }
  return "unknown";
}

namespace {

constexpr std::uint8_t kProtoIpip = 4;   // IPPROTO_IPIP
constexpr std::uint8_t kProtoIpv6 = 41;  // IPPROTO_IPV6
constexpr std::uint8_t kEcnMask = 0x03, kEcnEct0 = 0x02, kEcnCe = 0x03;
constexpr std::uint16_t kIpDf = 0x4000;

// What the encapsulation needs from the inner header.
struct Inner {
  bool v6 = false;
  std::size_t len = 0;  // the packet's own length
  std::uint8_t ttl = 0;
  std::uint8_t dsfield = 0;
  bool df = false;
};

// The inner packet's own length and header fields; false when `p` does not
// hold a whole IPv4/IPv6 packet.
bool read_inner(std::span<const std::uint8_t> p, Inner& in) {
  if (p.empty()) return false;
  const std::uint8_t* d = p.data();
  switch (d[0] >> 4) {
    case 4: {
      if (p.size() < 20) return false;
      const std::size_t ihl = static_cast<std::size_t>(d[0] & 0x0f) * 4;
      in.len = csum::load16(d + 2);
      if (ihl < 20 || in.len < ihl || in.len > p.size()) return false;
      in.ttl = d[8];
      in.dsfield = d[1];
      in.df = (csum::load16(d + 6) & kIpDf) != 0;
      return true;
    }
    case 6: {
      if (p.size() < 40) return false;
      const std::size_t payload = csum::load16(d + 4);
      in.v6 = true;
      in.len = 40 + payload;
      if (payload == 0 || in.len > p.size()) return false;  // no jumbograms
      in.ttl = d[7];
      in.dsfield = static_cast<std::uint8_t>(((d[0] & 0x0f) << 4) | (d[1] >> 4));
      return true;
    }
    default:
      return false;
  }
}

// RFC 6040 normal mode, the kernel's INET_ECN_encapsulate(ds, ds): the outer
// header keeps the DSCP and the ECN capability, but a CE mark is not copied
// out (it would look like congestion on the tunnel path).
std::uint8_t encapsulated_dsfield(std::uint8_t ds) {
  const std::uint8_t ecn = ds & kEcnMask;
  return static_cast<std::uint8_t>((ds & ~kEcnMask) | (ecn == kEcnCe ? kEcnEct0 : ecn));
}

void write_outer_v4(std::uint8_t* h, const Inner& in, const TunParams& p, std::size_t total) {
  h[0] = 0x45;  // version 4, IHL 5: IPVS adds no options
  h[1] = encapsulated_dsfield(in.dsfield);
  csum::store16(h + 2, static_cast<std::uint16_t>(total));
  csum::store16(h + 4, p.ip_id);
  csum::store16(h + 6, (!in.v6 && p.pmtu_disc && in.df) ? kIpDf : 0);
  h[8] = in.ttl;
  h[9] = in.v6 ? kProtoIpv6 : kProtoIpip;
  csum::store16(h + 10, 0);
  std::memcpy(h + 12, p.outer_src.v4_bytes(), 4);
  std::memcpy(h + 16, p.outer_dst.v4_bytes(), 4);
  csum::store16(h + 10, csum::ipv4_header(h, 20));
}

void write_outer_v6(std::uint8_t* h, const Inner& in, const TunParams& p) {
  const std::uint8_t tc = encapsulated_dsfield(in.dsfield);
  h[0] = static_cast<std::uint8_t>(0x60 | (tc >> 4));
  h[1] = static_cast<std::uint8_t>(tc << 4);  // flow label 0, as IPVS
  h[2] = 0;
  h[3] = 0;
  csum::store16(h + 4, static_cast<std::uint16_t>(in.len));
  h[6] = in.v6 ? kProtoIpv6 : kProtoIpip;
  h[7] = in.ttl;
  std::memcpy(h + 8, p.outer_src.bytes.data(), 16);
  std::memcpy(h + 24, p.outer_dst.bytes.data(), 16);
}

// The MTU check of IPVS's __ip_vs_get_out_rt (tunnel mode) and
// ensure_mtu_is_adequate: an inner IPv6 packet is never fragmented; an inner
// IPv4 packet only when it does not carry DF (or pmtu_disc is off), in which
// case the outer packet (DF clear) is fragmented on the way.
TunStatus check_mtu(const Inner& in, const TunParams& p, std::size_t hdr,
                    std::uint32_t* report) {
  if (p.mtu == 0) return TunStatus::ok;
  const std::uint32_t floor = hdr == 20 ? 68 : 1280;
  if (p.mtu < hdr + floor) return TunStatus::mtu_too_small;
  const std::uint32_t inner_mtu = static_cast<std::uint32_t>(p.mtu - hdr);
  if (in.len <= inner_mtu) return TunStatus::ok;
  if (!in.v6 && (!p.pmtu_disc || !in.df)) return TunStatus::ok;
  *report = inner_mtu;
  return TunStatus::too_big;
}

// ip_decrease_ttl: TTL - 1 with the header checksum updated (RFC 1624).
void decrement_ttl(std::uint8_t* inner, bool v6) {
  if (v6) {
    --inner[7];
    return;
  }
  std::uint8_t old_word[2] = {inner[8], inner[9]};
  --inner[8];
  csum::update(inner + 10, old_word, inner + 8, 2);
}

}  // namespace

TunResult tun_encapsulate(std::span<const std::uint8_t> inner, std::span<std::uint8_t> out,
                          const TunParams& params) {
  TunResult r;
  if (params.outer_src.is_v4() != params.outer_dst.is_v4()) {
    r.status = TunStatus::bad_outer;
    return r;
  }
  Inner in;
  if (!read_inner(inner, in)) {
    r.status = TunStatus::bad_inner;
    return r;
  }
  const bool outer_v4 = params.outer_dst.is_v4();
  const std::size_t hdr = tun_header_len(outer_v4 ? Family::v4 : Family::v6);
  // Both outer length fields are 16 bits: IPv4 total length covers the outer
  // header, IPv6 payload length does not.
  const std::size_t limit = outer_v4 ? 65535 - hdr : 65535;
  if (in.len > limit) {
    r.status = TunStatus::too_big;
    r.mtu = static_cast<std::uint32_t>(limit);
    return r;
  }
  // IPVS decrements the TTL before it checks the MTU, so an expiring packet
  // is answered with time exceeded even when it is also too big.
  if (params.decrement_inner_ttl) {
    if (in.ttl <= 1) {
      r.status = TunStatus::ttl_expired;
      return r;
    }
    --in.ttl;  // the outer header copies the decremented value, as IPVS
  }
  r.status = check_mtu(in, params, hdr, &r.mtu);
  if (r.status != TunStatus::ok) return r;
  if (out.size() < hdr + in.len) {
    r.status = TunStatus::no_room;
    return r;
  }
  std::uint8_t* dst = out.data() + hdr;
  if (dst != inner.data()) std::memmove(dst, inner.data(), in.len);
  if (params.decrement_inner_ttl) decrement_ttl(dst, in.v6);
  if (outer_v4)
    write_outer_v4(out.data(), in, params, hdr + in.len);
  else
    write_outer_v6(out.data(), in, params);
  r.len = hdr + in.len;
  return r;
}

namespace {

// The outer header: where the tunnel payload starts and ends.
struct Outer {
  std::size_t payload_offset = 0;
  std::size_t end = 0;  // the outer packet's own length
  std::uint8_t proto = 0;
  std::uint8_t ecn = 0;
};

DecapStatus parse_outer_v4(const std::uint8_t* d, std::size_t len, Outer& o, DecapResult& r) {
  if (len < 20) return DecapStatus::truncated;
  const std::size_t ihl = static_cast<std::size_t>(d[0] & 0x0f) * 4;
  if (ihl < 20 || ihl > len) return DecapStatus::bad_ihl;
  const std::size_t total = csum::load16(d + 2);
  if (total < ihl) return DecapStatus::bad_total_length;
  if (total > len) return DecapStatus::truncated;
  r.outer_family = Family::v4;
  r.outer_src = IpAddress::v4(d + 12);
  r.outer_dst = IpAddress::v4(d + 16);
  // A correct header sums to 0xffff including its own checksum field.
  if (csum::fold(csum::add(d, ihl)) != 0xffff) return DecapStatus::bad_checksum;
  if (csum::load16(d + 6) & 0x3fff) return DecapStatus::fragment;  // MF or an offset
  o.payload_offset = ihl;
  o.end = total;
  o.proto = d[9];
  o.ecn = d[1] & kEcnMask;
  return DecapStatus::ok;
}

DecapStatus parse_outer_v6(const std::uint8_t* d, std::size_t len, Outer& o, DecapResult& r) {
  if (len < 40) return DecapStatus::truncated;
  const std::size_t payload = csum::load16(d + 4);
  if (payload == 0) return DecapStatus::bad_total_length;  // jumbograms are not tunnelled here
  if (40 + payload > len) return DecapStatus::truncated;
  r.outer_family = Family::v6;
  r.outer_src = IpAddress::v6(d + 8);
  r.outer_dst = IpAddress::v6(d + 24);
  o.end = 40 + payload;
  o.ecn = (d[1] >> 4) & kEcnMask;
  std::uint8_t next = d[6];
  std::size_t off = 40;
  // Hop-by-hop, routing and destination options (RFC 2473's tunnel
  // encapsulation limit is a destination option) may precede the inner packet.
  for (int hops = 0; hops < 8 && (next == 0 || next == 43 || next == 60); ++hops) {
    if (off + 8 > o.end) return DecapStatus::truncated;
    const std::size_t hlen = (static_cast<std::size_t>(d[off + 1]) + 1) * 8;
    if (off + hlen > o.end) return DecapStatus::truncated;
    next = d[off];
    off += hlen;
  }
  if (next == 44) return DecapStatus::fragment;
  o.payload_offset = off;
  o.proto = next;
  return DecapStatus::ok;
}

// The inner packet's own length, or 0 when its header does not fit in
// [0, avail) or disagrees with the outer protocol.
std::size_t inner_length(const std::uint8_t* d, std::size_t avail, std::uint8_t proto) {
  if (avail == 0) return 0;
  const unsigned version = d[0] >> 4;
  if (proto == kProtoIpip) {
    if (version != 4 || avail < 20) return 0;
    const std::size_t ihl = static_cast<std::size_t>(d[0] & 0x0f) * 4;
    const std::size_t total = csum::load16(d + 2);
    if (ihl < 20 || total < ihl || total > avail) return 0;
    return total;
  }
  if (version != 6 || avail < 40) return 0;
  const std::size_t payload = csum::load16(d + 4);
  if (payload == 0 || 40 + payload > avail) return 0;
  return 40 + payload;
}

// RFC 6040 decapsulation, the kernel's INET_ECN_decapsulate: CE outside
// becomes CE inside; CE over a Not-ECT inner packet cannot be signalled and
// is dropped.
DecapStatus propagate_ce(std::uint8_t* inner, std::uint8_t proto, std::uint8_t outer_ecn) {
  if (outer_ecn != kEcnCe) return DecapStatus::ok;
  if (proto == kProtoIpip) {
    if ((inner[1] & kEcnMask) == 0) return DecapStatus::ecn_drop;
    std::uint8_t old_word[2] = {inner[0], inner[1]};
    inner[1] |= kEcnCe;
    csum::update(inner + 10, old_word, inner, 2);
  } else {
    if (((inner[1] >> 4) & kEcnMask) == 0) return DecapStatus::ecn_drop;
    inner[1] |= kEcnCe << 4;  // no header checksum in IPv6
  }
  return DecapStatus::ok;
}

}  // namespace

DecapResult tun_decapsulate(std::span<std::uint8_t> pkt) {
  DecapResult r;
  Outer o;
  std::uint8_t* d = pkt.data();
  if (pkt.empty()) {
    r.status = DecapStatus::truncated;
    return r;
  }
  switch (d[0] >> 4) {
    case 4: r.status = parse_outer_v4(d, pkt.size(), o, r); break;
    case 6: r.status = parse_outer_v6(d, pkt.size(), o, r); break;
    default: r.status = DecapStatus::bad_version; break;
  }
  if (r.status != DecapStatus::ok) return r;
  if (o.proto != kProtoIpip && o.proto != kProtoIpv6) {
    r.status = DecapStatus::not_tunnel;
    return r;
  }
  std::uint8_t* inner = d + o.payload_offset;
  const std::size_t len = inner_length(inner, o.end - o.payload_offset, o.proto);
  if (len == 0) {
    r.status = DecapStatus::bad_inner;
    return r;
  }
  r.status = propagate_ce(inner, o.proto, o.ecn);
  if (r.status == DecapStatus::ok) r.inner = std::span<std::uint8_t>(inner, len);
  return r;
}

}  // namespace vsd
