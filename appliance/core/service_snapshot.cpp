#include "appliance/core/service_snapshot.hpp"

namespace vsd {

const DestView* ServiceView::dest(const IpAddress& addr, std::uint16_t port) const {
  for (const auto& d : dests)
    if (d.addr.port == port && d.addr.addr == addr) return &d;
  return nullptr;
}

TrafficSample ServiceView::totals() const {
  TrafficSample t = state->traffic.sample();
  for (const auto& d : dests) {
    TrafficSample k = d.state->kernel_sample();
    for (std::size_t i = 0; i < t.size(); ++i) t[i] += k[i];
  }
  return t;
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

const ServiceView* find_same(const ServiceSnapshot* prev, const ServiceSpec& spec) {
  if (!prev) return nullptr;
  for (const auto& s : prev->services) {
    if (spec.fwmark ? s.fwmark == spec.fwmark
                    : (!s.fwmark && s.protocol == spec.protocol && s.vip == spec.vip))
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

std::shared_ptr<const ServiceSnapshot> build_snapshot(const SnapshotSpec& spec,
                                                      const ServiceSnapshot* previous,
                                                      const Clock* clock) {
  auto snap = std::make_shared<ServiceSnapshot>();
  snap->expire_nodest_conn = spec.expire_nodest_conn;
  snap->expire_quiescent_template = spec.expire_quiescent_template;
  snap->timeouts = spec.timeouts;
  snap->marks = spec.marks;
  snap->defence = spec.defence;
  snap->services.reserve(spec.services.size());
  for (const auto& sc : spec.services) {
    const ServiceView* prev = find_same(previous, sc);
    ServiceView sv;
    sv.protocol = sc.protocol;
    sv.vip = sc.vip;
    sv.fwmark = sc.fwmark;
    sv.persistent = sc.persistent;
    sv.ops = sc.ops;
    sv.sloppy_tcp = sc.sloppy_tcp;
    sv.table_share = sc.table_share;
    // Prefix lengths count from the IPv4 address's own first bit; the
    // engine masks v4-mapped addresses past their 96-bit prefix.
    sv.netmask = sc.netmask ? sc.netmask : (sc.v6 ? 128 : 32);
    sv.v6 = sc.v6;
    sv.scheduler_name = sc.scheduler;
    sv.scheduler_flags = sc.scheduler_flags;
    sv.state = prev ? prev->state : std::make_shared<ServiceState>();
    sv.state->fwmark = sv.fwmark;
    for (const auto& ds : sc.dests) {
      DestView d;
      d.addr = ds.addr;
      if (d.addr.port == 0) d.addr.port = sc.vip.port;  // "RIP" alone means the VIP's port
      d.weight = ds.weight;
      d.forward = ds.forward;
      d.egress = ds.egress;
      d.kernel_mark = ds.kernel_mark;
      d.upper_threshold = ds.upper_threshold;
      // IPVS: without a lower threshold the overload clears under 3/4 of the upper.
      d.lower_threshold = ds.lower_threshold;
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
