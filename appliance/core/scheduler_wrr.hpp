#pragma once

#include "appliance/core/scheduler.hpp"

namespace vsd {

// wrr: IPVS's weighted round robin (ip_vs_wrr.c). A current weight cw steps
// down from the maximum by the gcd of the weights; each pass over the list
// picks the servers whose weight is >= cw. Weights 4,3,2 give
// A A B A B C A B C.
class WeightedRoundRobinScheduler final : public Scheduler {
 public:
  explicit WeightedRoundRobinScheduler(std::span<const DestView> dests);
  std::string_view name() const override { return "wrr"; }
  int schedule(std::span<const DestView> dests, const PacketView& pkt) override;

 private:
  int cl_ = -1;            // last picked index; -1 = list head
  std::int64_t cw_ = 0;    // current weight
  std::int64_t mw_ = 0;    // max weight - (gcd - 1)
  std::int64_t di_ = 1;    // gcd of the positive weights
};

}  // namespace vsd
