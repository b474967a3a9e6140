#pragma once

#include "appliance/core/scheduler_common.hpp"

namespace vsd {

// The available server with the smallest overhead/weight, ties to the first
// in the list; -1 if none. Also the fallback pick of lblc and lblcr.
int weighted_least_connection(std::span<const DestView> dests);

// wlc: weighted least connections (ip_vs_wlc.c).
class WeightedLeastConnectionScheduler final : public Scheduler {
 public:
  std::string_view name() const override { return "wlc"; }
  int schedule(std::span<const DestView> dests, const PacketView&) override {
    return weighted_least_connection(dests);
  }
};

}  // namespace vsd
