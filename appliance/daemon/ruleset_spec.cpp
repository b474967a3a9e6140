#include "appliance/daemon/ruleset_spec.hpp"

#include <spdlog/spdlog.h>

#include <set>
#include <tuple>

namespace vsd {

namespace {

// What `nft list ruleset` says after a service's name.
std::string path_note(nfq::Path path) {
  switch (path) {
    case nfq::Path::nat_kernel: return " (fast path: NAT in the kernel)";
    case nfq::Path::direct_kernel: return " (fast path: DR/TUN flow table)";
    case nfq::Path::userspace: break;
  }
  return "";
}

}  // namespace

nfq::RulesetSpec make_ruleset_spec(const Config& config, const std::string& table,
                                   const FastPathPlan& plan) {
  nfq::RulesetSpec spec;
  spec.fast = plan.spec;
  spec.table = table;
  spec.queue_first = config.director.queue;
  spec.queue_count = config.director.queues;
  spec.bypass = config.director.fail_open;
  // One reply rule per real server endpoint even when several services share it.
  std::set<std::tuple<std::uint8_t, IpAddress, std::uint16_t>> replies;
  // ICMP errors about connections (the engine passes other ICMP untouched):
  // to a VIP from clients' side, from a NAT real server toward clients.
  std::set<IpAddress> icmp_vips, icmp_rips;
  auto icmp_proto = [](const IpAddress& a) -> std::uint8_t { return a.is_v4() ? 1 : 58; };
  for (const auto& svc : config.services) {
    const auto proto = static_cast<std::uint8_t>(svc.protocol);
    const nfq::Path path = plan.path(svc);
    std::string name;
    std::vector<std::uint8_t> protos{proto};
    if (svc.is_fwmark()) {
      // A mark covers TCP and UDP alike (IPVS): replies of both are diverted.
      name = "FWM " + std::to_string(svc.fwmark);
      nfq::MarkGroup g;
      g.mark = svc.fwmark;
      for (const auto& m : svc.members) g.members.emplace_back(m.addr, m.port);
      g.comment = "vsd service " + name + path_note(path);
      g.path = path;
      spec.mark_groups.push_back(std::move(g));
      protos = {6, 17};
    } else {
      name = std::string(svc.protocol == Protocol::tcp ? "TCP " : "UDP ") + svc.address.to_string();
      spec.matches.push_back({nfq::DivertMatch::Side::destination, svc.address.addr, proto,
                              svc.address.port, "vsd service " + name + path_note(path), path});
      // The SYN proxy hands its flows to conntrack: only on the kernel's NAT
      // path (validate() asks for fast_path and NAT real servers; the plan
      // may still keep a service in vsd, e.g. when the kernel refused it).
      if (svc.synproxy && path == nfq::Path::nat_kernel)
        spec.matches.back().synproxy = {true, static_cast<std::uint16_t>(svc.synproxy_mss),
                                        static_cast<std::uint8_t>(svc.synproxy_wscale)};
      else if (svc.synproxy)
        spdlog::warn("service {}: synproxy is off: the service is not on the kernel fast path's NAT "
                     "(see the fast path lines above), which a SYN proxy needs",
                     name);
    }
    // In the kernel, conntrack translates ICMP errors about NAT flows and
    // no reply comes to vsd: the rest is the userspace path's.
    if (path != nfq::Path::userspace) continue;
    std::vector<IpAddress> vips;
    if (svc.is_fwmark())
      for (const auto& m : svc.members) vips.push_back(m.addr);
    else
      vips.push_back(svc.address.addr);
    for (const auto& v : vips)
      if (icmp_vips.insert(v).second)
        spec.matches.push_back({nfq::DivertMatch::Side::destination, v, icmp_proto(v), 0,
                                "vsd ICMP errors to VIP " + v.to_string()});
    // The sorry server is a NAT real server of the service whenever it serves.
    std::vector<RealServerConfig> reals = svc.reals;
    if (svc.sorry_server) {
      RealServerConfig sorry;
      sorry.address = *svc.sorry_server;
      reals.push_back(sorry);
    }
    for (const auto& real : reals) {
      if (real.forward != ForwardMethod::nat) continue;
      if (icmp_rips.insert(real.address.addr).second)
        spec.matches.push_back({nfq::DivertMatch::Side::source, real.address.addr,
                                icmp_proto(real.address.addr), 0,
                                "vsd ICMP errors from NAT real server " + real.address.addr.to_string()});
      // Port 0 (port-0 and fwmark services): replies from any port.
      std::uint16_t port = real.address.port ? real.address.port : svc.address.port;
      for (std::uint8_t p : protos) {
        if (!replies.emplace(p, real.address.addr, port).second) continue;
        Endpoint rip{real.address.addr, port};
        spec.matches.push_back({nfq::DivertMatch::Side::source, rip.addr, p, port,
                                "vsd NAT replies " + (port ? rip.to_string() : rip.addr.to_string()) +
                                    (protos.size() > 1 ? (p == 6 ? " tcp" : " udp") : "") +
                                    " for " + name});
      }
    }
  }
  return spec;
}

void remove_tables_logged(const std::string& table) {
  try {
    nfq::remove(table);
    spdlog::info("nft tables ip/ip6 {} removed", table);
  } catch (const std::exception& e) {
    spdlog::error("cannot remove nft tables ip/ip6 {}: {}; remove them by hand: nft delete table ip {}; "
                  "nft delete table ip6 {}",
                  table, e.what(), table, table);
  }
}

}  // namespace vsd
