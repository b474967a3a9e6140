#include "appliance/core/scheduler_twos.hpp"

#include <random>

namespace vsd {

TwoChoicesScheduler::TwoChoicesScheduler(std::uint64_t seed) : state_(seed) {
  if (state_ == 0) {
    std::random_device rd;
    state_ = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  }
}

std::uint64_t TwoChoicesScheduler::next() {
  state_ += 0x9e3779b97f4a7c15ULL;
  return mix64(state_);
}

int TwoChoicesScheduler::schedule(std::span<const DestView> dests, const PacketView&) {
  const int n = static_cast<int>(dests.size());
  std::uint64_t total = 0;
  for (const auto& d : dests)
    if (dest_available(d)) total += d.weight;
  if (total == 0) return -1;

  // The modulo bias is below total/2^64: nothing against weights of 32 bits.
  const std::uint64_t r1 = next() % total, r2 = next() % total;
  int c1 = -1, c2 = -1;
  std::uint64_t cum = 0;
  for (int i = 0; i < n && (c1 < 0 || c2 < 0); ++i) {
    if (!dest_available(dests[i])) continue;
    cum += dests[i].weight;
    if (c1 < 0 && r1 < cum) c1 = i;
    if (c2 < 0 && r2 < cum) c2 = i;
  }
  // Availability is re-read in the second pass; should another thread flip
  // an overload flag in between, a draw can come up empty.
  if (c1 < 0 || c2 < 0) return c1 < 0 ? c2 : c1;
  const auto& a = dests[c1];
  const auto& b = dests[c2];
  return more_loaded(dest_overhead(a), a.weight, dest_overhead(b), b.weight) ? c2 : c1;
}

}  // namespace vsd
