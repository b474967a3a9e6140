#include "appliance/core/scheduler_lc.hpp"

namespace vsd {

int LeastConnectionScheduler::schedule(std::span<const DestView> dests, const PacketView&) {
  int least = -1;
  std::uint64_t loh = 0;
  for (int i = 0; i < static_cast<int>(dests.size()); ++i) {
    if (!dest_available(dests[i])) continue;
    std::uint64_t doh = dest_overhead(dests[i]);
    if (least < 0 || doh < loh) {
      least = i;
      loh = doh;
    }
  }
  return least;
}

}  // namespace vsd
