#include "forwarders/checksum.hpp"

namespace vsd::csum {

std::uint32_t add(const std::uint8_t* data, std::size_t len, std::uint32_t sum) {
  std::uint64_t acc = 0;  // little-endian-loaded words; `sum` is added after the swap
  std::size_t i = 0;
  // Eight bytes at a time into a 64-bit accumulator: the sum of 16-bit
  // words is the same whatever the grouping (RFC 1071 "deferred carries").
  for (; i + 8 <= len; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, data + i, 8);
    // Bytes are big-endian words; on a little-endian host summing the
    // swapped words and swapping the folded result gives the same sum.
    acc += (w & 0xffffffffu) + (w >> 32);
  }
  // Fold the 64-bit accumulator of little-endian-loaded words into a
  // big-endian 16-bit sum.
  acc = (acc & 0xffffffffu) + (acc >> 32);
  acc = (acc & 0xffffffffu) + (acc >> 32);
  std::uint32_t le = static_cast<std::uint32_t>(acc);
  std::uint16_t folded_le = static_cast<std::uint16_t>(((le & 0xffff) + (le >> 16)) +
                                                       (((le & 0xffff) + (le >> 16)) >> 16));
  std::uint32_t be = sum + static_cast<std::uint16_t>((folded_le >> 8) | (folded_le << 8));
  for (; i + 1 < len; i += 2) be += load16(data + i);
  if (i < len) be += static_cast<std::uint32_t>(data[i]) << 8;
  return be;
}

void update(std::uint8_t* check, const std::uint8_t* old_bytes, const std::uint8_t* new_bytes,
            std::size_t len) {
  std::uint32_t sum = static_cast<std::uint16_t>(~load16(check));
  for (std::size_t i = 0; i + 1 < len; i += 2) {
    sum += static_cast<std::uint16_t>(~load16(old_bytes + i));
    sum += load16(new_bytes + i);
  }
  store16(check, static_cast<std::uint16_t>(~fold(sum)));
}

void update_partial(std::uint8_t* field, const std::uint8_t* old_bytes,
                    const std::uint8_t* new_bytes, std::size_t len) {
  std::uint32_t sum = load16(field);
  for (std::size_t i = 0; i + 1 < len; i += 2) {
    sum += static_cast<std::uint16_t>(~load16(old_bytes + i));
    sum += load16(new_bytes + i);
  }
  store16(field, fold(sum));
}

std::uint16_t ipv4_header(const std::uint8_t* hdr, std::size_t ihl_bytes) {
  std::uint32_t sum = add(hdr, 10);
  sum = add(hdr + 12, ihl_bytes - 12, sum);
  return static_cast<std::uint16_t>(~fold(sum));
}

std::uint16_t l4(bool v6, const std::uint8_t* src, const std::uint8_t* dst, std::uint8_t proto,
                 const std::uint8_t* l4, std::size_t l4_len, std::size_t check_offset) {
  const std::size_t alen = v6 ? 16 : 4;
  std::uint32_t sum = add(src, alen);
  sum = add(dst, alen, sum);
  sum += proto;
  sum += static_cast<std::uint32_t>(l4_len >> 16) + static_cast<std::uint32_t>(l4_len & 0xffff);
  sum = add(l4, check_offset, sum);
  sum = add(l4 + check_offset + 2, l4_len - check_offset - 2, sum);
  return static_cast<std::uint16_t>(~fold(sum));
}

}  // namespace vsd::csum
