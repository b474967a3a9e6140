#include "appliance/core/siphash.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace vsd {
namespace {

std::uint64_t load_le64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

SipKey SipKey::from_bytes(const std::uint8_t (&bytes)[16]) {
  return {load_le64(bytes), load_le64(bytes + 8)};
}

// The core's one system call, made once per table at start: a key that
// must not be predictable cannot come from the clock or the pid.
SipKey SipKey::random() {
  std::uint8_t bytes[16];
  std::size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("getrandom: cannot key the connection hash: ") +
                               std::strerror(errno));
    }
    got += static_cast<std::size_t>(n);
  }
  return from_bytes(bytes);
}

template <int C, int D>
std::uint64_t siphash(const SipKey& key, const void* data, std::size_t len) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  sip_detail::State s(key);
  std::size_t whole = len & ~std::size_t{7};
  for (std::size_t i = 0; i < whole; i += 8) s.compress<C>(load_le64(p + i));
  std::uint64_t last = static_cast<std::uint64_t>(len & 0xff) << 56;
  for (std::size_t i = whole; i < len; ++i) last |= std::uint64_t{p[i]} << (8 * (i - whole));
  s.compress<C>(last);
  return s.finish<D>();
}

template std::uint64_t siphash<1, 3>(const SipKey&, const void*, std::size_t);
template std::uint64_t siphash<2, 4>(const SipKey&, const void*, std::size_t);

}  // namespace vsd
