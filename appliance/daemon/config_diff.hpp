// What an operator needs to read about a configuration change (a reload,
// a vsadm edit): one line per service or real server added, changed or
// removed, with the VIP and RIP in it. Pure: the daemon logs the lines.
#pragma once

#include <string>
#include <vector>

#include "appliance/config/config.hpp"

namespace vsd {

// E.g. "service TCP 192.0.2.10:80: real server 203.0.113.11:8000 now nat
// weight 0 (was nat weight 3) - quiesced". Services in `after`'s order, then
// those removed.
std::vector<std::string> describe_changes(const Config& before, const Config& after);

}  // namespace vsd
