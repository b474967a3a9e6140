#pragma once

#include "appliance/core/scheduler_common.hpp"

namespace vsd {

// nq: never queue (ip_vs_nq.c). The first available server with no active
// connection takes it at once, whatever its weight — a request never waits
// behind another while a server idles; otherwise the sed rule.
class NeverQueueScheduler final : public Scheduler {
 public:
  std::string_view name() const override { return "nq"; }
  int schedule(std::span<const DestView> dests, const PacketView& pkt) override;
};

}  // namespace vsd
