#include "forwarders/packet_view.hpp"

#include <netinet/in.h>

#include "forwarders/checksum.hpp"

namespace vsd {

const char* to_string(ParseStatus s) {
  switch (s) {
    case ParseStatus::ok: return "ok";
    case ParseStatus::truncated_ip: return "truncated_ip";
    case ParseStatus::bad_version: return "bad_version";
    case ParseStatus::bad_ihl: return "bad_ihl";
    case ParseStatus::bad_total_length: return "bad_total_length";
    case ParseStatus::fragment: return "fragment";
    case ParseStatus::truncated_l4: return "truncated_l4";
    case ParseStatus::unsupported_protocol: return "unsupported_protocol";
  }
  return "unknown";
}

std::size_t PacketView::l4_check_offset() const {
  switch (l4proto) {
    case IPPROTO_TCP: return 16;
    case IPPROTO_UDP: return 6;
    default: return 2;  // ICMP, ICMPv6
  }
}

namespace {

ParseStatus parse_l4(PacketView& out) {
  const std::size_t avail = out.len - out.l4_offset;
  const std::uint8_t* l4 = out.data + out.l4_offset;
  switch (out.l4proto) {
    case IPPROTO_TCP: {
      if (avail < 20) return ParseStatus::truncated_l4;
      std::size_t doff = static_cast<std::size_t>(l4[12] >> 4) * 4;
      if (doff < 20 || doff > avail) return ParseStatus::truncated_l4;
      out.sport = csum::load16(l4);
      out.dport = csum::load16(l4 + 2);
      out.tcp_flags = l4[13];
      return ParseStatus::ok;
    }
    case IPPROTO_UDP:
      if (avail < 8) return ParseStatus::truncated_l4;
      out.sport = csum::load16(l4);
      out.dport = csum::load16(l4 + 2);
      return ParseStatus::ok;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
      if (avail < 8) return ParseStatus::truncated_l4;
      out.icmp_type = l4[0];
      out.icmp_code = l4[1];
      return ParseStatus::ok;
    default:
      return ParseStatus::unsupported_protocol;
  }
}

ParseStatus parse_v4(std::uint8_t* data, std::size_t len, PacketView& out) {
  if (len < 20) return ParseStatus::truncated_ip;
  std::size_t ihl = static_cast<std::size_t>(data[0] & 0x0f) * 4;
  if (ihl < 20 || ihl > len) return ParseStatus::bad_ihl;
  std::size_t total = csum::load16(data + 2);
  if (total == 0 || total < ihl) return ParseStatus::bad_total_length;
  if (total > len) return ParseStatus::truncated_ip;
  std::uint16_t frag = csum::load16(data + 6);
  out.family = Family::v4;
  out.len = total;
  out.src = IpAddress::v4(data + 12);
  out.dst = IpAddress::v4(data + 16);
  out.l4proto = data[9];
  out.l4_offset = ihl;
  if ((frag & 0x2000) || (frag & 0x1fff)) return ParseStatus::fragment;
  return parse_l4(out);
}

ParseStatus parse_v6(std::uint8_t* data, std::size_t len, PacketView& out) {
  if (len < 40) return ParseStatus::truncated_ip;
  std::size_t payload = csum::load16(data + 4);
  if (payload == 0) return ParseStatus::bad_total_length;  // no jumbograms
  if (40 + payload > len) return ParseStatus::truncated_ip;
  out.family = Family::v6;
  out.len = 40 + payload;
  out.src = IpAddress::v6(data + 8);
  out.dst = IpAddress::v6(data + 24);
  std::uint8_t next = data[6];
  std::size_t off = 40;
  // Walk the extension headers that may precede the transport header.
  for (int hops = 0; hops < 8; ++hops) {
    if (next == 44) {
      out.l4proto = next;
      out.l4_offset = off;
      return ParseStatus::fragment;
    }
    if (next != 0 && next != 43 && next != 60) break;
    if (off + 8 > out.len) return ParseStatus::truncated_l4;
    std::size_t hlen = (static_cast<std::size_t>(data[off + 1]) + 1) * 8;
    if (off + hlen > out.len) return ParseStatus::truncated_l4;
    next = data[off];
    off += hlen;
  }
  out.l4proto = next;
  out.l4_offset = off;
  return parse_l4(out);
}

}  // namespace

ParseStatus parse_packet(std::uint8_t* data, std::size_t len, PacketView& out) {
  out = PacketView{};
  out.data = data;
  out.len = len;
  if (len < 1) return ParseStatus::truncated_ip;
  switch (data[0] >> 4) {
    case 4: return parse_v4(data, len, out);
    case 6: return parse_v6(data, len, out);
    default: return ParseStatus::bad_version;
  }
}

void complete_l4_checksum(PacketView& pkt) {
  if (pkt.l4proto != IPPROTO_TCP && pkt.l4proto != IPPROTO_UDP) return;
  const std::size_t off = pkt.l4_check_offset();
  const std::uint8_t* src = pkt.v6() ? pkt.data + 8 : pkt.data + 12;
  const std::uint8_t* dst = pkt.v6() ? pkt.data + 24 : pkt.data + 16;
  std::uint16_t sum = csum::l4(pkt.v6(), src, dst, pkt.l4proto, pkt.l4(), pkt.l4_len(), off);
  if (sum == 0 && pkt.l4proto == IPPROTO_UDP) sum = 0xffff;  // 0 means "no checksum" in UDP
  csum::store16(pkt.l4() + off, sum);
}

}  // namespace vsd
