#include "appliance/daemon/bgp_routes.hpp"

#include <algorithm>
#include <sstream>

#include "appliance/daemon/health_policy.hpp"
#include "appliance/daemon/node_plan.hpp"


namespace vsd {

std::vector<IpAddress> vips_to_announce(
    const Config& effective, const std::function<std::optional<bool>(const std::string&)>& quorum_up) {
  std::vector<IpAddress> up;
  for (const auto& s : effective.services) {
    const auto q = s.quorum ? quorum_up(service_label(s)) : std::nullopt;
    const bool serves = q ? *q : served_weight(s) >= std::max<std::uint64_t>(1, s.quorum);
    if (!serves) continue;
    const auto vips = service_vips(s);
    up.insert(up.end(), vips.begin(), vips.end());
  }
  std::sort(up.begin(), up.end());
  up.erase(std::unique(up.begin(), up.end()), up.end());
  return up;
}

std::string bird_routes(const std::vector<IpAddress>& vips, bool v6, const std::string& interface) {
  std::string out = "# written by vsd: the VIPs this director announces ([bgp])\n";
  for (const auto& v : vips)
    if (v.is_v4() != v6) out += "route " + v.to_string() + (v6 ? "/128" : "/32") + " via \"" + interface + "\";\n";
  return out;
}

std::string routes_file_v6(const std::string& f) {
  const std::string ext = ".conf";
  if (f.size() > ext.size() && f.compare(f.size() - ext.size(), ext.size(), ext) == 0)
    return f.substr(0, f.size() - ext.size()) + "6" + ext;
  return f + "6";
}

std::string bird_conf(const BgpConfig& bgp, const IpAddress& router_id) {
  std::ostringstream o;
  o << "# bird.conf for this director, written by `vsd bgp bird` from [bgp] of the\n"
    << "# cluster file. vsd writes the VIPs it announces into the two include files\n"
    << "# (static routes through its device " << bgp.interface << ", which exists only\n"
    << "# while vsd runs) and asks bird to reload; a VIP whose services lost quorum,\n"
    << "# a stopped or dead vsd, and a dead director (hold time " << bgp.hold_time << " s)\n"
    << "# are withdrawn.\n\n"
    << "router id " << router_id.to_string() << ";\n\n"
    << "protocol device {\n    scan time 10;\n}\n\n"
    << "protocol static vsd_vips4 {\n    ipv4;\n    check link yes;\n    include \""
    << bgp.routes_file << "\";\n}\n\n"
    << "protocol static vsd_vips6 {\n    ipv6;\n    check link yes;\n    include \""
    << routes_file_v6(bgp.routes_file) << "\";\n}\n";
  int i = 0;
  for (const auto& n : bgp.neighbors) {
    const bool v4 = n.is_v4();
    o << "\nprotocol bgp router" << ++i << " {\n"
      << "    local as " << bgp.local_as << ";\n"
      << "    neighbor " << n.to_string() << " as " << bgp.neighbor_as << ";\n"
      << "    hold time " << bgp.hold_time << ";\n"
      << "    keepalive time " << std::max<std::uint32_t>(1, bgp.hold_time / 3) << ";\n"
      << "    connect retry time 1;\n"
      << "    " << (v4 ? "ipv4" : "ipv6") << " {\n"
      << "        import none;\n"
      << "        export where proto = \"" << (v4 ? "vsd_vips4" : "vsd_vips6") << "\";\n"
      << "    };\n"
      << "}\n";
  }
  return o.str();
}

}  // namespace vsd
