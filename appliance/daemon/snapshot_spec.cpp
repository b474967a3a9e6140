#include "appliance/daemon/snapshot_spec.hpp"

#include <spdlog/spdlog.h>

namespace vsd {
namespace {

// The engine's flood-defence lines (rate-limited by the engine): a defence
// switching on, or flows refused at a table_share, is a warning.
void log_defence(const std::string& line, bool warning) {
  if (warning)
    spdlog::warn("{}", line);
  else
    spdlog::info("{}", line);
}

}  // namespace

bool service_is_v6(const ServiceConfig& s) {
  if (!s.is_fwmark()) return !s.address.addr.is_v4();
  if (!s.members.empty()) return !s.members[0].addr.is_v4();
  return !s.reals.empty() && !s.reals[0].address.addr.is_v4();
}

SnapshotSpec snapshot_spec(const Config& config, const EgressTable* egress, const FastPathPlan* plan) {
  SnapshotSpec spec;
  if (plan) spec.marks = plan->marks;
  spec.expire_nodest_conn = config.director.expire_nodest_conn;
  spec.expire_quiescent_template = config.director.expire_quiescent_template;
  spec.timeouts.set_tcp_established(config.timeouts.tcp);
  spec.timeouts.set_tcp_fin_wait(config.timeouts.tcpfin);
  spec.timeouts.udp = config.timeouts.udp;
  spec.defence.drop_entry = static_cast<std::uint8_t>(config.director.drop_entry);
  spec.defence.drop_packet = static_cast<std::uint8_t>(config.director.drop_packet);
  spec.defence.secure_tcp = static_cast<std::uint8_t>(config.director.secure_tcp);
  spec.defence.am_droprate = config.director.am_droprate;
  spec.defence.pressure_threshold = config.director.pressure_threshold;
  spec.defence.log = log_defence;
  spec.services.reserve(config.services.size());
  for (const auto& sc : config.services) {
    ServiceSpec s;
    s.protocol = sc.protocol;
    s.vip = sc.address;
    s.fwmark = sc.fwmark;
    s.v6 = service_is_v6(sc);
    s.persistent = sc.persistent;
    s.netmask = sc.persistence_netmask;
    s.ops = sc.ops;
    s.sloppy_tcp = sloppy_tcp(config, sc);
    s.table_share = sc.table_share;
    s.scheduler = sc.scheduler;
    s.scheduler_flags = sc.scheduler_flags;
    for (const auto& rc : sc.reals) {
      DestSpec d;
      d.addr = rc.address;
      d.weight = rc.weight;
      d.forward = rc.forward;
      d.upper_threshold = rc.upper_threshold;
      d.lower_threshold = rc.lower_threshold;
      if (plan) {
        Endpoint real = rc.address;
        if (real.port == 0) real.port = sc.address.port;
        d.kernel_mark = plan->kernel_mark(sc, real);
      }
      if (d.forward != ForwardMethod::nat) {
        if (egress)
          if (auto it = egress->find(rc.address.addr); it != egress->end()) d.egress = it->second;
        if (sc.tunnel_source) d.egress.tunnel_source = *sc.tunnel_source;
      }
      s.dests.push_back(d);
    }
    spec.services.push_back(std::move(s));
  }
  return spec;
}

}  // namespace vsd
