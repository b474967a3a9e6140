// rr: round robin over the available real servers (ip_vs_rr.c): the next
// server after the last one picked, skipping quiesced ones.
#include "appliance/core/scheduler_rr.hpp"

namespace vsd {

int RoundRobinScheduler::schedule(std::span<const DestView> dests, const PacketView&) {
  const int n = static_cast<int>(dests.size());
  for (int step = 1; step <= n; ++step) {
    int idx = (last_ + step) % n;
    if (idx < 0) idx += n;
    if (dest_available(dests[idx])) {
      last_ = idx;
      return idx;
    }
  }
  return -1;
}

}  // namespace vsd
