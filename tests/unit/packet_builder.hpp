// Test helper: builds IPv4/IPv6 TCP/UDP packets with correct checksums,
// computed by a deliberately naive checksum written independently of
// forwarders/checksum.cpp, so golden comparisons check vsd's arithmetic
// against a second implementation.
#pragma once

#include <netinet/in.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "net/ip_address.hpp"

namespace vsd::test {

// Sums 16-bit big-endian words into 64 bits and folds once at the end.
inline std::uint16_t naive_sum(const std::vector<std::uint8_t>& bytes) {
  std::uint64_t s = 0;
  for (std::size_t i = 0; i < bytes.size(); i += 2) {
    std::uint64_t hi = bytes[i];
    std::uint64_t lo = i + 1 < bytes.size() ? bytes[i + 1] : 0;
    s += (hi << 8) | lo;
  }
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<std::uint16_t>(s);
}

struct PacketSpec {
  std::string src = "198.51.100.2", dst = "192.0.2.10";
  std::uint8_t proto = IPPROTO_TCP;
  std::uint16_t sport = 40000, dport = 80;
  std::uint8_t tcp_flags = 0x02;  // SYN
  std::string payload;
  std::uint8_t ttl = 64;
  bool udp_zero_checksum = false;  // IPv4 UDP without checksum

  PacketSpec& from(std::string a, std::uint16_t p) { src = std::move(a); sport = p; return *this; }
  PacketSpec& to(std::string a, std::uint16_t p) { dst = std::move(a); dport = p; return *this; }
  PacketSpec& udp() { proto = IPPROTO_UDP; return *this; }
  PacketSpec& flags(std::uint8_t f) { tcp_flags = f; return *this; }
  PacketSpec& data(std::string d) { payload = std::move(d); return *this; }

