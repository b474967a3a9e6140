#pragma once

#include "appliance/core/scheduler_common.hpp"

namespace vsd {

// fo: weighted failover (ip_vs_fo.c). Everything goes to the available
// server with the highest weight (ties: first in the list); the others are
// standbys that take over, in weight order, as it becomes unavailable.
class FailoverScheduler final : public Scheduler {
 public:
  std::string_view name() const override { return "fo"; }
  int schedule(std::span<const DestView> dests, const PacketView& pkt) override;
};

}  // namespace vsd
