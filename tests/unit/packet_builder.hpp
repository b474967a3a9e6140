// Test helper: builds IPv4/IPv6 TCP/UDP packets with correct checksums,
// computed by a deliberately naive checksum written independently of
// forwarders/checksum.cpp, so golden comparisons check vsd's arithmetic
// against a second implementation.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <string>
#include <vector>

#include "forwarders/ip_address.hpp"

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

}  // namespace vsd::test
