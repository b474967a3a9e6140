// Reads what node_plan needs to know about this node from the kernel: its
// addresses and routes (rtnetlink, arp/rtnl) and its sysctls (/proc/sys).
#pragma once

#include <string>

#include "appliance/daemon/node_plan.hpp"

namespace vsd {

// False with *error when the addresses cannot be read (no rtnetlink).
bool gather_node_facts(NodeFacts* out, std::string* error, std::string proc_sys = "/proc/sys");

}  // namespace vsd
