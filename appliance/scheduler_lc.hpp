#pragma once

#include "appliance/scheduler.hpp"

namespace vsd {

// IPVS's overhead of a real server: active connections weigh 256 times an
// inactive one (ip_vs_dest_conn_overhead).
inline std::uint64_t dest_overhead(const DestView& d) {
  return (d.state->active_conns.get() << 8) + d.state->inactive_conns.get();
}

// lc: least connections (ip_vs_lc.c): the available server with the
// smallest overhead; ties go to the first in the list.
class LeastConnectionScheduler final : public Scheduler {
 public:
  std::string_view name() const override { return "lc"; }
  int schedule(std::span<const DestView> dests, const PacketView& pkt) override;
};

// wlc: weighted least connections (ip_vs_wlc.c): smallest overhead/weight,
// compared by cross multiplication as IPVS does.
class WeightedLeastConnectionScheduler final : public Scheduler {
 public:
  std::string_view name() const override { return "wlc"; }
  int schedule(std::span<const DestView> dests, const PacketView& pkt) override;
};

}  // namespace vsd
