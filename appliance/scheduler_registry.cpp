#include "appliance/scheduler_registry.hpp"

#include <algorithm>

namespace vsd {

std::vector<std::string_view> scheduler_names() { return {"rr", "wrr"}; }

bool is_known_scheduler(std::string_view name) {
  auto names = scheduler_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace vsd
