#pragma once

#include "appliance/core/scheduler_common.hpp"

namespace vsd {

// lc: least connections (ip_vs_lc.c): the available server with the
// smallest overhead; ties go to the first in the list.
class LeastConnectionScheduler final : public Scheduler {
 public:
  std::string_view name() const override { return "lc"; }
  int schedule(std::span<const DestView> dests, const PacketView& pkt) override;
};

}  // namespace vsd
