#include "appliance/core/scheduler_fo.hpp"

namespace vsd {

int FailoverScheduler::schedule(std::span<const DestView> dests, const PacketView&) {
  int best = -1;
  for (int i = 0; i < static_cast<int>(dests.size()); ++i)
    if (dest_available(dests[i]) && (best < 0 || dests[i].weight > dests[best].weight)) best = i;
  return best;
}

}  // namespace vsd
