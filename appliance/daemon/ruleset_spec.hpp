// Which packets the kernel hands to vsd, derived from the configuration:
// client traffic to each VIP:port, and for NAT real servers their replies
// (RIP:port -> anywhere) so the source can be turned back into the VIP.
#pragma once

#include "appliance/config/config.hpp"
#include "appliance/daemon/fast_path_plan.hpp"
#include "nfq/ruleset.hpp"

namespace vsd {

// `plan` says which services the kernel fast path carries (none: the
// default plan, every service through vsd).
nfq::RulesetSpec make_ruleset_spec(const Config& config, const std::string& table = "vsd",
                                   const FastPathPlan& plan = {});

// Removes vsd's tables ip/ip6 `table` at exit and logs it; a failure is
// logged with the commands that remove them by hand.
void remove_tables_logged(const std::string& table);

}  // namespace vsd
