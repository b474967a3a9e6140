// forwarders/: the packet view, the NAT rewriter, ICMP error translation,
// IP-in-IP encapsulation and decapsulation, and the ICMP errors vsd
// answers with, over arbitrary bytes. Besides ASan/UBSan, each rewrite is
// checked against what its header promises:
//  - a rewritten packet still parses, with the new address and port;
//  - a checksum that verified before a rewrite verifies after it (RFC 1624),
//    and a rewrite of a CHECKSUM_PARTIAL packet leaves a complete one;
//  - decapsulating what tun_encapsulate wrote gives back the inner packet,
//    and encapsulating in place (overlapping buffers) writes the same bytes;
//  - an ICMP error vsd builds parses, verifies and stays within 576 / 1280
//    bytes, built in place or not.
//
// Input: 16 parameter bytes (fuzz_common.hpp), then the packet.
//   0     flags: 1 CHECKSUM_PARTIAL, 2 pmtu_disc, 4 decrement_inner_ttl,
//         8 IPv6 new/outer addresses, 16 new address of the other family
//   1-2   new port          3-4  MTU (0: unchecked)    5-6  IP id
//   7-10  new address (IPv6: 2001:db8::/96 + these)    11-12 ICMP type, code
//   13-15 ICMP info / MTU for the errors vsd builds
#include <netinet/in.h>

#include <algorithm>
#include <span>

#include "forwarders/icmp_builder.hpp"
#include "forwarders/icmp_nat.hpp"
#include "forwarders/nat_rewriter.hpp"
#include "forwarders/packet_view.hpp"
#include "forwarders/tun_rewriter.hpp"
#include "fuzz_common.hpp"
#include "packet_builder.hpp"

