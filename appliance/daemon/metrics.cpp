#include "appliance/daemon/metrics.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <utility>
#include <vector>

namespace vsd {
namespace {

using nlohmann::json;
using Labels = std::vector<std::pair<std::string, std::string>>;

// The format wants every sample of a family contiguous after its HELP/TYPE,
// but the status JSON is organised per service. So samples are collected per
// family and written out in the order the families were declared.
class Exposition {
 public:
  void family(const std::string& name, const char* type, const char* help) {
    index_.emplace(name, families_.size());
    families_.push_back({name, type, help, {}});
  }

  // Skips values the status does not carry (absent or not a number).
  void sample(const std::string& name, const Labels& labels, const json* value) {
    if (value == nullptr || (!value->is_number() && !value->is_boolean())) return;
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
    f.samples += ' ' + number(*value) + '\n';
  }

  std::string str() const {
    std::string out;
    for (const auto& f : families_) {
      if (f.samples.empty()) continue;  // no HELP for a family with nothing to show
      out += "# HELP " + f.name + ' ' + f.help + '\n';
      out += "# TYPE " + f.name + ' ' + f.type + '\n';
      out += f.samples;
    }
    return out;
  }

 private:
  static std::string number(const json& v) {
    if (v.is_boolean()) return v.get<bool>() ? "1" : "0";
    if (v.is_number_unsigned()) return std::to_string(v.get<std::uint64_t>());
    if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
    double d = v.get<double>();
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", d);
    return buf;
  }

