#include "appliance/service_table.hpp"

namespace vsd {

const ServiceView* ServiceSnapshot::find(std::uint8_t l4proto, const IpAddress& vip,
                                         std::uint16_t port) const {
  for (const auto& s : services)
    if (s.l4proto() == l4proto && s.vip.port == port && s.vip.addr == vip) return &s;
  return nullptr;
}

namespace {

const ServiceView* find_same(const ServiceSnapshot* prev, const ServiceConfig& sc) {
  if (!prev) return nullptr;
  for (const auto& s : prev->services)
    if (s.protocol == sc.protocol && s.vip == sc.address) return &s;
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
                                                      const ServiceSnapshot* previous) {
  auto snap = std::make_shared<ServiceSnapshot>();
  snap->timeouts.set_tcp_established(config.timeouts.tcp);
  snap->timeouts.set_tcp_fin_wait(config.timeouts.tcpfin);
  snap->timeouts.udp = config.timeouts.udp;
  snap->services.reserve(config.services.size());
  for (const auto& sc : config.services) {
    const ServiceView* prev = find_same(previous, sc);
    ServiceView sv;
    sv.protocol = sc.protocol;
    sv.vip = sc.address;
    sv.scheduler_name = sc.scheduler;
    sv.state = prev ? prev->state : std::make_shared<ServiceState>();
    for (const auto& rc : sc.reals) {
      DestView d;
      d.addr = rc.address;
      if (d.addr.port == 0) d.addr.port = sc.address.port;  // "RIP" alone means the VIP's port
      d.weight = rc.weight;
      d.forward = rc.forward;
      d.state = reuse_dest(prev, d.addr);
      if (!d.state) d.state = std::make_shared<DestState>(sv.state);
      sv.dests.push_back(std::move(d));
    }
    sv.scheduler = make_scheduler(sv.scheduler_name, sv.dests);
    snap->services.push_back(std::move(sv));
  }
  return snap;
}

}  // namespace vsd
