// The scheduler names vsd knows (config `scheduler = "..."`, vsadm -s).
#pragma once

#include <string_view>
#include <vector>

namespace vsd {

bool is_known_scheduler(std::string_view name);
std::vector<std::string_view> scheduler_names();

}  // namespace vsd
