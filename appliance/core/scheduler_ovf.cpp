#include "appliance/core/scheduler_ovf.hpp"

namespace vsd {

int OverflowScheduler::schedule(std::span<const DestView> dests, const PacketView&) {
  int best = -1;
  for (int i = 0; i < static_cast<int>(dests.size()); ++i) {
    const auto& d = dests[i];
    if (!dest_available(d) || active_conns(d) > d.weight) continue;
    if (best < 0 || d.weight > dests[best].weight) best = i;
  }
  return best;
}

}  // namespace vsd
