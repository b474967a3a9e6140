#include "appliance/daemon/metrics.hpp"

#include <charconv>
#include <chrono>
#include <string_view>
#include <map>
#include <utility>
#include <vector>

#include "appliance/daemon/metrics_exposition.hpp"

namespace vsd {
namespace {

using Labels = MetricLabels;

// As ipvsadm lists it: "TCP 192.0.2.10:80", "FWM 7" ("FWM 7 IPv6" for the
// v6 one, as IPVS allows the same mark for both families).
std::string service_label(const control::ServiceStatus& s) {
  if (s.is_fwmark()) return "FWM " + std::to_string(s.fwmark) + (s.ipv6 ? " IPv6" : "");
  return std::string(s.protocol == Protocol::tcp ? "TCP " : "UDP ") + s.address.to_string();
}

// Counters and rates shared by services and reals: metric suffixes in the
// order of control::kTrafficFields and kRateFields.
constexpr const char* kTraffic[] = {"connections_total", "in_packets_total", "out_packets_total",
                                    "in_bytes_total", "out_bytes_total"};
constexpr const char* kRates[] = {"connections_per_second", "in_packets_per_second",
                                  "out_packets_per_second", "in_bytes_per_second",
                                  "out_bytes_per_second"};
static_assert(std::size(kTraffic) == std::size(control::kTrafficFields));
static_assert(std::size(kRates) == std::size(control::kRateFields));
constexpr const char* kTrafficHelp[] = {
    "Connections scheduled.", "Packets from clients.", "Packets to clients.",
    "Bytes from clients.", "Bytes to clients."};
constexpr const char* kRateHelp[] = {
    "Connections per second (IPVS 2-second estimator).",
    "Packets per second from clients.", "Packets per second to clients.",
    "Bytes per second from clients.", "Bytes per second to clients."};

void declare_traffic(Exposition& e, const std::string& prefix, const char* who) {
  for (std::size_t i = 0; i < std::size(kTraffic); ++i)
    e.family(prefix + kTraffic[i], "counter", std::string(kTrafficHelp[i]) + " Per " + who + ".");
  for (std::size_t i = 0; i < std::size(kRates); ++i)
    e.family(prefix + kRates[i], "gauge", std::string(kRateHelp[i]) + " Per " + who + ".");
}

void traffic(Exposition& e, const std::string& prefix, const Labels& l, const control::Traffic& stats,
             const control::Rates& rates) {
  for (std::size_t i = 0; i < std::size(kTraffic); ++i)
    e.sample(prefix + kTraffic[i], l, stats.*control::kTrafficFields[i].value);
  for (std::size_t i = 0; i < std::size(kRates); ++i)
    e.sample(prefix + kRates[i], l, rates.*control::kRateFields[i].value);
}

// Engine verdict counters without a label of their own: {counter name
// (control::kCounterFields), metric, help}.
struct Plain {
  const char* key;
  const char* name;
  const char* help;
};
constexpr Plain kEngine[] = {
    {"packets", "vsd_packets_total", "Packets the engine was given."},
    {"unsupported", "vsd_unsupported_packets_total",
     "Packets of a protocol vsd does not handle (not TCP, UDP, ICMP, ICMPv6)."},
    {"reply_no_connection", "vsd_reply_no_connection_packets_total",
     "Packets from a real server matching no connection."},
    {"conns_created", "vsd_connections_created_total", "Connection entries created."},
    {"conns_expired", "vsd_connections_expired_total", "Connection entries expired."},
    {"templates_created", "vsd_templates_created_total", "Persistence templates created."},
    {"ops_datagrams", "vsd_ops_datagrams_total", "Datagrams scheduled one-packet (ops)."},
    {"nodest_flushed", "vsd_nodest_flushed_total",
     "Connections expired because their real server went away (expire_nodest_conn)."},
    {"tunneled", "vsd_tunneled_packets_total", "Packets sent IP-in-IP to a real server (TUN)."},
    {"direct_routed", "vsd_direct_routed_packets_total",
     "Packets sent unchanged to a real server's MAC (DR)."},
    {"icmp_translated", "vsd_icmp_translated_packets_total",
     "ICMP errors about a connection passed to its other side."},
    {"icmp_passed", "vsd_icmp_passed_packets_total", "Other ICMP packets accepted untouched."},
    {"transmit_sent", "vsd_transmit_sent_packets_total",
     "Packets vsd sent itself (TUN, DR, ICMP answers) instead of by queue verdict."},
    {"transmit_errors", "vsd_transmit_errors_total",
     "Packets vsd failed to send itself (see the log for the errno)."},
    {"kernel_decided", "vsd_kernel_decided_packets_total",
     "Packets answered with a decision for the kernel fast path (the kernel carries the rest)."},
    {"kernel_adopted", "vsd_kernel_adopted_flows_total",
     "Flows learnt from the kernel (after a restart, lost events, or a peer's sync)."},
    {"sloppy_adopted", "vsd_sloppy_adopted_flows_total",
     "Mid-stream TCP flows scheduled by sloppy_tcp (moved here from another director)."},
    {"drop_entry", "vsd_defence_evicted_entries_total",
     "Embryonic connection entries evicted by drop_entry (flood defence)."},
    {"secure_tcp_expired", "vsd_defence_secure_tcp_expired_total",
     "Embryonic entries ended by secure_tcp's short SYN_RECV/SYNACK timeout (flood defence)."},
    {"icmp_rate_limited", "vsd_icmp_rate_limited_total",
     "ICMP answers vsd did not send: over 1000 per second (burst 50)."}};
// tun_too_big / tun_ttl_expired / dr_too_big: dropped (with DF) after answering the client with ICMP.
// no_route: DR MAC or TUN outer source not known yet.
// drop_packet: dropped by the drop_packet defence; share_full: the service held its table_share.
constexpr const char* kDropReasons[] = {"no_connection", "no_destination", "table_full",
                                        "key_collision", "no_route", "tun_too_big", "dr_too_big",
                                        "tun_ttl_expired", "tun_failed", "drop_packet", "share_full"};

// Per NFQUEUE socket, in the order of control::kQueueFields: {metric, type, help}.
struct QueueMetric {
  const char* name;
  const char* type;
  const char* help;
};
constexpr QueueMetric kQueue[] = {
    {"vsd_queue_received_packets_total", "counter", "Packets read from the queue."},
    {"vsd_queue_batches_total", "counter", "Receive batches read from the queue."},
    {"vsd_queue_enobufs_total", "counter",
     "ENOBUFS on the queue socket: the kernel dropped packets for want of buffer."},
    {"vsd_queue_recv_errors_total", "counter", "Receive errors on the queue socket."},
    {"vsd_queue_verdict_errors_total", "counter", "Verdicts the kernel refused."},
    {"vsd_queue_send_errors_total", "counter", "Send errors on the queue socket."},
    {"vsd_queue_truncated_packets_total", "counter", "Packets the kernel copied only in part."},
    {"vsd_queue_kernel_queue_dropped_total", "counter",
     "Packets the kernel dropped because the queue was full."},
    {"vsd_queue_kernel_user_dropped_total", "counter",
     "Packets the kernel failed to send to vsd (netlink buffer full)."},
    {"vsd_queue_kernel_waiting_packets", "gauge", "Packets waiting in the kernel for a verdict."}};
static_assert(std::size(kQueue) == std::size(control::kQueueFields));

std::uint64_t counter(const control::Counters& c, std::string_view name) {
  for (const auto& f : control::kCounterFields)
    if (name == f.name) return c.*f.value;
  return 0;
}

void daemon_metrics(Exposition& e, const control::Status& status) {
  e.family("vsd_info", "gauge", "vsd version and kernel queue form, as labels.");
  e.family("vsd_uptime_seconds", "gauge", "Seconds since vsd started.");
  e.family("vsd_connections", "gauge", "Entries in the connection table (templates included).");
  e.family("vsd_connections_max", "gauge", "Capacity of the connection table.");
  e.sample("vsd_info", {{"version", status.version}, {"queue_form", status.queue_form}}, 1);
  e.sample("vsd_uptime_seconds", {}, status.uptime_s);
  e.sample("vsd_connections", {}, status.connections);
  e.sample("vsd_connections_max", {}, status.max_connections);

  const control::Counters& c = status.counters;
  e.family("vsd_packets_total", "counter", kEngine[0].help);
  e.family("vsd_malformed_packets_total", "counter", "Packets dropped as malformed, by reason.");
  e.family("vsd_dropped_packets_total", "counter",
           "Packets dropped by the engine, by reason (malformed ones excepted).");
  for (std::size_t i = 1; i < std::size(kEngine); ++i) e.family(kEngine[i].name, "counter", kEngine[i].help);
  e.sample("vsd_packets_total", {}, c.packets);
  for (const auto& [reason, n] : c.malformed) e.sample("vsd_malformed_packets_total", {{"reason", reason}}, n);
  for (const char* r : kDropReasons) e.sample("vsd_dropped_packets_total", {{"reason", r}}, counter(c, r));
  for (std::size_t i = 1; i < std::size(kEngine); ++i) e.sample(kEngine[i].name, {}, counter(c, kEngine[i].key));
}

void queue_metrics(Exposition& e, const control::Status& status) {
  for (const auto& f : kQueue) e.family(f.name, f.type, f.help);
  for (const auto& q : status.queues) {
    Labels l = {{"queue", std::to_string(q.queue)}};
    for (std::size_t i = 0; i < std::size(kQueue); ++i)
      e.sample(kQueue[i].name, l, q.*control::kQueueFields[i].value);
  }
}

void service_metrics(Exposition& e, const control::Status& status) {
  declare_traffic(e, "vsd_service_", "virtual service");
  declare_traffic(e, "vsd_real_", "real server");
  e.family("vsd_real_active_connections", "gauge", "Active (established TCP) connections.");
  e.family("vsd_real_inactive_connections", "gauge", "Inactive connections (other TCP states, UDP).");
  e.family("vsd_real_persistent_connections", "gauge", "Persistence templates pointing at the real server.");
  e.family("vsd_real_weight", "gauge", "Scheduling weight (0: quiesced).");
  e.family("vsd_real_overloaded", "gauge", "1 while the real server is over its upper threshold.");
  e.family("vsd_real_up", "gauge", "Health check state: 1 up, 0 down.");
  // `service` (ipvsadm's "TCP 192.0.2.10:80") and `real` stay for existing
  // queries; the separate labels are node_exporter's, so vsd's series join
  // its node_ipvs_* ones (metrics_exposition.hpp).
  for (const auto& s : status.services) {
    const std::string svc = service_label(s);
    Labels sl = {{"service", svc}};
    for (auto& kv : ipvs_service_labels(s)) sl.push_back(std::move(kv));
    traffic(e, "vsd_service_", sl, s.stats, s.rates);
    for (const auto& r : s.reals) {
      Labels l = {{"service", svc}, {"real", r.address.to_string()}, {"forward", to_string(r.forward)}};
      for (auto& kv : ipvs_real_labels(s, r)) l.push_back(std::move(kv));
      traffic(e, "vsd_real_", l, r.stats, r.rates);
      e.sample("vsd_real_active_connections", l, r.active_conns);
      e.sample("vsd_real_inactive_connections", l, r.inactive_conns);
      e.sample("vsd_real_persistent_connections", l, r.persistent_conns);
      e.sample("vsd_real_weight", l, r.weight);
      e.sample("vsd_real_overloaded", l, r.overloaded);
      // Only while health checks run: an unchecked server has no sample.
      if (r.health != control::Health::unchecked)
        e.sample("vsd_real_up", l, r.health == control::Health::up);
    }
  }
}

}  // namespace

void Exposition::family(const std::string& name, const char* type, const std::string& help) {
  index_.emplace(name, families_.size());
  families_.push_back({name, type, help, {}});
}

std::string& Exposition::begin_sample(const std::string& name, const Labels& labels) {
  auto& f = families_.at(index_.at(name));
  f.samples += name;
  if (!labels.empty()) {
    f.samples += '{';
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (i) f.samples += ',';
      f.samples += labels[i].first + "=\"" + escape_label_value(labels[i].second) + '"';
    }
    f.samples += '}';
  }
  return f.samples;
}

