#include "appliance/scheduler_registry.hpp"

#include <algorithm>

#include "appliance/scheduler.hpp"
#include "appliance/scheduler_lc.hpp"
#include "appliance/scheduler_rr.hpp"
#include "appliance/scheduler_wrr.hpp"

namespace vsd {

std::vector<std::string_view> scheduler_names() { return {"rr", "wrr", "lc", "wlc"}; }

bool is_known_scheduler(std::string_view name) {
  auto names = scheduler_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::unique_ptr<Scheduler> make_scheduler(std::string_view name, std::span<const DestView> dests) {
  if (name == "rr") return std::make_unique<RoundRobinScheduler>();
  if (name == "wrr") return std::make_unique<WeightedRoundRobinScheduler>(dests);
  if (name == "lc") return std::make_unique<LeastConnectionScheduler>();
  if (name == "wlc") return std::make_unique<WeightedLeastConnectionScheduler>();
  return nullptr;
}

}  // namespace vsd
