// Which packets the kernel hands to vsd, derived from the configuration:
// client traffic to each VIP:port, and for NAT real servers their replies
// (RIP:port -> anywhere) so the source can be turned back into the VIP.
#pragma once

#include "appliance/config/config.hpp"
#include "nfq/ruleset.hpp"

namespace vsd {

nfq::RulesetSpec make_ruleset_spec(const Config& config, const std::string& table = "vsd");

// Removes vsd's tables ip/ip6 `table` at exit and logs it; a failure is
// logged with the commands that remove them by hand.
void remove_tables_logged(const std::string& table);

}  // namespace vsd
