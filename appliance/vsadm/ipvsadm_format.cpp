#include "appliance/vsadm/ipvsadm_format.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdarg>
#include <cstdio>
#include <tuple>
#include <vector>

namespace vsd {
namespace {

// printf onto a string: the layouts are ipvsadm's printf formats.
[[gnu::format(printf, 2, 3)]] void append(std::string& out, const char* fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n > 0) out.append(buf, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buf - 1));
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

using Traffic = std::array<unsigned long long, 5>;

Traffic traffic(const control::Traffic& t) {
  return {t.conns, t.inpkts, t.outpkts, t.inbytes, t.outbytes};
}
Traffic traffic(const control::Rates& r) { return {r.cps, r.inpps, r.outpps, r.inbps, r.outbps}; }

// A service and its real servers as the layouts need them.
struct Real {
  Endpoint ep;
  ForwardMethod forward = ForwardMethod::nat;
  bool down = false;  // its health check fails
  unsigned weight = 0, upper = 0, lower = 0, active = 0, inactive = 0, persist = 0;
  Traffic stats{}, rates{};
};

struct Service {
  std::uint32_t fwmark = 0;
  bool ipv6 = false;
  std::string proto;  // "tcp" / "udp"
  Endpoint ep;
  std::string sched;
  unsigned flag_bits = 0;
  bool ops = false;
  unsigned persistent = 0;
  unsigned netmask = 0;
  Traffic stats{}, rates{};
  std::vector<Real> reals;
};

Service read_service(const control::ServiceStatus& s) {
  Service out;
  out.fwmark = s.fwmark;
  out.proto = to_string(s.protocol);
  out.ep = s.address;
  out.ipv6 = s.ipv6;
  out.sched = s.scheduler;
  out.flag_bits = sched_flag_bits(s.flags);
  out.ops = std::find(s.flags.begin(), s.flags.end(), "ops") != s.flags.end();
  out.persistent = s.persistent;
  out.netmask = s.netmask;
  out.stats = traffic(s.stats);
  out.rates = traffic(s.rates);
  for (const auto& r : s.reals) {
    Real d;
    d.ep = r.address;
    if (d.ep.port == 0 && !s.is_fwmark()) d.ep.port = s.address.port;  // 0: the service's port
    d.forward = r.forward;
    d.down = r.health == control::Health::down;
    d.weight = r.weight;
    d.upper = r.upper_threshold;
    d.lower = r.lower_threshold;
    d.active = static_cast<unsigned>(r.active_conns);
    d.inactive = static_cast<unsigned>(r.inactive_conns);
    d.persist = static_cast<unsigned>(r.persistent_conns);
    d.stats = traffic(r.stats);
    d.rates = traffic(r.rates);
    out.reals.push_back(std::move(d));
  }
  return out;
}

int proto_number(const std::string& p) { return p == "tcp" ? 6 : p == "udp" ? 17 : 0; }

// libipvs's order: fwmark, family, protocol, address, port; reals by
// address then port. Unparsable entries keep their place at the end.
std::vector<Service> read_services(const control::Status& status, bool nosort) {
  std::vector<Service> out;
  for (const auto& s : status.services) out.push_back(read_service(s));
  if (nosort) return out;
  auto key = [](const Service& s) {
    return std::make_tuple(s.fwmark, s.ipv6, proto_number(s.proto), s.ep.addr, s.ep.port);
  };
  std::stable_sort(out.begin(), out.end(),
                   [&](const Service& a, const Service& b) { return key(a) < key(b); });
  for (auto& s : out)
    std::stable_sort(s.reals.begin(), s.reals.end(), [](const Real& a, const Real& b) {
      return std::tie(a.ep.addr, a.ep.port) < std::tie(b.ep.addr, b.ep.port);
    });
  return out;
}

// A fwmark service has no protocol for name lookups (IPVS reports none).
std::string name_proto(const Service& s) { return s.fwmark ? std::string() : s.proto; }

std::string endpoint_name(const Endpoint& ep, const std::string& proto, bool numeric,
                          const NameResolver& names) {
  return addrport_name(ep.addr, ep.port, proto, numeric, names);
}

// "TCP  192.0.2.10:80" (cut to 33 characters for IPv4, as ipvsadm) or
// "FWM  1"; for -S, "-t 192.0.2.10:80" or "-f 1".
std::string service_name(const Service& s, bool rule, bool numeric, const NameResolver& names) {
  if (s.fwmark) {
    if (rule) return "-f " + std::to_string(s.fwmark) + (s.ipv6 ? " -6" : "");
    return "FWM  " + std::to_string(s.fwmark) + (s.ipv6 ? " IPv6" : "");
  }
  std::string v = endpoint_name(s.ep, s.proto, numeric, names);
  if (rule) {
    const char* opt = s.proto == "tcp" ? "-t" : s.proto == "udp" ? "-u" : "--xxx-service";
    return std::string(opt) + " " + v;
  }
  std::string out;
  append(out, "%-4s %s", upper(s.proto).c_str(), v.c_str());
  if (!s.ipv6 && out.size() > 33) out.resize(33);
  return out;
}

std::string real_name(const Service& s, const Real& r, bool numeric, const NameResolver& names) {
  std::string d = endpoint_name(r.ep, name_proto(s), numeric, names);
  if (r.ep.addr.is_v4() && d.size() > 28) d.resize(28);
  return d;
}

// The persistence netmask as ipvsadm spells it, unless it is the default
// (/32, /128), which ipvsadm leaves out.
std::optional<std::string> persistence_mask(const Service& s) {
  if (!s.netmask || s.netmask == (s.ipv6 ? 128u : 32u)) return std::nullopt;
  return netmask_to_string(static_cast<std::uint8_t>(s.netmask), s.ipv6);
}

std::string flag_names(const Service& s) {
  std::string out;
  for (const auto& f : sched_flag_names(s.sched, s.flag_bits)) out += (out.empty() ? "" : ",") + f;
  return out;
}

// ipvsadm's print_largenum: 9 columns, K/M/G/T above 100 million unless --exact.
void largenum(std::string& out, unsigned long long i, bool exact) {
  if (exact) {
    int len = std::snprintf(nullptr, 0, "%llu", i);
    append(out, "%*llu", len <= 8 ? 9 : len + 1, i);
  } else if (i < 100000000ULL) {
    append(out, "%9llu", i);
  } else if (i < 1000000000ULL) {
    append(out, "%8lluK", i / 1000);
  } else if (i < 100000000000ULL) {
    append(out, "%8lluM", i / 1000000);
  } else if (i < 100000000000000ULL) {
    append(out, "%8lluG", i / 1000000000ULL);
  } else {
    append(out, "%8lluT", i / 1000000000000ULL);
  }
}

void title(std::string& out, const ListOptions& o) {
  if (o.stats)
    append(out, "%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n", "Prot LocalAddress:Port",
           "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes");
  else if (o.rate)
    append(out, "%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n", "Prot LocalAddress:Port",
           "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS");
  else if (o.thresholds)
    append(out, "%-33s %-10s %-10s %-10s %-10s\n  -> RemoteAddress:Port\n",
           "Prot LocalAddress:Port", "Uthreshold", "Lthreshold", "ActiveConn", "InActConn");
  else if (o.persistent_conn)
    append(out, "%-33s %-9s %-11s %-10s %-10s\n  -> RemoteAddress:Port\n",
           "Prot LocalAddress:Port", "Weight", "PersistConn", "ActiveConn", "InActConn");
  else
    out += "Prot LocalAddress:Port Scheduler Flags\n"
           "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n";
}

void service_entry(std::string& out, const Service& s, const ListOptions& o,
                   const NameResolver& names) {
  std::string svc = service_name(s, false, o.numeric, names);
  if (o.stats || o.rate) {
    append(out, "%-33s", svc.c_str());
    for (auto v : o.stats ? s.stats : s.rates) largenum(out, v, o.exact);
  } else {
    append(out, "%s %s", svc.c_str(), s.sched.c_str());
    if (s.flag_bits) out += " (" + flag_names(s) + ")";
    if (s.persistent) {
      append(out, " persistent %u", s.persistent);
      if (auto mask = persistence_mask(s)) out += " mask " + *mask;
    }
    if (s.ops) out += " ops";
  }
  out += "\n";
  for (const auto& r : s.reals) {
    std::string d = real_name(s, r, o.numeric, names);
    if (o.stats) {
      append(out, "  -> %-28s", d.c_str());
      for (auto v : r.stats) largenum(out, v, o.exact);
      out += "\n";
    } else if (o.rate) {
      append(out, "  -> %-28s %8llu %8llu %8llu", d.c_str(), r.rates[0], r.rates[1], r.rates[2]);
      largenum(out, r.rates[3], o.exact);
      largenum(out, r.rates[4], o.exact);
      out += "\n";
    } else if (o.thresholds) {
      append(out, "  -> %-28s %-10u %-10u %-10u %-10u\n", d.c_str(), r.upper, r.lower, r.active,
             r.inactive);
    } else if (o.persistent_conn) {
      append(out, "  -> %-28s %-9u %-11u %-10u %-10u\n", d.c_str(), r.weight, r.persist, r.active,
             r.inactive);
    } else {
      // Beyond ipvsadm: a real server whose health check fails ends with
      // "[down]"; every other line is exactly ipvsadm's.
      append(out, "  -> %-28s %-7s %-6u %-10u %-10u%s\n", d.c_str(),
             ipvsadm_forward_name(r.forward), r.weight, r.active, r.inactive,
             r.down ? " [down]" : "");
    }
  }
}

bool matches(const Service& s, const IpvsadmService& key) {
  if (key.is_fwmark()) return s.fwmark == key.fwmark && s.ipv6 == key.ipv6;
  return !s.fwmark && s.ep == key.address && s.proto == to_string(key.protocol);
}

}  // namespace

