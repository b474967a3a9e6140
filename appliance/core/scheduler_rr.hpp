#pragma once

#include "appliance/core/scheduler.hpp"

namespace vsd {

class RoundRobinScheduler final : public Scheduler {
 public:
  std::string_view name() const override { return "rr"; }
  int schedule(std::span<const DestView> dests, const PacketView& pkt) override;

 private:
  int last_ = -1;  // IPVS starts from the list head, so the first pick is dests[0]
};

}  // namespace vsd