  struct Family {
    std::string name, type, help, samples;
  };
  std::vector<Family> families_;
  std::map<std::string, std::size_t> index_;
};

const json* field(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

// As ipvsadm lists it: "TCP 192.0.2.10:80", "FWM 7" ("FWM 7 IPv6" for the
// v6 one, as IPVS allows the same mark for both families).
std::string service_label(const json& s) {
  if (auto* mark = field(s, "fwmark")) {
    std::string out = "FWM " + std::to_string(mark->get<std::uint64_t>());
    if (s.value("ipv6", false)) out += " IPv6";
    return out;
  }
  std::string proto = s.value("protocol", "");
  for (auto& c : proto) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return proto + ' ' + s.value("address", "");
}

// Counters and rates shared by services and reals: {json key, metric suffix}.
constexpr std::pair<const char*, const char*> kTraffic[] = {
    {"conns", "connections_total"},    {"inpkts", "in_packets_total"},
    {"outpkts", "out_packets_total"},  {"inbytes", "in_bytes_total"},
    {"outbytes", "out_bytes_total"}};
constexpr std::pair<const char*, const char*> kRates[] = {
    {"cps", "connections_per_second"},  {"inpps", "in_packets_per_second"},
    {"outpps", "out_packets_per_second"}, {"inbps", "in_bytes_per_second"},
    {"outbps", "out_bytes_per_second"}};
constexpr const char* kTrafficHelp[] = {
    "Connections scheduled.", "Packets from clients.", "Packets to clients.",
    "Bytes from clients.", "Bytes to clients."};
constexpr const char* kRateHelp[] = {
    "Connections per second (IPVS 2-second estimator).",
    "Packets per second from clients.", "Packets per second to clients.",
    "Bytes per second from clients.", "Bytes per second to clients."};

void declare_traffic(Exposition& e, const std::string& prefix, const char* who) {
  for (std::size_t i = 0; i < std::size(kTraffic); ++i)
    e.family(prefix + kTraffic[i].second, "counter",
             (std::string(kTrafficHelp[i]) + " Per " + who + ".").c_str());
  for (std::size_t i = 0; i < std::size(kRates); ++i)
    e.family(prefix + kRates[i].second, "gauge",
             (std::string(kRateHelp[i]) + " Per " + who + ".").c_str());
}

void traffic(Exposition& e, const std::string& prefix, const Labels& l, const json& obj) {
  const json* stats = field(obj, "stats");
  const json* rates = field(obj, "rates");
  for (const auto& [key, suffix] : kTraffic)
    e.sample(prefix + suffix, l, stats ? field(*stats, key) : nullptr);
  for (const auto& [key, suffix] : kRates)
    e.sample(prefix + suffix, l, rates ? field(*rates, key) : nullptr);
}

// Engine verdict counters without a label of their own: {json key, metric, help}.
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
     "Packets vsd failed to send itself (see the log for the errno)."}};
// tun_too_big / tun_ttl_expired / dr_too_big: dropped (with DF) after answering the client with ICMP.
// no_route: DR MAC or TUN outer source not known yet.
constexpr const char* kDropReasons[] = {"no_connection", "no_destination", "table_full",
                                        "key_collision", "no_route", "tun_too_big", "dr_too_big",
                                        "tun_ttl_expired", "tun_failed"};

// Per NFQUEUE socket: {json key, metric, type, help}.
struct QueueField {
  const char* key;
  const char* name;
  const char* type;
  const char* help;
};
constexpr QueueField kQueue[] = {
    {"received", "vsd_queue_received_packets_total", "counter", "Packets read from the queue."},
    {"batches", "vsd_queue_batches_total", "counter", "Receive batches read from the queue."},
    {"enobufs", "vsd_queue_enobufs_total", "counter",
     "ENOBUFS on the queue socket: the kernel dropped packets for want of buffer."},
    {"recv_errors", "vsd_queue_recv_errors_total", "counter", "Receive errors on the queue socket."},
    {"verdict_errors", "vsd_queue_verdict_errors_total", "counter", "Verdicts the kernel refused."},
    {"send_errors", "vsd_queue_send_errors_total", "counter", "Send errors on the queue socket."},
    {"truncated", "vsd_queue_truncated_packets_total", "counter",
     "Packets the kernel copied only in part."},
    {"kernel_queue_dropped", "vsd_queue_kernel_queue_dropped_total", "counter",
     "Packets the kernel dropped because the queue was full."},
    {"kernel_user_dropped", "vsd_queue_kernel_user_dropped_total", "counter",
     "Packets the kernel failed to send to vsd (netlink buffer full)."},
    {"kernel_waiting", "vsd_queue_kernel_waiting_packets", "gauge",
     "Packets waiting in the kernel for a verdict."}};

void daemon_metrics(Exposition& e, const json& status) {
  e.family("vsd_info", "gauge", "vsd version and kernel queue form, as labels.");
  e.family("vsd_uptime_seconds", "gauge", "Seconds since vsd started.");
  e.family("vsd_connections", "gauge", "Entries in the connection table (templates included).");
  e.family("vsd_connections_max", "gauge", "Capacity of the connection table.");
  if (status.contains("version")) {
    static const json one = 1;
    e.sample("vsd_info", {{"version", status.value("version", "")},
                          {"queue_form", status.value("queue_form", "")}}, &one);
  }
  e.sample("vsd_uptime_seconds", {}, field(status, "uptime_s"));
  e.sample("vsd_connections", {}, field(status, "connections"));
  e.sample("vsd_connections_max", {}, field(status, "max_connections"));

  const json* c = field(status, "counters");
  e.family("vsd_packets_total", "counter", kEngine[0].help);
  e.family("vsd_malformed_packets_total", "counter", "Packets dropped as malformed, by reason.");
  e.family("vsd_dropped_packets_total", "counter",
           "Packets dropped by the engine, by reason (malformed ones excepted).");
  for (std::size_t i = 1; i < std::size(kEngine); ++i) e.family(kEngine[i].name, "counter", kEngine[i].help);
  if (c == nullptr) return;
  e.sample("vsd_packets_total", {}, field(*c, "packets"));
  if (const json* m = field(*c, "malformed"); m && m->is_object())
    for (const auto& [reason, v] : m->items()) e.sample("vsd_malformed_packets_total", {{"reason", reason}}, &v);
  for (const char* r : kDropReasons) e.sample("vsd_dropped_packets_total", {{"reason", r}}, field(*c, r));
  for (std::size_t i = 1; i < std::size(kEngine); ++i) e.sample(kEngine[i].name, {}, field(*c, kEngine[i].key));
}

void queue_metrics(Exposition& e, const json& status) {
  for (const auto& f : kQueue) e.family(f.name, f.type, f.help);
  const json* queues = field(status, "queues");
  if (!queues || !queues->is_array()) return;
  for (const auto& q : *queues) {
    const json* num = field(q, "queue");
    Labels l = {{"queue", num && num->is_number() ? std::to_string(num->get<std::uint64_t>()) : ""}};
    for (const auto& f : kQueue) e.sample(f.name, l, field(q, f.key));
  }
}

void service_metrics(Exposition& e, const json& status) {
  declare_traffic(e, "vsd_service_", "virtual service");
  declare_traffic(e, "vsd_real_", "real server");
  e.family("vsd_real_active_connections", "gauge", "Active (established TCP) connections.");
  e.family("vsd_real_inactive_connections", "gauge", "Inactive connections (other TCP states, UDP).");
  e.family("vsd_real_persistent_connections", "gauge", "Persistence templates pointing at the real server.");
  e.family("vsd_real_weight", "gauge", "Scheduling weight (0: quiesced).");
  e.family("vsd_real_overloaded", "gauge", "1 while the real server is over its upper threshold.");
  e.family("vsd_real_up", "gauge", "Health check state: 1 up, 0 down.");
  const json* services = field(status, "services");
  if (!services || !services->is_array()) return;
  for (const auto& s : *services) {
    const std::string svc = service_label(s);
    traffic(e, "vsd_service_", {{"service", svc}}, s);
    const json* reals = field(s, "reals");
    if (!reals || !reals->is_array()) continue;
    for (const auto& r : *reals) {
      Labels l = {{"service", svc}, {"real", r.value("address", "")}, {"forward", r.value("forward", "")}};
      traffic(e, "vsd_real_", l, r);
      e.sample("vsd_real_active_connections", l, field(r, "active_conns"));
      e.sample("vsd_real_inactive_connections", l, field(r, "inactive_conns"));
      e.sample("vsd_real_persistent_connections", l, field(r, "persistent_conns"));
      e.sample("vsd_real_weight", l, field(r, "weight"));
      e.sample("vsd_real_overloaded", l, field(r, "overloaded"));
      // Only while health checks run: no "health" field, no sample.
      if (const json* h = field(r, "health"); h && h->is_string()) {
        static const json up = 1, down = 0;
        if (*h == "up") e.sample("vsd_real_up", l, &up);
        if (*h == "down") e.sample("vsd_real_up", l, &down);
      }
    }
  }
}

}  // namespace

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

std::string render_metrics(const nlohmann::json& status) {
  Exposition e;
  daemon_metrics(e, status);
  queue_metrics(e, status);
  service_metrics(e, status);
  return e.str();
}

}  // namespace vsd
