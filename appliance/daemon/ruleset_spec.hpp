// Which packets the kernel hands to vsd, derived from the configuration:
// client traffic to each VIP:port, and for NAT real servers their replies
// (RIP:port -> anywhere) so the source can be turned back into the VIP.
#pragma once

#include "appliance/config/config.hpp"
#include "nfq/ruleset.hpp"

namespace vsd {

nfq::RulesetSpec make_ruleset_spec(const Config& config, const std::string& table = "vsd");

}  // namespace vsd