const char* ipvsadm_forward_name(ForwardMethod forward) {
  switch (forward) {
    case ForwardMethod::nat: return "Masq";
    case ForwardMethod::tun: return "Tunnel";
    case ForwardMethod::dr: return "Route";
  }
  return "?";
}

std::string format_list(const control::Status& status) {
  ListOptions numeric;
  numeric.numeric = true;
  return format_list(status, numeric, system_resolver());
}

std::string format_list(const control::Status& status, const ListOptions& opts, const NameResolver& names) {
  std::string out;
  // The IPVS version whose semantics vsd follows; scripts match this line.
  // `vsadm --version` gives vsd's own.
  append(out, "IP Virtual Server version 1.2.1 (size=%u)\n", status.max_connections);
  title(out, opts);
  for (const auto& s : read_services(status, opts.nosort)) service_entry(out, s, opts, names);
  return out;
}

std::optional<std::string> format_list_service(const control::Status& status, const IpvsadmService& service,
                                               const ListOptions& opts, const NameResolver& names) {
  for (const auto& s : read_services(status, opts.nosort)) {
    if (!matches(s, service)) continue;
    std::string out;
    title(out, opts);
    service_entry(out, s, opts, names);
    return out;
  }
  return std::nullopt;
}

std::string format_save(const control::Status& status, bool numeric, const NameResolver& names) {
  std::string out;
  for (const auto& s : read_services(status, false)) {
    std::string svc = service_name(s, true, numeric, names);
    out += "-A " + svc + " -s " + s.sched;
    if (s.persistent) {
      append(out, " -p %u", s.persistent);
      if (auto mask = persistence_mask(s)) out += " -M " + *mask;
    }
    if (s.ops) out += " -o";
    if (s.flag_bits) out += " -b " + flag_names(s);
    out += "\n";
    for (const auto& r : s.reals) {
      std::string d = endpoint_name(r.ep, name_proto(s), numeric, names);
      const char* sw = r.forward == ForwardMethod::nat ? "-m" : r.forward == ForwardMethod::tun ? "-i" : "-g";
      append(out, "-a %s -r %s %s -w %u", svc.c_str(), d.c_str(), sw, r.weight);
      // 1.31 names the (only) tunnel type vsd has, so -R gets it back.
      if (r.forward == ForwardMethod::tun) out += " --tun-type ipip";
      out += "\n";
    }
  }
  return out;
}

