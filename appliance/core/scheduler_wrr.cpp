#include "appliance/core/scheduler_wrr.hpp"

#include <numeric>

namespace vsd {

WeightedRoundRobinScheduler::WeightedRoundRobinScheduler(std::span<const DestView> dests) {
  std::int64_t g = 0, max = 0;
  for (const auto& d : dests) {
    std::int64_t w = d.weight;
    if (w > 0) g = g > 0 ? std::gcd(g, w) : w;
    if (w > max) max = w;
  }
  di_ = g > 0 ? g : 1;
  mw_ = max - (di_ - 1);
  cw_ = mw_;
}

int WeightedRoundRobinScheduler::schedule(std::span<const DestView> dests, const PacketView&) {
  const int n = static_cast<int>(dests.size());
  bool any = false;
  for (const auto& d : dests) any = any || dest_available(d);
  if (!any || mw_ <= 0) return -1;
  // Terminates within one cycle: cw ends at 1 on the last pass, and every
  // available server has a positive weight.
  int idx = cl_;
  for (;;) {
    for (++idx; idx < n; ++idx) {
      const auto& d = dests[idx];
      if (dest_available(d) && static_cast<std::int64_t>(d.weight) >= cw_) {
        cl_ = idx;
        return idx;
      }
    }
    idx = -1;  // back at the list head
    cw_ -= di_;
    if (cw_ <= 0) cw_ = mw_;
  }
}

}  // namespace vsd
