// Small pieces several schedulers share: IPVS's load measure, its
// division-free comparison, and the hashes of the hashing schedulers.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "appliance/core/scheduler.hpp"

namespace vsd {

// IPVS's overhead of a real server: active connections weigh 256 times an
// inactive one (ip_vs_dest_conn_overhead).
inline std::uint64_t dest_overhead(const DestView& d) {
  return (d.state->active_conns.get() << 8) + d.state->inactive_conns.get();
}

inline std::uint64_t active_conns(const DestView& d) { return d.state->active_conns.get(); }

// a_load/a_weight > b_load/b_weight without dividing, as IPVS compares. The
// products are 128-bit because a uint32 weight times a 64-bit load overflows.
inline bool more_loaded(std::uint64_t a_load, std::uint32_t a_weight, std::uint64_t b_load,
                        std::uint32_t b_weight) {
  return static_cast<unsigned __int128>(a_load) * b_weight >
         static_cast<unsigned __int128>(b_load) * a_weight;
}

// splitmix64's finaliser: every input bit reaches every output bit, so the
// low bits are as good as the high ones for table indices.
inline std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// Hashes all 16 bytes (IPv4 is v4-mapped), so IPv6 clients that differ only
// in one half of the address still spread.
inline std::uint64_t hash_address(const IpAddress& a, std::uint64_t seed) {
  std::uint64_t hi, lo;
  std::memcpy(&hi, a.bytes.data(), 8);
  std::memcpy(&lo, a.bytes.data() + 8, 8);
  return mix64(mix64(hi ^ seed) ^ lo);
}

inline bool has_flag(std::span<const std::string> flags, std::string_view name,
                     std::string_view alias) {
  for (const auto& f : flags)
    if (f == name || f == alias) return true;
  return false;
}

}  // namespace vsd