namespace vsd {
namespace {

using Bytes = std::vector<std::uint8_t>;

// The IP packet alone (its own length), for the independent checksums of
// tests/unit/packet_builder.hpp.
Bytes ip_packet(const PacketView& v) { return Bytes(v.data, v.data + v.len); }

bool plain_l4(const PacketView& v) { return !v.v6() || v.l4_offset == 40; }

bool ipv4_header_ok(const PacketView& v) {
  if (v.v6()) return true;
  return test::ipv4_header_checksum_ok(ip_packet(v));
}

// Checksums packet_builder can judge: TCP/UDP and ICMP over a plain header.
bool l4_sum_ok(const PacketView& v) {
  if (!plain_l4(v)) return true;
  Bytes p = ip_packet(v);
  if (v.l4proto == IPPROTO_ICMP || v.l4proto == IPPROTO_ICMPV6) return test::icmp_checksum_ok(p);
  return test::l4_checksum_ok(p);
}

void nat(const Bytes& original, const fuzz::Params<16>& p, bool source) {
  Bytes buf = original;
  PacketView v;
  if (parse_packet(buf.data(), buf.size(), v) != ParseStatus::ok) return;
  if (v.l4proto != IPPROTO_TCP && v.l4proto != IPPROTO_UDP) return;
  const ChecksumState cs = (p.u8(0) & 1) ? ChecksumState::not_ready : ChecksumState::complete;
  const bool other_family = p.u8(0) & 16;
  const IpAddress addr = fuzz::address(p.b + 7, v.v6() != other_family);
  const std::uint16_t port = p.u16(1);
  const bool sum_before = l4_sum_ok(v), header_before = ipv4_header_ok(v);
  const PacketView before = v;
  const bool done = source ? nat_rewrite_source(v, addr, port, cs) : nat_rewrite_destination(v, addr, port, cs);
  if (!done) {
    FUZZ_CHECK(buf == original, "a refused NAT rewrite changed the packet");
    return;
  }
  FUZZ_CHECK(!other_family, "NAT rewrote to an address of the other family");
  PacketView after;
  FUZZ_CHECK(parse_packet(buf.data(), buf.size(), after) == ParseStatus::ok, "NAT output does not parse");
  FUZZ_CHECK(after.l4proto == before.l4proto && after.len == before.len, "NAT changed the protocol or length");
  FUZZ_CHECK((source ? after.src : after.dst) == addr, "NAT address not written");
  FUZZ_CHECK((source ? after.sport : after.dport) == port, "NAT port not written");
  FUZZ_CHECK((source ? after.dst : after.src) == (source ? before.dst : before.src), "NAT changed the other address");
  if (header_before) FUZZ_CHECK(ipv4_header_ok(after), "NAT broke a valid IPv4 header checksum");
  if (cs == ChecksumState::not_ready || sum_before)
    FUZZ_CHECK(l4_sum_ok(after), "NAT left a wrong L4 checksum (%s)",
               cs == ChecksumState::not_ready ? "partial before" : "valid before");
}

void icmp(const Bytes& original, const fuzz::Params<16>& p) {
  Bytes buf = original;
  PacketView v;
  if (parse_packet(buf.data(), buf.size(), v) != ParseStatus::ok) return;
  IcmpErrorView e;
  (void)icmp_error_parse(v, e);
  (void)to_string(IcmpNatStatus::ok);
  const bool other_family = p.u8(0) & 16;
  const IpAddress addr = fuzz::address(p.b + 7, v.v6() != other_family);
  const bool sum_before = l4_sum_ok(v), header_before = ipv4_header_ok(v);
  IcmpNatStatus st;
  switch (p.u8(11) % 3) {
    case 0: st = icmp_nat_from_real_server(v, addr, p.u16(1)); break;
    case 1: st = icmp_nat_to_real_server(v, addr, p.u16(1)); break;
    default: {
      IcmpNatChange c;
      c.outer_source = p.u8(12) & 1;
      c.outer_addr = addr;
      c.embedded_source = p.u8(12) & 2;
      c.embedded_addr = fuzz::address(p.b + 12, v.v6() != other_family);
      c.embedded_port = p.u16(13);
      st = icmp_nat_rewrite(v, c);
    }
  }
  if (st != IcmpNatStatus::ok) {
    FUZZ_CHECK(buf == original, "a refused ICMP translation changed the packet (%s)", to_string(st));
    return;
  }
  PacketView after;
  FUZZ_CHECK(parse_packet(buf.data(), buf.size(), after) == ParseStatus::ok, "translated ICMP does not parse");
  FUZZ_CHECK(after.l4proto == v.l4proto && after.len == v.len, "ICMP translation changed protocol or length");
  if (header_before) FUZZ_CHECK(ipv4_header_ok(after), "ICMP translation broke the IPv4 header checksum");
  if (sum_before) FUZZ_CHECK(l4_sum_ok(after), "ICMP translation broke a valid ICMP checksum");
  IcmpErrorView e2;
  FUZZ_CHECK(icmp_error_parse(after, e2) == IcmpNatStatus::ok, "translated ICMP error no longer parses");
}

void tunnel(const Bytes& original, const fuzz::Params<16>& p) {
  const bool outer_v6 = p.u8(0) & 8;
  TunParams tp;
  tp.outer_dst = fuzz::address(p.b + 7, outer_v6);
  const std::uint8_t src4[4] = {p.u8(10), p.u8(9), p.u8(8), p.u8(7)};
  tp.outer_src = fuzz::address(src4, outer_v6 != bool(p.u8(0) & 16));
  tp.ip_id = p.u16(5);
  tp.mtu = p.u16(3);
  tp.pmtu_disc = p.u8(0) & 2;
  tp.decrement_inner_ttl = p.u8(0) & 4;
  const std::size_t room = original.size() + tun_header_len(outer_v6 ? Family::v6 : Family::v4);
  Bytes out(room);
  TunResult r = tun_encapsulate(original, out, tp);
  (void)to_string(r.status);
  // In place: the inner packet behind the headroom of the same buffer.
  Bytes inplace(room);
  std::copy(original.begin(), original.end(), inplace.end() - static_cast<long>(original.size()));
  TunResult r2 = tun_encapsulate(std::span<const std::uint8_t>(inplace).last(original.size()), inplace, tp);
  FUZZ_CHECK(r2.status == r.status && r2.len == r.len && r2.mtu == r.mtu, "in-place encapsulation differs");
  if (r.status != TunStatus::ok) return;
  FUZZ_CHECK(r.len <= room, "outer packet longer than the buffer");
  FUZZ_CHECK(std::equal(out.begin(), out.begin() + static_cast<long>(r.len), inplace.begin()),
             "in-place encapsulation wrote other bytes");
  // Over the MTU only what may be fragmented on the way: IPv4 without DF
  // (or with pmtu_disc off).
  if (tp.mtu && r.len > tp.mtu)
    FUZZ_CHECK((original[0] >> 4) == 4 && (!tp.pmtu_disc || !(original[6] & 0x40)),
               "outer packet over the MTU and not fragmentable");
  Bytes outer(out.begin(), out.begin() + static_cast<long>(r.len));
  DecapResult d = tun_decapsulate(outer);
  FUZZ_CHECK(d.status == DecapStatus::ok, "decapsulating our own tunnel packet: %s", to_string(d.status));
  FUZZ_CHECK(d.outer_src == tp.outer_src && d.outer_dst == tp.outer_dst, "outer addresses differ");
  const std::size_t inner_len = r.len - tun_header_len(outer_v6 ? Family::v6 : Family::v4);
  FUZZ_CHECK(d.inner.size() == inner_len, "inner length %zu, encapsulated %zu", d.inner.size(), inner_len);
  if (!tp.decrement_inner_ttl)
    FUZZ_CHECK(std::equal(d.inner.begin(), d.inner.end(), original.begin()), "inner packet changed in the tunnel");
}

void decapsulate(const Bytes& original) {
  Bytes buf = original;
  DecapResult d = tun_decapsulate(buf);
  if (d.status != DecapStatus::ok) return;
  FUZZ_CHECK(d.inner.data() >= buf.data() && d.inner.data() + d.inner.size() <= buf.data() + buf.size(),
             "inner packet outside the outer one");
  PacketView v;
  (void)parse_packet(d.inner.data(), d.inner.size(), v);
}

void check_built(const IcmpBuildResult& r, std::span<const std::uint8_t> out) {
  (void)to_string(r.status);
  if (r.status != IcmpBuildStatus::ok) return;
  FUZZ_CHECK(r.len <= out.size(), "ICMP reply longer than its buffer");
  Bytes reply(out.begin(), out.begin() + static_cast<long>(r.len));
  PacketView v;
  FUZZ_CHECK(parse_packet(reply.data(), reply.size(), v) == ParseStatus::ok, "built ICMP error does not parse");
  FUZZ_CHECK(v.l4proto == (v.v6() ? int{IPPROTO_ICMPV6} : int{IPPROTO_ICMP}), "built error is not ICMP");
  FUZZ_CHECK(r.len <= (v.v6() ? kIcmp6ReplyMax : kIcmpReplyMax), "built error too long: %zu", r.len);
  FUZZ_CHECK(ipv4_header_ok(v) && l4_sum_ok(v), "built ICMP error has a wrong checksum");
}

void build(const Bytes& original, const fuzz::Params<16>& p) {
  const std::uint32_t info = p.u32(12) & 0xffffff;
  IcmpReplyParams rp{p.u16(5), p.u8(4)};
  Bytes out(kIcmp6ReplyMax);
  check_built(icmp_build_too_big(original, info, out, rp), out);
  check_built(icmp_build_time_exceeded(original, out, rp), out);
  check_built(icmp_build_frag_needed(original, static_cast<std::uint16_t>(info), out, rp), out);
  check_built(icmp6_build_packet_too_big(original, info, out, rp), out);
  IcmpErrorSpec spec{p.u8(11), p.u8(12), info};
  IcmpBuildResult r = icmp_build_error(original, spec, out, rp);
  check_built(r, out);
  // In place: the reply written over the original in its own buffer.
  Bytes own(std::max(original.size(), kIcmp6ReplyMax));
  std::copy(original.begin(), original.end(), own.begin());
  IcmpBuildResult r2 = icmp_build_error(std::span<const std::uint8_t>(own).first(original.size()), spec, own, rp);
  FUZZ_CHECK(r2.status == r.status && r2.len == r.len, "in-place ICMP error differs");
  if (r.status == IcmpBuildStatus::ok)
    FUZZ_CHECK(std::equal(out.begin(), out.begin() + static_cast<long>(r.len), own.begin()),
               "in-place ICMP error wrote other bytes");
  // A buffer too short is refused, never overrun.
  Bytes tiny(p.u8(15) % 64);
  (void)icmp_build_error(original, spec, tiny, rp);
}

}  // namespace
}  // namespace vsd

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vsd;
  fuzz::Params<16> p(data, size);
  const Bytes original = fuzz::copy(p.rest, p.rest_len);
  {
    Bytes buf = original;
    PacketView v;
    ParseStatus st = parse_packet(buf.data(), buf.size(), v);
    (void)to_string(st);
    if (st == ParseStatus::ok) {
      FUZZ_CHECK(v.len <= buf.size() && v.l4_offset <= v.len, "view outside the packet");
      (void)v.l4_check_offset();
      complete_l4_checksum(v);
      // A real partial sum (the pseudo-header's, as the kernel leaves it)
      // completes to a checksum that verifies.
      if ((v.l4proto == IPPROTO_TCP || v.l4proto == IPPROTO_UDP) && plain_l4(v)) {
        Bytes partial = ip_packet(v);
        test::make_checksum_partial(partial);
        PacketView pv;
        FUZZ_CHECK(parse_packet(partial.data(), partial.size(), pv) == ParseStatus::ok, "reparse");
        complete_l4_checksum(pv);
        FUZZ_CHECK(l4_sum_ok(pv), "complete_l4_checksum of a partial sum gave a wrong one");
      }
    }
  }
  nat(original, p, false);
  nat(original, p, true);
  icmp(original, p);
  tunnel(original, p);
  decapsulate(original);
  build(original, p);
  return 0;
}
