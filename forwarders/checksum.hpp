// Internet checksums (RFC 1071) and their incremental update (RFC 1624).
// Checksum fields are read and written as bytes in the packet, in network
// order, so nothing here depends on alignment.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace vsd::csum {

// Adds the bytes as big-endian 16-bit words to a 32-bit accumulator (an odd
// trailing byte is padded with zero). Not folded, not complemented.
std::uint32_t add(const std::uint8_t* data, std::size_t len, std::uint32_t sum = 0);

// Folds carries into 16 bits (not complemented).
inline std::uint16_t fold(std::uint32_t sum) {
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

inline std::uint16_t load16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline void store16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for `len` (even) bytes changing
// from old_bytes to new_bytes, applied to the checksum field at `check`.
void update(std::uint8_t* check, const std::uint8_t* old_bytes, const std::uint8_t* new_bytes,
            std::size_t len);
inline void update16(std::uint8_t* check, std::uint16_t old_word, std::uint16_t new_word) {
  std::uint8_t o[2], n[2];
  store16(o, old_word);
  store16(n, new_word);
  update(check, o, n, 2);
}

// The same update for a field that holds a not-yet-complemented partial sum
// (the kernel's CHECKSUM_PARTIAL pseudo-header sum): HC' = HC - m + m'.
void update_partial(std::uint8_t* field, const std::uint8_t* old_bytes,
                    const std::uint8_t* new_bytes, std::size_t len);

// IPv4 header checksum of `ihl_bytes` header bytes (the field itself must be
// zero or is skipped: the function skips bytes 10-11).
std::uint16_t ipv4_header(const std::uint8_t* hdr, std::size_t ihl_bytes);

// Full TCP/UDP checksum over the pseudo-header and `l4_len` bytes at l4,
// skipping the checksum field at l4 + check_offset. Returns the value to
// store (complemented; a UDP result of 0 is returned as 0 too — the caller
// maps it to 0xffff).
std::uint16_t l4(bool v6, const std::uint8_t* src, const std::uint8_t* dst, std::uint8_t proto,
                 const std::uint8_t* l4, std::size_t l4_len, std::size_t check_offset);

}  // namespace vsd::csum
