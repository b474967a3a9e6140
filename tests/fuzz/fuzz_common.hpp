// Shared by the harnesses: a failed property aborts with a message (the
// fuzzer saves the input), and the fixed parameter block most harnesses
// read before their payload.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <linux/netlink.h>

#include "net/ip_address.hpp"

#define FUZZ_CHECK(cond, ...)                                                       \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s: ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                                            \
      std::fputc('\n', stderr);                                                     \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

namespace vsd::fuzz {

// The first N bytes of the input are parameters (zero-padded when the input
// is shorter); the rest is the payload.
template <std::size_t N>
struct Params {
  std::uint8_t b[N]{};
  const std::uint8_t* rest = nullptr;
  std::size_t rest_len = 0;

  Params(const std::uint8_t* data, std::size_t size) {
    const std::size_t n = size < N ? size : N;
    if (n) std::memcpy(b, data, n);
    rest = data + n;
    rest_len = size - n;
  }
  std::uint8_t u8(std::size_t i) const { return b[i]; }
  std::uint16_t u16(std::size_t i) const { return static_cast<std::uint16_t>(b[i] << 8 | b[i + 1]); }
  std::uint32_t u32(std::size_t i) const {
    return static_cast<std::uint32_t>(u16(i)) << 16 | u16(i + 2);
  }
};

// An address from 4 parameter bytes: IPv4 as is, IPv6 as 2001:db8::/96 + them.
inline IpAddress address(const std::uint8_t* four, bool v6) {
  if (!v6) return IpAddress::v4(four);
  std::uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8};
  std::memcpy(a + 12, four, 4);
  return IpAddress::v6(a);
}

// A heap copy of exactly the bytes given, so ASan sees any read past them.
inline std::vector<std::uint8_t> copy(const std::uint8_t* data, std::size_t size) {
  return std::vector<std::uint8_t>(data, data + size);
}

// Each netlink message of a recv() buffer, by libmnl's rules
// (mnl_nlmsg_ok / mnl_nlmsg_next): a message whose length runs past the
// buffer ends the walk, as the socket halves do before any parser sees it.
// libmnl's parsers read a message up to its 4-byte-aligned end (the kernel
// pads every message), so that end must be in the buffer too.
template <class F>
void for_each_message(std::vector<std::uint8_t>& buf, F&& f) {
  std::size_t off = 0;
  while (buf.size() - off >= sizeof(nlmsghdr)) {
    nlmsghdr h;
    std::memcpy(&h, buf.data() + off, sizeof h);
    // Aligned in 64 bits: NLMSG_ALIGN masks to 32 and takes 0xfffffffd to 0.
    const std::size_t aligned = (std::size_t{h.nlmsg_len} + 3) & ~std::size_t{3};
    if (h.nlmsg_len < sizeof(nlmsghdr) || aligned > buf.size() - off) break;
    f(reinterpret_cast<nlmsghdr*>(buf.data() + off));
    off += aligned;
    if (off > buf.size()) break;
  }
}

}  // namespace vsd::fuzz