void Exposition::sample_integer(const std::string& name, const Labels& labels, std::uint64_t value) {
  begin_sample(name, labels) += ' ' + std::to_string(value) + '\n';
}

void Exposition::sample(const std::string& name, const Labels& labels, double value) {
  char buf[64];
  // Shortest text that reads back as the same double (Go's 'g', -1).
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  begin_sample(name, labels) += ' ' + (ec == std::errc() ? std::string(buf, end) : std::string("NaN")) + '\n';
}

std::string Exposition::str() const {
  std::string out;
  for (const auto& f : families_) {
    if (f.samples.empty()) continue;  // no HELP for a family with nothing to show
    out += "# HELP " + f.name + ' ' + f.help + '\n';
    out += "# TYPE " + f.name + ' ' + f.type + '\n';
    out += f.samples;
  }
  return out;
}

double unix_now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string escape_label_value(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string render_metrics(const control::Status& status, const MetricsExtras& extras) {
  Exposition e;
  daemon_metrics(e, status);
  if (extras.reload) reload_metrics(e, *extras.reload);
  queue_metrics(e, status);
  service_metrics(e, status);
  ipvs_metrics(e, status, extras.ipvs_totals);
  if (extras.process) process_metrics(e, *extras.process);
  return e.str();
}

}  // namespace vsd
