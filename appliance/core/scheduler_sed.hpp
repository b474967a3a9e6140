#pragma once

#include "appliance/core/scheduler_common.hpp"

namespace vsd {

// The available server with the smallest (active+1)/weight, ties to the
// first in the list; -1 if none. Inactive connections do not count: the
// "+1" is the connection being placed, so the expected delay is what's
// compared (ip_vs_sed_dest_overhead). nq shares it.
int shortest_expected_delay(std::span<const DestView> dests);

// sed: shortest expected delay (ip_vs_sed.c).
class ShortestExpectedDelayScheduler final : public Scheduler {
 public:
  std::string_view name() const override { return "sed"; }
  int schedule(std::span<const DestView> dests, const PacketView&) override {
    return shortest_expected_delay(dests);
  }
};

}  // namespace vsd