std::string format_timeout(const control::Status& status) {
  std::string out;
  append(out, "Timeout (tcp tcpfin udp): %u %u %u\n", status.timeouts.tcp, status.timeouts.tcpfin,
         status.timeouts.udp);
  return out;
}

std::string format_daemons(const control::Status& status) {
  std::string out;
  for (const auto& d : status.sync_daemons)
    append(out, "%s sync daemon (mcast=%s, syncid=%u, port=%u)\n", d.state.c_str(),
           d.mcast_interface.c_str(), d.syncid, d.port);
  return out;
}

std::string format_connections_head(const ListOptions& opts) {
  std::string out = "IPVS connection entries\n";
  if (opts.persistent_conn)
    append(out, "pro expire %-11s %-18s %-18s %-18s %-16s %s\n", "state", "source", "virtual",
           "destination", "pe name", "pe_data");
  else
    append(out, "pro expire %-11s %-18s %-18s %s\n", "state", "source", "virtual", "destination");
  return out;
}

std::string format_connection_rows(const std::vector<control::ConnectionStatus>& connections,
                                   const ListOptions& opts, const NameResolver& names) {
  std::string out;
  for (const auto& c : connections) {
    const std::string proto = c.protocol == 6 ? "tcp" : c.protocol == 17 ? "udp" : "ip";
    auto name = [&](const Endpoint& e) { return endpoint_name(e, proto, opts.numeric, names); };
    std::string state = upper(c.state);
    if (state.empty() && c.is_template) state = "NONE";
    char expire[24];
    std::snprintf(expire, sizeof expire, "%02u:%02u", c.expires_s / 60, c.expires_s % 60);
    append(out, "%-3s %-6s %-11s %-18s %-18s %s\n", upper(proto).c_str(), expire, state.c_str(),
           name(c.client).c_str(), name(c.virtual_address).c_str(), name(c.real).c_str());
  }
  return out;
}

std::string format_connections(const std::vector<control::ConnectionStatus>& connections,
                               const ListOptions& opts, const NameResolver& names) {
  return format_connections_head(opts) + format_connection_rows(connections, opts, names);
}

std::string ConnectionsJson::begin() const { return "{\n  \"connections\": ["; }

std::string ConnectionsJson::add(const std::vector<control::ConnectionStatus>& connections) {
  std::string out;
  for (const auto& c : connections) {
    out += any_ ? ",\n    " : "\n    ";
    any_ = true;
    // nlohmann's dump(2) of the entry, every line indented by 4 more: what
    // it prints for the entry inside the whole document.
    const std::string entry =
        control::to_json(c).dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
    for (char ch : entry) {
      out += ch;
      if (ch == '\n') out += "    ";
    }
  }
  return out;
}

std::string ConnectionsJson::end(const std::string& error) const {
  std::string out = any_ ? "\n  ]" : "]";
  if (!error.empty())
    out += ",\n  \"error\": " +
           nlohmann::json(error).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  out += error.empty() ? ",\n  \"ok\": true\n}\n" : ",\n  \"ok\": false\n}\n";
  return out;
}

}  // namespace vsd
