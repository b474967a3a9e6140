#include "appliance/core/scheduler_mh.hpp"

#include <algorithm>

namespace vsd {

namespace {

// Distinct seeds so offset, skip and the client hash are independent.
constexpr std::uint64_t kOffsetSeed = 0x6d68'6f66'6673'6574ULL;
constexpr std::uint64_t kSkipSeed = 0x6d68'736b'6970'0000ULL;
constexpr std::uint64_t kClientSeed = 0x6d68'636c'6965'6e74ULL;

bool is_prime(std::uint32_t n) {
  if (n < 2) return false;
  for (std::uint32_t f = 2; static_cast<std::uint64_t>(f) * f <= n; ++f)
    if (n % f == 0) return false;
  return true;
}

std::uint32_t prime_at_least(std::uint32_t n) {
  while (!is_prime(n)) ++n;
  return n;
}

struct Walker {
  std::size_t index;      // into dests
  std::uint64_t weight;
  std::uint32_t pos, skip;
};

}  // namespace

MaglevHashScheduler::MaglevHashScheduler(std::span<const DestView> dests, bool fallback,
                                         bool use_port, std::uint32_t table_size)
    : table_(prime_at_least(std::max<std::uint32_t>(table_size, 3)), kEmpty),
      fallback_(fallback),
      use_port_(use_port) {
  const auto m = static_cast<std::uint32_t>(table_.size());
  std::vector<Walker> walkers;
  std::uint64_t wmax = 0;
  const std::size_t n = std::min<std::size_t>(dests.size(), kEmpty);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& d = dests[i];
    if (d.weight == 0) continue;
    const std::uint64_t h1 = hash_address(d.addr.addr, kOffsetSeed ^ d.addr.port);
    const std::uint64_t h2 = hash_address(d.addr.addr, kSkipSeed ^ d.addr.port);
    walkers.push_back({i, d.weight, static_cast<std::uint32_t>(h1 % m),
                       static_cast<std::uint32_t>(h2 % (m - 1) + 1)});
    wmax = std::max<std::uint64_t>(wmax, d.weight);
  }
  if (walkers.empty()) return;

  std::uint32_t filled = 0;
  for (std::uint64_t k = 1; filled < m; ++k) {
    for (auto& w : walkers) {
      if (k * w.weight / wmax == (k - 1) * w.weight / wmax) continue;  // not its turn
      while (table_[w.pos] != kEmpty) {
        w.pos += w.skip;
        if (w.pos >= m) w.pos -= m;
      }
      table_[w.pos] = static_cast<std::uint16_t>(w.index);
      if (++filled == m) break;
    }
  }
  std::vector<bool> owns(n);
  for (auto i : table_) owns[i] = true;
  for (std::size_t i = 0; i < n; ++i)
    if (owns[i]) owners_.push_back(static_cast<std::uint16_t>(i));
}

std::size_t MaglevHashScheduler::slot_of(const IpAddress& addr, std::uint16_t port,
                                         std::uint32_t salt) const {
  const std::uint64_t key = kClientSeed ^ port ^ (static_cast<std::uint64_t>(salt) << 16);
  return hash_address(addr, key) % table_.size();
}

bool MaglevHashScheduler::any_owner_available(std::span<const DestView> dests) const {
  for (auto i : owners_)
    if (i < dests.size() && dest_available(dests[i])) return true;
  return false;
}

int MaglevHashScheduler::schedule(std::span<const DestView> dests, const PacketView& pkt) {
  const std::uint16_t port = use_port_ ? pkt.sport : 0;
  auto pick = [&](std::uint32_t salt) {
    const std::uint16_t d = table_[slot_of(pkt.src, port, salt)];
    return d < dests.size() && dest_available(dests[d]) ? static_cast<int>(d) : -1;
  };
  int d = pick(0);
  if (d >= 0 || !fallback_ || !any_owner_available(dests)) return d;
  // Bounded by the table size: reached only if the available servers hold
  // very few slots.
  for (std::uint32_t salt = 1; salt < table_.size(); ++salt)
    if ((d = pick(salt)) >= 0) return d;
  return -1;
}

}  // namespace vsd
