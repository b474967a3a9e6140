#include "appliance/daemon/node_facts.hpp"

#include <charconv>
#include <fstream>
#include <sstream>

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

std::optional<std::uint64_t> parse_mem_available(std::string_view text) {
  const std::string_view key = "MemAvailable:";
  const auto at = text.find(key);
  if (at == std::string_view::npos) return std::nullopt;
  std::size_t i = at + key.size();
  while (i < text.size() && text[i] == ' ') ++i;
  std::uint64_t kib = 0;
  auto [end, ec] = std::from_chars(text.data() + i, text.data() + text.size(), kib);
  if (ec != std::errc() || end == text.data() + i) return std::nullopt;
  return kib * 1024;
}

std::optional<std::uint64_t> memory_available_bytes(const std::string& path) {
  std::ifstream f(path);
  if (!f) return std::nullopt;
  std::stringstream s;
  s << f.rdbuf();
  return parse_mem_available(s.str());
}

}  // namespace vsd
