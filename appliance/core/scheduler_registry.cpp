#include "appliance/core/scheduler_registry.hpp"

#include <algorithm>

#include "appliance/core/scheduler.hpp"
#include "appliance/core/scheduler_dh.hpp"
#include "appliance/core/scheduler_fo.hpp"
#include "appliance/core/scheduler_lblc.hpp"
#include "appliance/core/scheduler_lblcr.hpp"
#include "appliance/core/scheduler_lc.hpp"
#include "appliance/core/scheduler_mh.hpp"
#include "appliance/core/scheduler_nq.hpp"
#include "appliance/core/scheduler_ovf.hpp"
#include "appliance/core/scheduler_rr.hpp"
#include "appliance/core/scheduler_sed.hpp"
#include "appliance/core/scheduler_sh.hpp"
#include "appliance/core/scheduler_twos.hpp"
#include "appliance/core/scheduler_wlc.hpp"
#include "appliance/core/scheduler_wrr.hpp"

namespace vsd {

namespace {

// The order of ipvsadm's man page.
constexpr std::string_view kNames[] = {"rr",  "wrr", "lc", "wlc", "lblc", "lblcr", "dh",
                                       "sh",  "sed", "nq", "fo",  "ovf",  "mh",    "twos"};

// Flag 1 is "fallback" and flag 2 "port" for both schedulers that have flags
// (IP_VS_SVC_F_SCHED1 and SCHED2 in IPVS).
bool fallback_flag(std::string_view sched, std::span<const std::string> flags) {
  return has_flag(flags, sched == "sh" ? "sh-fallback" : "mh-fallback", "flag-1");
}
bool port_flag(std::string_view sched, std::span<const std::string> flags) {
  return has_flag(flags, sched == "sh" ? "sh-port" : "mh-port", "flag-2");
}

}  // namespace

std::vector<std::string_view> scheduler_names() { return {std::begin(kNames), std::end(kNames)}; }

bool is_known_scheduler(std::string_view name) {
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
}

std::vector<std::string_view> scheduler_flag_names(std::string_view sched) {
  if (sched == "sh") return {"sh-fallback", "sh-port"};
  if (sched == "mh") return {"mh-fallback", "mh-port"};
  return {};
}

bool is_known_scheduler_flag(std::string_view sched, std::string_view flag) {
  auto names = scheduler_flag_names(sched);
  if (names.empty()) return false;
  return flag == "flag-1" || flag == "flag-2" ||
         std::find(names.begin(), names.end(), flag) != names.end();
}

std::unique_ptr<Scheduler> make_scheduler(std::string_view name, std::span<const DestView> dests,
                                          const SchedulerContext& ctx) {
  static const SteadyClock steady;
  const Clock& clock = ctx.clock ? *ctx.clock : steady;
  if (name == "rr") return std::make_unique<RoundRobinScheduler>();
  if (name == "wrr") return std::make_unique<WeightedRoundRobinScheduler>(dests);
  if (name == "lc") return std::make_unique<LeastConnectionScheduler>();
  if (name == "wlc") return std::make_unique<WeightedLeastConnectionScheduler>();
  if (name == "lblc") return std::make_unique<LocalityLeastConnectionScheduler>(clock);
  if (name == "lblcr") return std::make_unique<LocalityReplicationScheduler>(clock);
  if (name == "dh") return std::make_unique<DestinationHashScheduler>(dests);
  if (name == "sh")
    return std::make_unique<SourceHashScheduler>(dests, fallback_flag(name, ctx.flags),
                                                 port_flag(name, ctx.flags));
  if (name == "sed") return std::make_unique<ShortestExpectedDelayScheduler>();
  if (name == "nq") return std::make_unique<NeverQueueScheduler>();
  if (name == "fo") return std::make_unique<FailoverScheduler>();
  if (name == "ovf") return std::make_unique<OverflowScheduler>();
  if (name == "mh")
    return std::make_unique<MaglevHashScheduler>(dests, fallback_flag(name, ctx.flags),
                                                 port_flag(name, ctx.flags));
  if (name == "twos") return std::make_unique<TwoChoicesScheduler>(ctx.seed);
  return nullptr;
}

}  // namespace vsd
