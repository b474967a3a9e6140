// SipHash (Aumasson and Bernstein, 2012): a keyed pseudorandom function for
// short inputs, made for hash tables that must hold under hash flooding.
// Without the 128-bit key nobody can compute where a tuple lands, so chosen
// inputs cannot be made to collide. SipHash-c-d does c rounds per 8-byte
// word and d rounds at the end: 2-4 is the paper's default, 1-3 is what
// Rust's HashMap, CPython (3.11+) and the kernel's hsiphash on 64-bit use
// where speed matters and the output stays inside the process.
//
// siphash13/siphash24 hash bytes (unit-tested against the reference
// vectors); siphash_words() hashes whole 64-bit words in registers — the
// same value as the bytes of those words in little-endian order — which is
// what the connection table calls once per packet.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

namespace vsd {

struct SipKey {
  std::uint64_t k0 = 0, k1 = 0;  // the key's bytes 0-7 and 8-15, little-endian

  // 128 random bits from the kernel (getrandom(2): waits only until the
  // kernel's generator is seeded, early in boot; never fails afterwards).
  static SipKey random();
  // The key as the reference implementation reads 16 bytes.
  static SipKey from_bytes(const std::uint8_t (&bytes)[16]);

  friend bool operator==(const SipKey&, const SipKey&) = default;
};

namespace sip_detail {

struct State {
  std::uint64_t v0, v1, v2, v3;

  explicit State(const SipKey& k)
      : v0(k.k0 ^ 0x736f6d6570736575ULL),
        v1(k.k1 ^ 0x646f72616e646f6dULL),
        v2(k.k0 ^ 0x6c7967656e657261ULL),
        v3(k.k1 ^ 0x7465646279746573ULL) {}

  void round() {
    v0 += v1;
    v1 = std::rotl(v1, 13);
    v1 ^= v0;
    v0 = std::rotl(v0, 32);
    v2 += v3;
    v3 = std::rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = std::rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = std::rotl(v1, 17);
    v1 ^= v2;
    v2 = std::rotl(v2, 32);
  }

  template <int C>
  void compress(std::uint64_t m) {
    v3 ^= m;
    for (int i = 0; i < C; ++i) round();
    v0 ^= m;
  }

  template <int D>
  std::uint64_t finish() {
    v2 ^= 0xff;
    for (int i = 0; i < D; ++i) round();
    return v0 ^ v1 ^ v2 ^ v3;
  }
};

}  // namespace sip_detail

// SipHash-c-d of `len` bytes.
template <int C, int D>
std::uint64_t siphash(const SipKey& key, const void* data, std::size_t len);
inline std::uint64_t siphash13(const SipKey& key, const void* data, std::size_t len) {
  return siphash<1, 3>(key, data, len);
}
inline std::uint64_t siphash24(const SipKey& key, const void* data, std::size_t len) {
  return siphash<2, 4>(key, data, len);
}

// SipHash-c-d of N 64-bit words: equal to siphash<C, D> of their 8*N bytes in
// little-endian order, computed without touching memory.
template <int C, int D, std::size_t N>
inline std::uint64_t siphash_words(const SipKey& key, const std::uint64_t (&w)[N]) {
  static_assert(N < 32, "the length byte holds 8 * N");
  sip_detail::State s(key);
  for (std::size_t i = 0; i < N; ++i) s.compress<C>(w[i]);
  s.compress<C>(std::uint64_t{8 * N} << 56);  // the last block: length, no tail bytes
  return s.finish<D>();
}

}  // namespace vsd
