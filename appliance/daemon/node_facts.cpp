#include "appliance/daemon/node_facts.hpp"

#include <fstream>

#include "appliance/daemon/sysctl_guard.hpp"
#include "nfq/rtnl_socket.hpp"

namespace vsd {

bool gather_node_facts(NodeFacts* out, std::string* error, std::string proc_sys) {
  std::vector<rtnl::LocalAddress> addrs;
  if (!rtnl::local_addresses(&addrs, error)) return false;
  out->addresses.clear();
  for (const auto& a : addrs) out->addresses.push_back({a.ifname, a.addr, a.prefix});
  out->route = [](const IpAddress& dst) {
    RouteFact f;
    rtnl::RouteInfo ri;
    std::string err;
    if (!rtnl::route_get(dst, &ri, &err)) return f;  // unreachable: found = false
    f.found = true;
    f.local = ri.local;
    f.gateway = ri.gateway;
    f.ifname = ri.ifname;
    f.prefsrc = ri.prefsrc;
    f.mtu = ri.mtu;
    return f;
  };
  out->sysctl = [root = std::move(proc_sys)](const std::string& key) -> std::optional<std::string> {
    std::ifstream in(sysctl_path(root, key));
    std::string value;
    if (!in || !std::getline(in, value)) return std::nullopt;
    return value;
  };
  return true;
}

}  // namespace vsd
