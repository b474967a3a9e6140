#pragma once

#include "appliance/core/scheduler_common.hpp"

namespace vsd {

// ovf: overflow (ip_vs_ovf.c). The highest-weight available server (ties:
// first in the list) takes connections while its active ones do not exceed
// its weight; past that the next-highest does. Weight is thus a connection
// budget. As in IPVS the test is active > weight, so a server of weight w
// holds w+1 active connections before overflowing. Only active connections
// count, so UDP (never "active") does not overflow.
class OverflowScheduler final : public Scheduler {
 public:
  std::string_view name() const override { return "ovf"; }
  int schedule(std::span<const DestView> dests, const PacketView& pkt) override;
};

}  // namespace vsd
