#pragma once

#include "appliance/core/scheduler_common.hpp"

namespace vsd {

// twos: power of two choices (ip_vs_twos.c). Two servers are drawn at
// random, each with probability proportional to its weight (both draws may
// land on the same one), and the less loaded by overhead/weight wins (a tie
// keeps the first draw). IPVS draws from [0, total] inclusive, which hands
// the first server one extra share; here the draw is [0, total) so the
// shares are exactly the weights.
class TwoChoicesScheduler final : public Scheduler {
 public:
  // seed 0 draws a seed from std::random_device; any other seed makes the
  // sequence of choices reproducible.
  explicit TwoChoicesScheduler(std::uint64_t seed);
  std::string_view name() const override { return "twos"; }
  int schedule(std::span<const DestView> dests, const PacketView& pkt) override;

 private:
  std::uint64_t next();  // splitmix64: tiny state, no allocation, good enough for picking
  std::uint64_t state_;
};

}  // namespace vsd
