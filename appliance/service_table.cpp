#include "appliance/service_table.hpp"

namespace vsd {

const DestView* ServiceView::dest(const IpAddress& addr, std::uint16_t port) const {
  for (const auto& d : dests)
    if (d.addr.port == port && d.addr.addr == addr) return &d;
  return nullptr;
}

const ServiceView* ServiceSnapshot::find(std::uint8_t l4proto, const IpAddress& vip,
                                         std::uint16_t port, std::uint32_t mark) const {
  if (mark)
    for (const auto& s : services)
      if (s.fwmark == mark) return &s;  // like IPVS, a fwmark service takes TCP and UDP
  const ServiceView* any_port = nullptr;
  for (const auto& s : services) {
    if (s.fwmark || s.l4proto() != l4proto || s.vip.addr != vip) continue;
    if (s.vip.port == port) return &s;
    if (s.vip.port == 0) any_port = &s;
  }
  return any_port;
}

const OpsReply* ServiceSnapshot::find_ops_reply(std::uint8_t l4proto, const IpAddress& rip,
                                                std::uint16_t rport) const {
  for (const auto& r : ops_replies)
    if (r.l4proto == l4proto && r.rip.port == rport && r.rip.addr == rip) return &r;
  return nullptr;
}

namespace {

const ServiceView* find_same(const ServiceSnapshot* prev, const ServiceConfig& sc) {
  if (!prev) return nullptr;
  for (const auto& s : prev->services) {
    if (sc.is_fwmark() ? s.fwmark == sc.fwmark
                       : (!s.fwmark && s.protocol == sc.protocol && s.vip == sc.address))
      return &s;
  }
  return nullptr;
}

std::shared_ptr<DestState> reuse_dest(const ServiceView* prev, const Endpoint& addr) {
  if (!prev) return nullptr;
  for (const auto& d : prev->dests)
    if (d.addr == addr) return d.state;
  return nullptr;
}

}  // namespace

std::shared_ptr<const ServiceSnapshot> build_snapshot(const Config& config,
                                                      const ServiceSnapshot* previous,
                                                      const Clock* clock,
                                                      const EgressTable* egress) {
  auto snap = std::make_shared<ServiceSnapshot>();
  snap->expire_nodest_conn = config.director.expire_nodest_conn;
  snap->expire_quiescent_template = config.director.expire_quiescent_template;
  snap->timeouts.set_tcp_established(config.timeouts.tcp);
  snap->timeouts.set_tcp_fin_wait(config.timeouts.tcpfin);
  snap->timeouts.udp = config.timeouts.udp;
  snap->services.reserve(config.services.size());
  for (const auto& sc : config.services) {
    const ServiceView* prev = find_same(previous, sc);
    ServiceView sv;
    sv.protocol = sc.protocol;
    sv.vip = sc.address;
    sv.fwmark = sc.fwmark;
    sv.persistent = sc.persistent;
    sv.ops = sc.ops;
    bool v4 = sc.is_fwmark() ? (!sc.members.empty() ? sc.members[0].addr.is_v4()
                                                    : (sc.reals.empty() || sc.reals[0].address.addr.is_v4()))
                             : sc.address.addr.is_v4();
    // Prefix lengths count from the IPv4 address's own first bit; the
    // engine masks v4-mapped addresses past their 96-bit prefix.
    sv.netmask = sc.persistence_netmask ? sc.persistence_netmask : (v4 ? 32 : 128);
    sv.v6 = !v4;
    sv.scheduler_name = sc.scheduler;
    sv.scheduler_flags = sc.scheduler_flags;
    sv.state = prev ? prev->state : std::make_shared<ServiceState>();
    for (const auto& rc : sc.reals) {
      DestView d;
      d.addr = rc.address;
      if (d.addr.port == 0) d.addr.port = sc.address.port;  // "RIP" alone means the VIP's port
      d.weight = rc.weight;
      d.forward = rc.forward;
      if (d.forward != ForwardMethod::nat) {
        if (egress) {
          auto it = egress->find(rc.address.addr);
          if (it != egress->end()) d.egress = it->second;
        }
        if (sc.tunnel_source) d.egress.tunnel_source = *sc.tunnel_source;
      }
      d.upper_threshold = rc.upper_threshold;
      // IPVS: without a lower threshold the overload clears under 3/4 of the upper.
      d.lower_threshold = rc.lower_threshold;
      d.state = reuse_dest(prev, d.addr);
      if (!d.state) d.state = std::make_shared<DestState>(sv.state);
      sv.dests.push_back(std::move(d));
    }
    SchedulerContext ctx;
    ctx.clock = clock;
    ctx.flags = sv.scheduler_flags;
    sv.scheduler = make_scheduler(sv.scheduler_name, sv.dests, ctx);
    snap->services.push_back(std::move(sv));
  }
  // After the services vector is final: OpsReply points into it.
  for (const auto& sv : snap->services) {
    if (!sv.ops || sv.fwmark) continue;
    for (const auto& d : sv.dests)
      snap->ops_replies.push_back({sv.l4proto(), d.addr, sv.vip, &d});
  }
  return snap;
}

}  // namespace vsd
