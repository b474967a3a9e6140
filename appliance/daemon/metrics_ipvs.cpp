// node_exporter's IPVS collector (collector/ipvs_linux.go), rendered from
// vsd's status instead of /proc/net/ip_vs_stats and /proc/net/ip_vs, so the
// dashboards and alerts written for it work unchanged on a vsd director:
// the five totals without labels, and per (service, real server) the
// active and inactive connections and the weight with its six labels.
#include <cstdio>
#include <map>

#include "appliance/daemon/metrics_exposition.hpp"

namespace vsd {

namespace {

const char* ipvs_proto(const control::ServiceStatus& s) {
  if (s.is_fwmark()) return "FWM";
  return s.protocol == Protocol::tcp ? "TCP" : "UDP";
}

std::string ipvs_mark(const control::ServiceStatus& s) {
  if (!s.is_fwmark()) return "";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08X", s.fwmark);  // as ip_vs_ctl.c prints it
  return buf;
}

}  // namespace

MetricLabels ipvs_service_labels(const control::ServiceStatus& s) {
  return {{"local_address", s.is_fwmark() ? "" : s.address.addr.to_string()},
          {"local_port", std::to_string(s.is_fwmark() ? 0 : s.address.port)},
          {"proto", ipvs_proto(s)},
          {"local_mark", ipvs_mark(s)}};
}

MetricLabels ipvs_real_labels(const control::ServiceStatus& s, const control::RealStatus& r) {
  // node_exporter's order: local_address, local_port, remote_address,
  // remote_port, proto, local_mark.
  auto l = ipvs_service_labels(s);
  l.insert(l.begin() + 2, {{"remote_address", r.address.addr.to_string()},
                           {"remote_port", std::to_string(r.address.port)}});
  return l;
}

void ipvs_metrics(Exposition& e, const control::Status& status, const std::optional<control::Traffic>& totals) {
  e.family("node_ipvs_connections_total", "counter", "The total number of connections made.");
  e.family("node_ipvs_incoming_packets_total", "counter", "The total number of incoming packets.");
  e.family("node_ipvs_outgoing_packets_total", "counter", "The total number of outgoing packets.");
  e.family("node_ipvs_incoming_bytes_total", "counter", "The total amount of incoming data.");
  e.family("node_ipvs_outgoing_bytes_total", "counter", "The total amount of outgoing data.");
  e.family("node_ipvs_backend_connections_active", "gauge",
           "The current active connections by local and remote address.");
  e.family("node_ipvs_backend_connections_inactive", "gauge",
           "The current inactive connections by local and remote address.");
  e.family("node_ipvs_backend_weight", "gauge", "The current backend weight by local and remote address.");

  // /proc/net/ip_vs_stats: IPVS counts every packet and connection in its
  // service and in the totals, so the totals are the services' sums plus
  // what removed services counted (IpvsTotals, from the director).
  control::Traffic total;
  if (totals)
    total = *totals;
  else
    for (const auto& s : status.services)
      for (const auto& f : control::kTrafficFields) total.*f.value += s.stats.*f.value;
  e.sample("node_ipvs_connections_total", {}, total.conns);
  e.sample("node_ipvs_incoming_packets_total", {}, total.inpkts);
  e.sample("node_ipvs_outgoing_packets_total", {}, total.outpkts);
  e.sample("node_ipvs_incoming_bytes_total", {}, total.inbytes);
  e.sample("node_ipvs_outgoing_bytes_total", {}, total.outbytes);

  // One sample per label set, summed where two rows share one, as the
  // collector does (the IPv4 and IPv6 fwmark services of one mark). A real
  // server taken out by its check (on_failure = "remove") is not in
  // /proc/net/ip_vs under keepalived either.
  struct Backend {
    MetricLabels labels;
    std::uint64_t active = 0, inactive = 0, weight = 0;
  };
  std::vector<Backend> rows;
  std::map<MetricLabels, std::size_t> index;
  for (const auto& s : status.services)
    for (const auto& r : s.reals) {
      if (r.removed) continue;
      auto labels = ipvs_real_labels(s, r);
      auto [it, fresh] = index.emplace(labels, rows.size());
      if (fresh) rows.push_back({std::move(labels)});
      auto& b = rows[it->second];
      b.active += r.active_conns;
      b.inactive += r.inactive_conns;
      b.weight += r.weight;
    }
  for (const auto& b : rows) {
    e.sample("node_ipvs_backend_connections_active", b.labels, b.active);
    e.sample("node_ipvs_backend_connections_inactive", b.labels, b.inactive);
    e.sample("node_ipvs_backend_weight", b.labels, b.weight);
  }
}

}  // namespace vsd
