#include "appliance/daemon/fast_path_plan.hpp"

#include <algorithm>
#include <set>
#include <tuple>

#include "appliance/daemon/snapshot_spec.hpp"
#include "nfq/rtnl_message.hpp"

namespace vsd {

nfq::Path FastPathPlan::path(const ServiceConfig& s) const {
  auto it = paths.find(service_label(s));
  return it == paths.end() ? nfq::Path::userspace : it->second;
}

std::uint32_t FastPathPlan::kernel_mark(const ServiceConfig& s, const Endpoint& real) const {
  auto it = kernel.find(decision_key(s, real));
  return it == kernel.end() ? 0 : it->second;
}

namespace {

nfq::Path path_by_methods(const ServiceConfig& s) {
  if (s.ops) return nfq::Path::userspace;  // every datagram scheduled on its own
  bool nat = false, direct = false;
  for (const auto& r : node_reals(s)) (r.forward == ForwardMethod::nat ? nat : direct) = true;
  if (nat && direct) return nfq::Path::userspace;
  return direct ? nfq::Path::direct_kernel : nfq::Path::nat_kernel;
}

using RealKey = std::tuple<std::uint8_t, IpAddress, std::uint16_t>;  // proto, RIP, port

// The NAT real servers' reply endpoints of a service (port 0: any port).
std::set<RealKey> nat_replies(const ServiceConfig& s) {
  std::set<RealKey> out;
  std::vector<std::uint8_t> protos{static_cast<std::uint8_t>(s.protocol)};
  if (s.is_fwmark()) protos = {6, 17};
  for (const auto& r : node_reals(s))
    if (r.forward == ForwardMethod::nat)
      for (auto p : protos) out.emplace(p, r.address.addr, r.address.port ? r.address.port : s.address.port);
  return out;
}

}  // namespace

FastPathPlan plan_fast_path(const Config& config, const DecisionNumbers& numbers,
                            const NodeOffers& node, const FastPathPlan* previous) {
  FastPathPlan plan;
  if (!config.director.fast_path || !node.kernel_flows) return plan;
  plan.marks = MarkLayout::from_mask(config.director.mark_mask).value_or(MarkLayout{});
  if (!plan.marks.enabled()) return plan;
  for (const auto& s : config.services) {
    const std::string label = service_label(s);
    // A service whose last real server went keeps its path: its flows
    // still run (expire_nodest_conn off), and a path change would move
    // them between conntrack and the flow table mid-flow.
    auto before = previous ? previous->paths.find(label) : plan.paths.end();
    const bool empty = s.reals.empty() && !s.sorry_server;
    nfq::Path path = empty && previous && before != previous->paths.end() ? before->second
                                                                          : path_by_methods(s);
    if ((path == nfq::Path::nat_kernel && !node.nat_kernel) ||
        (path == nfq::Path::direct_kernel && !node.direct_kernel))
      path = nfq::Path::userspace;
    plan.paths[label] = path;
  }
  // A userspace service's NAT replies are `notrack`ed before conntrack; a
  // kernel NAT flow to the same real server endpoint needs conntrack to see
  // its replies. Such services stay in userspace too.
  std::set<RealKey> userspace_replies;
  for (const auto& s : config.services)
    if (plan.path(s) == nfq::Path::userspace) {
      auto r = nat_replies(s);
      userspace_replies.insert(r.begin(), r.end());
    }
  for (const auto& s : config.services) {
    if (plan.path(s) != nfq::Path::nat_kernel) continue;
    auto r = nat_replies(s);
    if (std::any_of(r.begin(), r.end(), [&](const RealKey& k) { return userspace_replies.count(k); }))
      plan.paths[service_label(s)] = nfq::Path::userspace;
  }

  auto& spec = plan.spec;
  spec.bits = {plan.marks.mask, plan.marks.queue, plan.marks.pending, plan.marks.direct, plan.marks.id};
  spec.timeouts.tcp_established = config.timeouts.tcp;
  spec.timeouts.tcp_fin_wait = config.timeouts.tcpfin;
  spec.timeouts.udp = config.timeouts.udp;
  spec.flow_table_size = config.director.max_connections;
  std::set<std::uint32_t> nat_marks, direct_marks;
  for (const auto& s : config.services) {
    const nfq::Path path = plan.path(s);
    if (path == nfq::Path::userspace) continue;
    const auto reals = decision_reals(s);
    for (std::size_t i = 0; i < reals.size(); ++i) {
      const Endpoint& real = reals[i];
      auto n = numbers.number(decision_key(s, real));
      if (!n) continue;  // out of numbers: this one goes through vsd
      const std::uint32_t mark = plan.marks.decision_mark(*n);
      const bool sorry = i >= s.reals.size();
      const ForwardMethod fwd = sorry ? sorry_forward(s) : s.reals[i].forward;
      if (fwd == ForwardMethod::nat) {
        // Port 0 (port-0 and fwmark services): the packet keeps its port.
        if (nat_marks.insert(mark).second) spec.nat.push_back({mark, real});
      } else if (fwd == ForwardMethod::dr) {
        auto dev = node.dr_devices.find(real.addr);
        if (dev == node.dr_devices.end()) continue;  // no route yet: vsd forwards
        if (direct_marks.insert(mark).second) spec.direct.push_back({mark, real.addr, dev->second});
      } else {
        // TUN: its tunnel device is a DR "device": the dup hands it the
        // unchanged packet and the tunnel adds the outer header. The dup's
        // next hop is of the packet's (inner) family (rtnl::tunnel_nexthop
        // says why it is not always the real server). Without a device, or
        // IPv6 inside an ipip one, vsd encapsulates.
        const bool inner_v6 = service_is_v6(s);
        auto dev = node.tun_devices.find(real.addr);
        if (dev == node.tun_devices.end() ||
            !rtnl::tunnel_carries(rtnl::tunnel_kind_for(real.addr), inner_v6))
          continue;
        if (direct_marks.insert(mark).second)
          spec.direct.push_back({mark, rtnl::tunnel_nexthop(real.addr, inner_v6), dev->second});
      }
      plan.kernel[decision_key(s, real)] = mark;
      spec.counted.push_back(mark);
    }
  }
  std::sort(spec.counted.begin(), spec.counted.end());
  spec.counted.erase(std::unique(spec.counted.begin(), spec.counted.end()), spec.counted.end());
  return plan;
}

}  // namespace vsd
