// The one place where the status's JSON keys are written and read.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>

#include "appliance/control/status.hpp"

namespace vsd::control {

const Field<Counters> kCounterFields[31] = {
    {"packets", &Counters::packets},
    {"unsupported", &Counters::unsupported},
    {"no_connection", &Counters::no_connection},
    {"no_destination", &Counters::no_destination},
    {"table_full", &Counters::table_full},
    {"key_collision", &Counters::key_collision},
    {"reply_no_connection", &Counters::reply_no_connection},
    {"conns_created", &Counters::conns_created},
    {"conns_expired", &Counters::conns_expired},
    {"templates_created", &Counters::templates_created},
    {"ops_datagrams", &Counters::ops_datagrams},
    {"nodest_flushed", &Counters::nodest_flushed},
    {"tunneled", &Counters::tunneled},
    {"direct_routed", &Counters::direct_routed},
    {"tun_too_big", &Counters::tun_too_big},
    {"dr_too_big", &Counters::dr_too_big},
    {"tun_ttl_expired", &Counters::tun_ttl_expired},
    {"tun_failed", &Counters::tun_failed},
    {"no_route", &Counters::no_route},
    {"icmp_translated", &Counters::icmp_translated},
    {"icmp_passed", &Counters::icmp_passed},
    {"transmit_sent", &Counters::transmit_sent},
    {"transmit_errors", &Counters::transmit_errors},
    {"kernel_decided", &Counters::kernel_decided},
    {"kernel_adopted", &Counters::kernel_adopted},
    {"sloppy_adopted", &Counters::sloppy_adopted},
    {"drop_entry", &Counters::drop_entry},
    {"drop_packet", &Counters::drop_packet},
    {"share_full", &Counters::share_full},
    {"secure_tcp_expired", &Counters::secure_tcp_expired},
    {"icmp_rate_limited", &Counters::icmp_rate_limited},
};

const char* to_string(Health h) {
  switch (h) {
    case Health::up: return "up";
    case Health::down: return "down";
    case Health::unchecked: break;
  }
  return "unchecked";
}

namespace {

using nlohmann::json;

// A JSON number that T holds: a float outside T converts with undefined
// behaviour, an integer outside it wraps.
template <class T>
bool fits(const json& v) {
  using L = std::numeric_limits<T>;
  if (v.is_number_float()) {
    const double d = v.get<double>(), top = std::ldexp(1.0, L::digits);
    return L::is_signed ? d >= -top && d < top : d > -1.0 && d < top;
  }
  if (v.is_number_unsigned()) return v.get<std::uint64_t>() <= static_cast<std::uint64_t>(L::max());
  if (v.is_number_integer()) {
    const std::int64_t i = v.get<std::int64_t>();
    return L::is_signed ? i >= static_cast<std::int64_t>(L::lowest()) && i <= static_cast<std::int64_t>(L::max())
                        : i >= 0 && static_cast<std::uint64_t>(i) <= static_cast<std::uint64_t>(L::max());
  }
  return true;
}

// Lenient readers: absent or mistyped fields (numbers out of range too)
// keep the default.
template <class T>
void get(const json& j, const char* key, T& out) {
  if (!j.is_object()) return;
  auto it = j.find(key);
  if (it == j.end()) return;
  if constexpr (std::is_same_v<T, bool>) {
    if (it->is_boolean()) out = it->get<bool>();
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (it->is_string()) out = it->get<std::string>();
  } else {
    if (it->is_number() && fits<T>(*it)) out = it->get<T>();
  }
}

const json& member(const json& j, const char* key) {
  static const json null;
  if (!j.is_object()) return null;
  auto it = j.find(key);
  return it == j.end() ? null : *it;
}

void get_endpoint(const json& j, const char* key, Endpoint& out) {
  std::string text;
  get(j, key, text);
  if (auto e = Endpoint::parse(text)) out = *e;
}

// Traffic and Rates alike: a JSON object of their fields.
template <class T, std::size_t N>
json fields_json(const T& value, const Field<T> (&fields)[N]) {
  json j = json::object();
  for (const auto& f : fields) j[f.name] = value.*f.value;
  return j;
}
template <class T, std::size_t N>
T fields_from(const json& j, const Field<T> (&fields)[N]) {
  T value;
  for (const auto& f : fields) get(j, f.name, value.*f.value);
  return value;
}
json traffic_json(const Traffic& t) { return fields_json(t, kTrafficFields); }
Traffic traffic_from(const json& j) { return fields_from(j, kTrafficFields); }
json rates_json(const Rates& r) { return fields_json(r, kRateFields); }
Rates rates_from(const json& j) { return fields_from(j, kRateFields); }

ForwardMethod forward_from(const json& j) {
  std::string f;
  get(j, "forward", f);
  return f == "dr" ? ForwardMethod::dr : f == "tun" ? ForwardMethod::tun : ForwardMethod::nat;
}

json real_json(const RealStatus& r) {
  json j = {{"address", r.address.to_string()},
            {"forward", to_string(r.forward)},
            {"weight", r.weight},
            {"upper_threshold", r.upper_threshold},
            {"lower_threshold", r.lower_threshold},
            {"active_conns", r.active_conns},
            {"inactive_conns", r.inactive_conns},
            {"persistent_conns", r.persistent_conns},
            {"overloaded", r.overloaded},
            {"stats", traffic_json(r.stats)},
            {"rates", rates_json(r.rates)}};
  if (r.health != Health::unchecked) j["health"] = to_string(r.health);
  if (r.removed) j["removed"] = true;
  return j;
}
RealStatus real_from(const json& j) {
  RealStatus r;
  get_endpoint(j, "address", r.address);
  r.forward = forward_from(j);
  get(j, "weight", r.weight);
  get(j, "upper_threshold", r.upper_threshold);
  get(j, "lower_threshold", r.lower_threshold);
  get(j, "active_conns", r.active_conns);
  get(j, "inactive_conns", r.inactive_conns);
  get(j, "persistent_conns", r.persistent_conns);
  get(j, "overloaded", r.overloaded);
  std::string health;
  get(j, "health", health);
  r.health = health == "up" ? Health::up : health == "down" ? Health::down : Health::unchecked;
  get(j, "removed", r.removed);
  r.stats = traffic_from(member(j, "stats"));
  r.rates = rates_from(member(j, "rates"));
  return r;
}

json service_json(const ServiceStatus& s) {
  json reals = json::array();
  for (const auto& r : s.reals) reals.push_back(real_json(r));
  json j = {{"protocol", to_string(s.protocol)},
            {"scheduler", s.scheduler},
            {"flags", s.flags},
            {"persistent", s.persistent},
            {"netmask", s.netmask},
            {"reals", std::move(reals)},
            {"stats", traffic_json(s.stats)},
            {"rates", rates_json(s.rates)}};
  if (s.is_fwmark()) {
    j["fwmark"] = s.fwmark;
    j["ipv6"] = s.ipv6;
  } else {
    j["address"] = s.address.to_string();
  }
  if (s.sorry_server) j["sorry_server"] = s.sorry_server->to_string();
  return j;
}
ServiceStatus service_from(const json& j) {
  ServiceStatus s;
  std::string proto;
  get(j, "protocol", proto);
  s.protocol = proto == "udp" ? Protocol::udp : Protocol::tcp;
  get(j, "fwmark", s.fwmark);
  get_endpoint(j, "address", s.address);
  s.ipv6 = s.is_fwmark() ? false : !s.address.addr.is_v4();
  if (s.is_fwmark()) get(j, "ipv6", s.ipv6);
  get(j, "scheduler", s.scheduler);
  for (const auto& f : member(j, "flags"))
    if (f.is_string()) s.flags.push_back(f.get<std::string>());
  get(j, "persistent", s.persistent);
  get(j, "netmask", s.netmask);
  Endpoint sorry;
  std::string sorry_text;
  get(j, "sorry_server", sorry_text);
  if (auto e = Endpoint::parse(sorry_text)) s.sorry_server = *e;
  s.stats = traffic_from(member(j, "stats"));
  s.rates = rates_from(member(j, "rates"));
  for (const auto& r : member(j, "reals")) s.reals.push_back(real_from(r));
  return s;
}

json counters_json(const Counters& c) {
  json j = json::object();
  json malformed = json::object();
  for (const auto& [reason, n] : c.malformed) malformed[reason] = n;
  for (const auto& f : kCounterFields) {
    j[f.name] = c.*f.value;
    if (std::string_view(f.name) == "packets") j["malformed"] = malformed;
  }
  return j;
}
Counters counters_from(const json& j) {
  Counters c;
  for (const auto& f : kCounterFields) get(j, f.name, c.*f.value);
  const json& m = member(j, "malformed");
  if (m.is_object())
    for (const auto& [reason, n] : m.items())
      if (n.is_number()) c.malformed.emplace_back(reason, n.get<std::uint64_t>());
  return c;
}

json queue_json(const QueueStatus& q) {
  json j = fields_json(q, kQueueFields);
  j["queue"] = q.queue;
  return j;
}
QueueStatus queue_from(const json& j) {
  QueueStatus q = fields_from(j, kQueueFields);
  get(j, "queue", q.queue);
  return q;
}

json sync_daemon_json(const SyncDaemonStatus& d) {
  return {{"state", d.state},         {"mcast_interface", d.mcast_interface},
          {"syncid", d.syncid},       {"port", d.port},
          {"peer", d.peer},           {"reason", d.reason},
          {"sent_entries", d.sent_entries}, {"received_entries", d.received_entries}};
}
SyncDaemonStatus sync_daemon_from(const json& j) {
  SyncDaemonStatus d;
  get(j, "state", d.state);
  get(j, "mcast_interface", d.mcast_interface);
  get(j, "syncid", d.syncid);
  get(j, "port", d.port);
  get(j, "peer", d.peer);
  get(j, "reason", d.reason);
  get(j, "sent_entries", d.sent_entries);
  get(j, "received_entries", d.received_entries);
  return d;
}

const char* protocol_name(std::uint8_t p) { return p == 6 ? "tcp" : p == 17 ? "udp" : "ip"; }

}  // namespace

json to_json(const Status& s) {
  json services = json::array();
  for (const auto& svc : s.services) services.push_back(service_json(svc));
  json queues = json::array();
  for (const auto& q : s.queues) queues.push_back(queue_json(q));
  json daemons = json::array();
  for (const auto& d : s.sync_daemons) daemons.push_back(sync_daemon_json(d));
  return {{"version", s.version},
          {"queue_form", s.queue_form},
          {"uptime_s", s.uptime_s},
          {"connections", s.connections},
          {"max_connections", s.max_connections},
          {"counters", counters_json(s.counters)},
          {"queues", std::move(queues)},
          {"timeouts", {{"tcp", s.timeouts.tcp}, {"tcpfin", s.timeouts.tcpfin}, {"udp", s.timeouts.udp}}},
          {"services", std::move(services)},
          {"sync_daemons", std::move(daemons)},
          {"health", s.health}};
}

Status status_from_json(const json& j) {
  Status s;
  get(j, "version", s.version);
  get(j, "queue_form", s.queue_form);
  get(j, "uptime_s", s.uptime_s);
  get(j, "connections", s.connections);
  get(j, "max_connections", s.max_connections);
  s.counters = counters_from(member(j, "counters"));
  for (const auto& q : member(j, "queues")) s.queues.push_back(queue_from(q));
  const json& t = member(j, "timeouts");
  get(t, "tcp", s.timeouts.tcp);
  get(t, "tcpfin", s.timeouts.tcpfin);
  get(t, "udp", s.timeouts.udp);
  for (const auto& svc : member(j, "services")) s.services.push_back(service_from(svc));
  for (const auto& d : member(j, "sync_daemons")) s.sync_daemons.push_back(sync_daemon_from(d));
  if (const json& h = member(j, "health"); !h.is_null()) s.health = h;
  return s;
}

json to_json(const ConnectionStatus& c) {
  return {{"protocol", protocol_name(c.protocol)},
          {"client", c.client.to_string()},
          {"virtual", c.virtual_address.to_string()},
          {"real", c.real.to_string()},
          {"state", c.state},
          {"expires_s", c.expires_s},
          {"is_template", c.is_template}};
}

void append_json(std::string& out, const ConnectionStatus& c) {
  // Keys in nlohmann's order (sorted); strings escaped as dump() does them.
  auto string = [&out](const std::string& s) {
    const bool plain = std::all_of(s.begin(), s.end(), [](char ch) {
      return ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\';
    });
    if (plain) {
      out += '"';
      out += s;
      out += '"';
    } else {
      out += json(s).dump(-1, ' ', false, json::error_handler_t::replace);
    }
  };
  out += "{\"client\":";
  string(c.client.to_string());
  out += ",\"expires_s\":";
  out += std::to_string(c.expires_s);
  out += c.is_template ? ",\"is_template\":true" : ",\"is_template\":false";
  out += ",\"protocol\":\"";
  out += protocol_name(c.protocol);
  out += "\",\"real\":";
  string(c.real.to_string());
  out += ",\"state\":";
  string(c.state);
  out += ",\"virtual\":";
  string(c.virtual_address.to_string());
  out += '}';
}

json to_json(const std::vector<ConnectionStatus>& connections) {
  json out = json::array();
  for (const auto& c : connections) out.push_back(to_json(c));
  return out;
}

std::vector<ConnectionStatus> connections_from_json(const json& j) {
  std::vector<ConnectionStatus> out;
  if (!j.is_array()) return out;
  for (const auto& e : j) {
    ConnectionStatus c;
    std::string proto;
    get(e, "protocol", proto);
    c.protocol = proto == "tcp" ? 6 : proto == "udp" ? 17 : 0;
    get_endpoint(e, "client", c.client);
    get_endpoint(e, "virtual", c.virtual_address);
    get_endpoint(e, "real", c.real);
    get(e, "state", c.state);
    get(e, "expires_s", c.expires_s);
    get(e, "is_template", c.is_template);
    out.push_back(c);
  }
  return out;
}

}  // namespace vsd::control
