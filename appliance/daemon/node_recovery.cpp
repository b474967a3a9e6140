#include "appliance/daemon/node_recovery.hpp"

#include <net/if.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "appliance/daemon/ruleset_spec.hpp"
#include "arp/arp_hiding.hpp"
#include "arp/nft_text.hpp"
#include "nfq/rtnl_socket.hpp"

namespace vsd {

std::vector<IpAddress> recover_node(const NodeStateFile& file, Role role,
                                    const std::vector<IpAddress>& keep_vips, SysctlGuard& sysctls) {
  std::string error;
  auto state = file.load(&error);
  if (!error.empty())
    spdlog::warn("ignoring the state file of an earlier vsd ({}); if it changed sysctls or put "
                 "VIPs on lo, check them by hand",
                 error);
  if (!state || state->empty()) return {};
  spdlog::warn("an earlier vsd did not clean up ({} sysctl(s), {} VIP(s) on lo, tables {}; see {}): "
               "taking over",
               state->sysctls.size(), state->lo_vips.size(), state->tables.size(), file.path());
  for (const auto& [key, original] : state->sysctls) {
    sysctls.adopt(key, original);
    spdlog::info("{} will be restored to {}, its value before the earlier vsd", key, original);
  }
  for (const auto& t : state->tables) {
    const bool ours = (role == Role::director) == (t == "vsd");
    if (ours) continue;  // this role installs it again, in place
    remove_tables_logged(t);
    if (t == "vsd_rs") {
      std::string err;
      if (!arp::apply_nft_text(arp::arp_hiding_teardown(), &err))
        spdlog::warn("cannot remove nft table arp vsd_rs: {}; remove it by hand: nft delete table arp vsd_rs", err);
    }
  }
  std::vector<IpAddress> kept;
  const int lo = static_cast<int>(if_nametoindex("lo"));
  for (const auto& vip : state->lo_vips) {
    if (std::find(keep_vips.begin(), keep_vips.end(), vip) != keep_vips.end()) {
      kept.push_back(vip);
      continue;
    }
    std::string err;
    const std::uint8_t prefix = vip.is_v4() ? 32 : 128;
    if (lo > 0 && rtnl::address_del(lo, vip, prefix, &err))
      spdlog::info("VIP {}/{} removed from lo (the earlier vsd's, not in this configuration)",
                   vip.to_string(), prefix);
    else
      spdlog::warn("cannot remove the earlier vsd's VIP {} from lo: {}; remove it by hand: ip addr "
                   "del {}/{} dev lo",
                   vip.to_string(), err, vip.to_string(), prefix);
  }
  return kept;
}

}  // namespace vsd