  std::vector<std::uint8_t> build() const;
};

inline void put16(std::vector<std::uint8_t>& b, std::size_t at, std::uint16_t v) {
  b[at] = static_cast<std::uint8_t>(v >> 8);
  b[at + 1] = static_cast<std::uint8_t>(v);
}
inline std::uint16_t get16(const std::vector<std::uint8_t>& b, std::size_t at) {
  return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}

inline bool is_v6_packet(const std::vector<std::uint8_t>& p) { return (p[0] >> 4) == 6; }
inline std::size_t l4_offset_of(const std::vector<std::uint8_t>& p) {
  return is_v6_packet(p) ? 40 : static_cast<std::size_t>(p[0] & 0x0f) * 4;
}

// The pseudo-header plus the L4 bytes, as the checksum covers them.
inline std::vector<std::uint8_t> checksum_cover(const std::vector<std::uint8_t>& p) {
  const bool v6 = is_v6_packet(p);
  const std::size_t off = l4_offset_of(p);
  std::vector<std::uint8_t> cover;
  if (v6) {
    cover.insert(cover.end(), p.begin() + 8, p.begin() + 40);
  } else {
    cover.insert(cover.end(), p.begin() + 12, p.begin() + 20);
  }
  std::size_t l4len = p.size() - off;
  cover.push_back(0);
  cover.push_back(v6 ? 0 : 0);
  cover.push_back(static_cast<std::uint8_t>(l4len >> 8));
  cover.push_back(static_cast<std::uint8_t>(l4len));
  cover.push_back(0);
  cover.push_back(0);
  cover.push_back(0);
  cover.push_back(v6 ? p[6] : p[9]);
  cover.insert(cover.end(), p.begin() + static_cast<long>(off), p.end());
  return cover;
}

inline std::size_t check_offset_of(const std::vector<std::uint8_t>& p) {
  std::uint8_t proto = is_v6_packet(p) ? p[6] : p[9];
  return l4_offset_of(p) + (proto == IPPROTO_TCP ? 16 : 6);
}

// True when the TCP/UDP checksum verifies (an IPv4 UDP 0 means "none").
inline bool l4_checksum_ok(const std::vector<std::uint8_t>& p) {
  if (!is_v6_packet(p) && p[9] == IPPROTO_UDP && get16(p, check_offset_of(p)) == 0) return true;
  return naive_sum(checksum_cover(p)) == 0xffff;
}

inline bool ipv4_header_checksum_ok(const std::vector<std::uint8_t>& p) {
  std::vector<std::uint8_t> h(p.begin(), p.begin() + static_cast<long>(l4_offset_of(p)));
  return naive_sum(h) == 0xffff;
}

// Writes the L4 checksum field from scratch (for building and as a
// reference "rebuild").
inline void fill_l4_checksum(std::vector<std::uint8_t>& p) {
  std::size_t at = check_offset_of(p);
  put16(p, at, 0);
  std::uint16_t c = static_cast<std::uint16_t>(~naive_sum(checksum_cover(p)));
  std::uint8_t proto = is_v6_packet(p) ? p[6] : p[9];
  if (proto == IPPROTO_UDP && c == 0) c = 0xffff;
  put16(p, at, c);
}

// The pseudo-header sum alone (not complemented), as the kernel leaves it in
// a CHECKSUM_PARTIAL packet.
inline void make_checksum_partial(std::vector<std::uint8_t>& p) {
  const bool v6 = is_v6_packet(p);
  std::vector<std::uint8_t> ph = checksum_cover(p);
  ph.resize(v6 ? 40 : 16);  // the pseudo-header part of the cover
  put16(p, check_offset_of(p), naive_sum(ph));
}

inline std::vector<std::uint8_t> PacketSpec::build() const {
  auto s = *IpAddress::parse(src);
  auto d = *IpAddress::parse(dst);
  const bool v6 = !s.is_v4();
  const std::size_t l3 = v6 ? 40 : 20;
  const std::size_t l4h = proto == IPPROTO_TCP ? 20 : 8;
  std::vector<std::uint8_t> p(l3 + l4h + payload.size(), 0);
  if (v6) {
    p[0] = 0x60;
    put16(p, 4, static_cast<std::uint16_t>(l4h + payload.size()));
    p[6] = proto;
    p[7] = ttl;
    std::copy(s.bytes.begin(), s.bytes.end(), p.begin() + 8);
    std::copy(d.bytes.begin(), d.bytes.end(), p.begin() + 24);
  } else {
    p[0] = 0x45;
    put16(p, 2, static_cast<std::uint16_t>(p.size()));
    put16(p, 4, 0x1234);
    put16(p, 6, 0x4000);  // DF
    p[8] = ttl;
    p[9] = proto;
    std::copy(s.v4_bytes(), s.v4_bytes() + 4, p.begin() + 12);
    std::copy(d.v4_bytes(), d.v4_bytes() + 4, p.begin() + 16);
    std::vector<std::uint8_t> h(p.begin(), p.begin() + 20);
    put16(p, 10, static_cast<std::uint16_t>(~naive_sum(h)));
  }
  put16(p, l3, sport);
  put16(p, l3 + 2, dport);
  if (proto == IPPROTO_TCP) {
    put16(p, l3 + 4, 0x0102);  // sequence number bytes, anything fixed
    p[l3 + 12] = 0x50;          // data offset 5
    p[l3 + 13] = tcp_flags;
    put16(p, l3 + 14, 64240);   // window
  } else {
    put16(p, l3 + 4, static_cast<std::uint16_t>(8 + payload.size()));
  }
  std::copy(payload.begin(), payload.end(), p.begin() + static_cast<long>(l3 + l4h));
  if (!(proto == IPPROTO_UDP && !v6 && udp_zero_checksum)) fill_l4_checksum(p);
  return p;
}

// ---- IP headers, ICMP errors and tunnels (TUN / ICMP tests) ----
// Written field by field from the RFCs, checksums by naive_sum.

inline std::vector<std::uint8_t> addr_bytes(const std::string& text) {
  auto a = *IpAddress::parse(text);
  return std::vector<std::uint8_t>(a.data(), a.data() + a.size());
}

// Recomputes the IPv4 header checksum of the header at `at`.
inline void fill_ipv4_header_checksum(std::vector<std::uint8_t>& p, std::size_t at = 0) {
  const std::size_t ihl = static_cast<std::size_t>(p[at] & 0x0f) * 4;
  put16(p, at + 10, 0);
  std::vector<std::uint8_t> h(p.begin() + static_cast<long>(at),
                              p.begin() + static_cast<long>(at + ihl));
  put16(p, at + 10, static_cast<std::uint16_t>(~naive_sum(h)));
}

struct IpHeaderSpec {
  std::string src, dst;  // the family follows src
  std::uint8_t proto = 0;
  std::size_t payload_len = 0;
  std::uint8_t tos = 0;  // IPv4 TOS / IPv6 traffic class
  std::uint8_t ttl = 64;
  std::uint16_t id = 0;
  std::uint16_t frag = 0;  // IPv4 flags + fragment offset word
};

// A bare IPv4 (20 bytes, checksum filled) or IPv6 (40 bytes) header.
inline std::vector<std::uint8_t> ip_header(const IpHeaderSpec& s) {
  auto src = addr_bytes(s.src), dst = addr_bytes(s.dst);
  if (src.size() == 16) {
    std::vector<std::uint8_t> h(40, 0);
    h[0] = static_cast<std::uint8_t>(0x60 | (s.tos >> 4));
    h[1] = static_cast<std::uint8_t>(s.tos << 4);
    put16(h, 4, static_cast<std::uint16_t>(s.payload_len));
    h[6] = s.proto;
    h[7] = s.ttl;
    std::copy(src.begin(), src.end(), h.begin() + 8);
    std::copy(dst.begin(), dst.end(), h.begin() + 24);
    return h;
  }
  std::vector<std::uint8_t> h(20, 0);
  h[0] = 0x45;
  h[1] = s.tos;
  put16(h, 2, static_cast<std::uint16_t>(20 + s.payload_len));
  put16(h, 4, s.id);
  put16(h, 6, s.frag);
  h[8] = s.ttl;
  h[9] = s.proto;
  std::copy(src.begin(), src.end(), h.begin() + 12);
  std::copy(dst.begin(), dst.end(), h.begin() + 16);
  fill_ipv4_header_checksum(h);
  return h;
}

// True when the ICMP (IPv4: over the message) or ICMPv6 (with the
// pseudo-header) checksum of packet p verifies.
inline bool icmp_checksum_ok(const std::vector<std::uint8_t>& p) {
  if (is_v6_packet(p)) return naive_sum(checksum_cover(p)) == 0xffff;
  std::vector<std::uint8_t> m(p.begin() + static_cast<long>(l4_offset_of(p)), p.end());
  return naive_sum(m) == 0xffff;
}

// outer_src -> outer_dst ICMP (IPv4) / ICMPv6 error of type/code with the
// 32-bit `info` word, quoting `quote` as is.
inline std::vector<std::uint8_t> icmp_error_packet(const std::string& outer_src,
                                                   const std::string& outer_dst, std::uint8_t type,
                                                   std::uint8_t code, std::uint32_t info,
                                                   const std::vector<std::uint8_t>& quote) {
  const bool v6 = addr_bytes(outer_src).size() == 16;
  IpHeaderSpec h{outer_src, outer_dst, static_cast<std::uint8_t>(v6 ? 58 : 1),  // ICMPv6 / ICMP
                 8 + quote.size()};
  auto p = ip_header(h);
  const std::size_t at = p.size();
  p.resize(at + 8, 0);
  p[at] = type;
  p[at + 1] = code;
  put16(p, at + 4, static_cast<std::uint16_t>(info >> 16));
  put16(p, at + 6, static_cast<std::uint16_t>(info));
  p.insert(p.end(), quote.begin(), quote.end());
  std::vector<std::uint8_t> cover = v6 ? checksum_cover(p) : std::vector<std::uint8_t>(p.begin() + static_cast<long>(at), p.end());
  put16(p, at + 2, static_cast<std::uint16_t>(~naive_sum(cover)));
  return p;
}

// The first n bytes of a packet (an ICMP quote).
inline std::vector<std::uint8_t> head(const std::vector<std::uint8_t>& p, std::size_t n) {
  return std::vector<std::uint8_t>(p.begin(), p.begin() + static_cast<long>(std::min(n, p.size())));
}

}  // namespace vsd::test
