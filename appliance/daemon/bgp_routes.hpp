// Scale-out's announcements (README "Scale-out"), pure: which VIPs this
// director announces, the bird include files that announce them, and the
// bird.conf `vsd bgp bird` prints. The adapter that writes the files and
// asks bird to reload is bgp_announcer.hpp.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "appliance/config/config.hpp"

namespace vsd {

// The VIPs to announce, sorted: a VIP goes while at least one of its
// services can serve: its quorum is up (services with `quorum`), or one of
// its real servers has a weight (keepalived's default quorum, 1). The sorry
// server does not count: the other directors have it too. `effective` has
// health applied (HealthPolicy::effective); `quorum_up` is the policy's
// judgement by service label. fwmark services announce their members.
std::vector<IpAddress> vips_to_announce(
    const Config& effective, const std::function<std::optional<bool>(const std::string&)>& quorum_up);

// bird's static routes for `vips` of one family through `interface`, one
// per line: `route 198.51.100.100/32 via "vsd-vips";`.
std::string bird_routes(const std::vector<IpAddress>& vips, bool v6, const std::string& interface);
// The IPv6 routes' file beside [bgp] routes_file: "...-vips.conf" ->
// "...-vips6.conf".
std::string routes_file_v6(const std::string& routes_file);

// A bird.conf for this director: the device protocol, one static protocol
// per family including the routes files (check link: a route goes when
// vsd's device goes), one BGP session per neighbor exporting them.
std::string bird_conf(const BgpConfig& bgp, const IpAddress& router_id);

}  // namespace vsd
