#include "appliance/core/scheduler_nq.hpp"

#include "appliance/core/scheduler_sed.hpp"

namespace vsd {

int NeverQueueScheduler::schedule(std::span<const DestView> dests, const PacketView&) {
  for (int i = 0; i < static_cast<int>(dests.size()); ++i)
    if (dest_available(dests[i]) && active_conns(dests[i]) == 0) return i;
  return shortest_expected_delay(dests);
}

}  // namespace vsd
