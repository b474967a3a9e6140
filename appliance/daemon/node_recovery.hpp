// The start of either role on a node that a vsd left changed without its
// clean-up (kill -9, a crash): what the state file (node_state.hpp) says
// that vsd made is taken over or undone before this one changes anything.
#pragma once

#include <vector>

#include "appliance/daemon/node_plan.hpp"
#include "appliance/daemon/node_state.hpp"
#include "appliance/daemon/sysctl_guard.hpp"

namespace vsd {

// Reads the state file; the sysctls' original values go to `sysctls` (so
// a clean stop restores the values from before the FIRST start); the
// other role's nft tables are removed; VIPs on lo that `keep_vips` does
// not hold are removed. Returns the recorded VIPs that stay (the caller
// removes them at its own clean stop). Every step is logged.
std::vector<IpAddress> recover_node(const NodeStateFile& file, Role role,
                                    const std::vector<IpAddress>& keep_vips, SysctlGuard& sysctls);

}  // namespace vsd
