#include "appliance/core/scheduler_sed.hpp"

namespace vsd {

int shortest_expected_delay(std::span<const DestView> dests) {
  int least = -1;
  std::uint64_t loh = 0;
  for (int i = 0; i < static_cast<int>(dests.size()); ++i) {
    if (!dest_available(dests[i])) continue;
    std::uint64_t doh = active_conns(dests[i]) + 1;
    if (least < 0 || more_loaded(loh, dests[least].weight, doh, dests[i].weight)) {
      least = i;
      loh = doh;
    }
  }
  return least;
}

}  // namespace vsd
