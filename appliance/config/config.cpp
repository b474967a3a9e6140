#include "appliance/config/config.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <toml++/toml.h>

#include "appliance/health/check_config_toml.hpp"
#include "appliance/core/scheduler_registry.hpp"
#include "appliance/toml_text.hpp"

namespace vsd {

std::string service_label(const ServiceConfig& s) {
  if (s.is_fwmark()) return "FWM " + std::to_string(s.fwmark);
  return std::string(s.protocol == Protocol::tcp ? "TCP " : "UDP ") + s.address.to_string();
}

std::string real_label(const ServiceConfig& s, const RealServerConfig& r) {
  return Endpoint{r.address.addr, r.address.port ? r.address.port : s.address.port}.to_string();
}

const char* to_string(ArpHiding h) { return h == ArpHiding::sysctl ? "sysctl" : "both"; }

std::string ConfigError::to_string() const {
  return where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) +
         ": " + reason;
}

namespace {

// Collects errors while walking the document, so one pass reports them all.
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  SourceLocation at(const toml::node& n) const {
    return {file_, static_cast<int>(n.source().begin.line),
            static_cast<int>(n.source().begin.column)};
  }
  void error(const toml::node& n, std::string reason) { errors.push_back({at(n), std::move(reason)}); }

  // Unknown keys are errors: a typo must not silently become a default.
  void known_keys(const toml::table& t, const std::string& where,
                  std::initializer_list<std::string_view> keys) {
    for (const auto& [k, v] : t) {
      if (std::find(keys.begin(), keys.end(), k.str()) != keys.end()) continue;
      error(v, "unknown key '" + std::string(k.str()) + "' in " + where + "; known keys: " + join_names(keys));
    }
  }

  template <class T>
  void integer(const toml::table& t, std::string_view key, const std::string& where, T& out,
               std::int64_t min, std::int64_t max) {
    const toml::node* n = t.get(key);
    if (!n) return;
    auto v = n->value_exact<std::int64_t>();
    if (!v) {
      error(*n, where + "." + std::string(key) + " must be an integer, got " + toml_type_name(*n));
      return;
    }
    if (*v < min || *v > max) {
      error(*n, where + "." + std::string(key) + " must be from " + std::to_string(min) + " to " +
                    std::to_string(max) + ", got " + std::to_string(*v));
      return;
    }
    out = static_cast<T>(*v);
  }

  void boolean(const toml::table& t, std::string_view key, const std::string& where, bool& out) {
    const toml::node* n = t.get(key);
    if (!n) return;
    if (auto v = n->value_exact<bool>())
      out = *v;
    else
      error(*n, where + "." + std::string(key) + " must be true or false, got " + toml_type_name(*n));
  }

  // Returns the string or nullopt (after an error when the type is wrong).
  std::optional<std::string> string(const toml::table& t, std::string_view key,
                                    const std::string& where) {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (auto v = n->value_exact<std::string>()) return *v;
    error(*n, where + "." + std::string(key) + " must be a string, got " + toml_type_name(*n));
    return std::nullopt;
  }

  template <class T>
  std::optional<T> one_of(const toml::table& t, std::string_view key, const std::string& where,
                          const std::vector<std::pair<std::string_view, T>>& choices) {
    auto s = string(t, key, where);
    if (!s) return std::nullopt;
    for (const auto& [name, value] : choices)
      if (*s == name) return value;
    std::vector<std::string_view> names;
    for (const auto& c : choices) names.push_back(c.first);
    error(*t.get(key), where + "." + std::string(key) + " must be " + join_names(names, " | ") + ", got \"" + *s + "\"");
    return std::nullopt;
  }

  void add(int line, int column, std::string reason) {
    errors.push_back({{file_, line, column}, std::move(reason)});
  }

  // A [service.check] / [service.real.check] table, or nullopt.
  std::optional<health::CheckOverrides> check_table(const toml::table& t, const std::string& where) {
    const toml::node* n = t.get("check");
    if (!n) return std::nullopt;
    const toml::table* ct = n->as_table();
    if (!ct) {
      error(*n, where + " must be a table: write [" + where.substr(1, where.size() - 2) + "]");
      return std::nullopt;
    }
    auto r = health::parse_check_table(*ct, where);
    for (auto& e : r.errors) add(e.line, e.column, std::move(e.reason));
    if (!r.errors.empty()) return std::nullopt;
    return r.overrides;
  }

  std::vector<ConfigError> errors;

 private:
  std::string file_;
};

void read_real(Reader& r, const toml::table& t, ServiceConfig& svc, std::optional<bool> v4,
               const std::optional<health::CheckOverrides>& service_check) {
  RealServerConfig real;
  real.where = r.at(t);
  const std::string where = "[[service.real]]";
  r.known_keys(t, where, {"address", "weight", "forward", "upper_threshold", "lower_threshold", "check"});
  if (auto a = r.string(t, "address", where)) {
    std::string why;
    if (auto e = Endpoint::parse(*a, &why)) {
      real.address = *e;
    } else if (auto ip = IpAddress::parse(a->size() > 2 && a->front() == '[' && a->back() == ']'
                                              ? a->substr(1, a->size() - 2)
                                              : *a)) {
      real.address = Endpoint{*ip, 0};  // no port: the service's port
    } else {
      r.error(*t.get("address"), "bad real server address \"" + *a + "\": " + why);
    }
  } else if (!t.get("address")) {
    r.error(t, "[[service.real]] needs an address, e.g. address = \"203.0.113.11:8000\"");
  }
  r.integer(t, "weight", "real", real.weight, 0, 65535);
  r.integer(t, "upper_threshold", "real", real.upper_threshold, 0, 0x7fffffff);
  r.integer(t, "lower_threshold", "real", real.lower_threshold, 0, 0x7fffffff);
  if (real.upper_threshold && real.lower_threshold >= real.upper_threshold)
    r.error(*t.get("lower_threshold"), "real.lower_threshold (" + std::to_string(real.lower_threshold) +
                                           ") must be below upper_threshold (" +
                                           std::to_string(real.upper_threshold) + ")");
  if (!real.upper_threshold && real.lower_threshold)
    r.error(*t.get("lower_threshold"), "real.lower_threshold needs an upper_threshold");
  if (auto f = r.one_of<ForwardMethod>(t, "forward", "real",
                                       {{"nat", ForwardMethod::nat},
                                        {"tun", ForwardMethod::tun},
                                        {"dr", ForwardMethod::dr}})) {
    real.forward = *f;
  }
  // DR and TUN hand the client's packet over with its ports untouched
  // (ipvsadm sets the real server's port to the service's for -g/-i).
  if (real.forward != ForwardMethod::nat && !svc.is_fwmark() && real.address.port != 0 &&
      real.address.port != svc.address.port && t.get("address"))
    r.error(*t.get("address"), std::string("real server ") + real.address.to_string() + " uses forward = \"" +
                                   to_string(real.forward) + "\", which does not rewrite ports: give it the "
                                   "service's port " + std::to_string(svc.address.port) +
                                   " (or none) and let it listen there");
  // IPVS allows mixed families only for tunnels.
  if (v4 && !real.address.addr.is_unspecified() && real.forward != ForwardMethod::tun &&
      real.address.addr.is_v4() != *v4 && t.get("address"))
    r.error(*t.get("address"), "real server " + real.address.to_string() +
                                   " is not of the same address family as the service " +
                                   service_label(svc) + " (only forward = \"tun\" may mix)");
  for (const auto& other : svc.reals)
    if (other.address == real.address && t.get("address"))
      r.error(*t.get("address"), "real server " + real.address.to_string() +
                                     " is listed twice in service " +
                                     service_label(svc) + " (first at line " +
                                     std::to_string(other.where.line) + ")");
  auto own_check = r.check_table(t, "[service.real.check]");
  if (service_check || own_check) {
    auto merged = health::merge_check(service_check ? &*service_check : nullptr,
                                      own_check ? &*own_check : nullptr);
    for (auto& e : merged.errors) r.add(e.line ? e.line : real.where.line, e.line ? e.column : real.where.column, std::move(e.reason));
    real.check = merged.config;
  }
  svc.reals.push_back(real);
}

// The services' identities seen so far, for duplicate checks:
// (protocol, VIP:port) and fwmark numbers, with the line they came from.
struct SeenServices {
  std::map<std::pair<Protocol, Endpoint>, int> vips;
  std::map<std::uint32_t, int> marks;
};

// `persistence_netmask`: ipvsadm -M takes a dotted IPv4 mask or an IPv6
// prefix length; the TOML takes either (a string mask or an integer length).
void read_netmask(Reader& r, const toml::table& t, ServiceConfig& svc, bool v4) {
  const toml::node* n = t.get("persistence_netmask");
  if (!n) return;
  const int max = v4 ? 32 : 128;
  if (auto len = n->value_exact<std::int64_t>()) {
    if (*len < 1 || *len > max)
      r.error(*n, "service.persistence_netmask must be a prefix length from 1 to " +
                      std::to_string(max) + ", got " + std::to_string(*len));
    else
      svc.persistence_netmask = static_cast<std::uint8_t>(*len);
  } else if (auto str = n->value_exact<std::string>()) {
    auto mask = IpAddress::parse(*str);
    int bits = -1;
    if (mask && mask->is_v4() && v4) {
      const std::uint8_t* b = mask->data();
      std::uint32_t m = (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) |
                        (std::uint32_t{b[2]} << 8) | b[3];
      bits = 0;
      while (bits < 32 && (m & (0x80000000u >> bits))) ++bits;
      if (bits == 0 || (bits < 32 && (m << bits) != 0)) bits = -1;  // not contiguous
    }
    if (bits < 0)
      r.error(*n, "service.persistence_netmask \"" + *str + "\" is not a contiguous " +
                      (v4 ? "IPv4 netmask such as \"255.255.255.0\"" : "mask; give an IPv6 prefix length such as 64"));
    else
      svc.persistence_netmask = static_cast<std::uint8_t>(bits);
  } else {
    r.error(*n, "service.persistence_netmask must be a netmask string or a prefix length, got " +
                    toml_type_name(*n));
  }
}

void read_service(Reader& r, const toml::table& t, Config& cfg, SeenServices& seen) {
  ServiceConfig svc;
  svc.where = r.at(t);
  const std::string where = "[[service]]";
  r.known_keys(t, where, {"address", "fwmark", "members", "protocol", "scheduler",
                          "scheduler_flags", "persistent", "persistence_netmask", "ops",
                          "sorry_server", "quorum", "hysteresis", "quorum_up", "quorum_down",
                          "tunnel_source", "check", "real"});
  r.integer(t, "quorum", "service", svc.quorum, 0, 0x7fffffff);
  r.integer(t, "hysteresis", "service", svc.hysteresis, 0, 0x7fffffff);
  if (auto c = r.string(t, "quorum_up", where)) svc.quorum_up = *c;
  if (auto c = r.string(t, "quorum_down", where)) svc.quorum_down = *c;
  if (!svc.quorum && (t.get("quorum_up") || t.get("quorum_down") || t.get("hysteresis")))
    r.error(t, "quorum_up, quorum_down and hysteresis need quorum = N (the healthy weight a service needs)");
  auto service_check = r.check_table(t, "[service.check]");
  svc.check_defaults = service_check;
  // The service's address family, once known (from the VIP, the fwmark
  // members, or the first real server): every address must share it.
  std::optional<bool> v4;
  bool have_vip = false;
  if (auto a = r.string(t, "address", where)) {
    std::string why;
    if (auto e = Endpoint::parse(*a, &why)) {
      svc.address = *e;
      have_vip = true;
      v4 = e->addr.is_v4();
    } else {
      r.error(*t.get("address"), "bad service address \"" + *a + "\": " + why);
    }
  }
  r.integer(t, "fwmark", "service", svc.fwmark, 1, 0xffffffffLL);
  if (t.get("fwmark") && t.get("address"))
    r.error(*t.get("fwmark"), "a service has either address (ipvsadm -t/-u) or fwmark (ipvsadm -f), not both");
  if (!t.get("address") && !t.get("fwmark"))
    r.error(t, "[[service]] needs an address, e.g. address = \"192.0.2.10:80\", or a fwmark");
  if (const toml::node* m = t.get("members")) {
    const toml::array* arr = m->as_array();
    if (!t.get("fwmark")) {
      r.error(*m, "service.members belongs to fwmark services (ipvsadm -f); this service has an address");
    } else if (!arr) {
      r.error(*m, "service.members must be an array of \"VIP:PORT\" strings");
    } else {
      for (const auto& el : *arr) {
        auto str = el.value_exact<std::string>();
        std::string why;
        auto e = str ? Endpoint::parse(*str, &why) : std::nullopt;
        if (!e) {
          r.error(el, str ? "bad fwmark member \"" + *str + "\": " + why
                          : "service.members entries must be \"VIP:PORT\" strings");
          continue;
        }
        if (v4 && *v4 != e->addr.is_v4()) {
          r.error(el, "fwmark member " + e->to_string() + " is not of the same address family as the others");
          continue;
        }
        v4 = e->addr.is_v4();
        svc.members.push_back(*e);
      }
    }
  }
  if (auto a = r.string(t, "tunnel_source", where)) {
    if (auto ip = IpAddress::parse(*a))
      svc.tunnel_source = *ip;
    else
      r.error(*t.get("tunnel_source"), "service.tunnel_source must be an IP address (the outer "
                                       "source of IP-in-IP packets), got \"" + *a + "\"");
  }
  if (auto p = r.one_of<Protocol>(t, "protocol", "service",
                                  {{"tcp", Protocol::tcp}, {"udp", Protocol::udp}}))
    svc.protocol = *p;
  if (auto s = r.string(t, "scheduler", where)) {
    if (is_known_scheduler(*s)) {
      svc.scheduler = *s;
    } else {
      r.error(*t.get("scheduler"), "unknown scheduler \"" + *s + "\"; known: " + join_names(scheduler_names()));
    }
  }
  if (const toml::node* f = t.get("scheduler_flags")) {
    const toml::array* arr = f->as_array();
    if (!arr) {
      r.error(*f, "service.scheduler_flags must be an array of strings, e.g. [\"mh-port\"]");
    } else {
      for (const auto& el : *arr) {
        auto str = el.value_exact<std::string>();
        if (!str)
          r.error(el, "service.scheduler_flags entries must be strings");
        else if (!is_known_scheduler_flag(svc.scheduler, *str))
        {
          std::string list = join_names(scheduler_flag_names(svc.scheduler));
          r.error(el, "scheduler flag \"" + *str + "\" is not a flag of scheduler " + svc.scheduler +
                          (list.empty() ? std::string("; it takes none") : "; its flags: " + list));
        }
        else
          svc.scheduler_flags.push_back(*str);
      }
    }
  }
  // persistent = true means ipvsadm's bare -p: 360 seconds.
  if (const toml::node* p = t.get("persistent")) {
    if (auto b = p->value_exact<bool>())
      svc.persistent = *b ? 360 : 0;
    else
      r.integer(t, "persistent", "service", svc.persistent, 0, 0x7fffffff);
  }
  r.boolean(t, "ops", "service", svc.ops);
  if (svc.ops && svc.protocol != Protocol::udp)
    r.error(*t.get("ops"), "service.ops (one-packet scheduling) is for UDP services only");
  if (svc.ops && svc.persistent)
    r.error(*t.get("ops"), "service.ops and persistent exclude each other (as in IPVS)");
  if (have_vip && svc.address.port == 0 && !svc.persistent)
    r.error(*t.get("address"), "a port-0 service (every port of " + svc.address.addr.to_string() +
                                   ") needs persistent = SECONDS, as ipvsadm requires -p for port 0");
  if (const toml::node* reals = t.get("real")) {
    const toml::array* arr = reals->as_array();
    if (!v4 && arr)  // fwmark without members: the first real server says
      for (const auto& n : *arr)
        if (const toml::table* rt = n.as_table())
          if (auto a = rt->get("address"); a && a->value_exact<std::string>()) {
            std::string s = *a->value_exact<std::string>();
            v4 = s.find(':') == std::string::npos || s.find('.') != std::string::npos;
            break;
          }
  }
  read_netmask(r, t, svc, v4.value_or(true));
  if (auto a = r.string(t, "sorry_server", where)) {
    std::string why;
    if (auto e = Endpoint::parse(*a, &why))
      svc.sorry_server = *e;
    else if (auto ip = IpAddress::parse(*a))
      svc.sorry_server = Endpoint{*ip, 0};
    else
      r.error(*t.get("sorry_server"), "bad sorry_server \"" + *a + "\": " + why);
    if (svc.sorry_server && v4 && svc.sorry_server->addr.is_v4() != *v4)
      r.error(*t.get("sorry_server"), "sorry_server " + svc.sorry_server->to_string() +
                                          " is not of the service's address family");
  }
  if (have_vip) {
    auto key = std::make_pair(svc.protocol, svc.address);
    auto [it, fresh] = seen.vips.emplace(key, svc.where.line);
    if (!fresh)
      r.error(*t.get("address"), "service " + service_label(svc) + " is defined twice (first at line " +
                                     std::to_string(it->second) + ")");
  }
  if (svc.is_fwmark()) {
    auto [it, fresh] = seen.marks.emplace(svc.fwmark, svc.where.line);
    if (!fresh)
      r.error(*t.get("fwmark"), "service FWM " + std::to_string(svc.fwmark) +
                                    " is defined twice (first at line " + std::to_string(it->second) + ")");
  }
  if (const toml::node* reals = t.get("real")) {
    const toml::array* arr = reals->as_array();
    if (!arr) {
      r.error(*reals, "service.real must be an array of tables: write [[service.real]]");
    } else {
      for (const auto& n : *arr) {
        if (const toml::table* rt = n.as_table())
          read_real(r, *rt, svc, v4, service_check);
        else
          r.error(n, "service.real entries must be tables: write [[service.real]]");
      }
    }
  }
  if (svc.tunnel_source)
    for (const auto& real : svc.reals)
      if (real.forward == ForwardMethod::tun && real.address.addr.is_v4() != svc.tunnel_source->is_v4())
        r.error(*t.get("tunnel_source"), "service.tunnel_source " + svc.tunnel_source->to_string() +
                                             " is not of the family of TUN real server " +
                                             real.address.to_string() +
                                             ": the outer header needs both addresses in one family");
  cfg.services.push_back(std::move(svc));
}

}  // namespace

ConfigResult parse_config(std::string_view text, std::string_view file_name) {
  ConfigResult result;
  const std::string file(file_name);
  toml::table doc;
  try {
    doc = toml::parse(text, file_name);
  } catch (const toml::parse_error& e) {
    result.errors.push_back({{file, static_cast<int>(e.source().begin.line),
                              static_cast<int>(e.source().begin.column)},
                             std::string(e.description())});
    return result;
  }
  Reader r(file);
  Config cfg;
  r.known_keys(doc, "the top level", {"director", "timeouts", "control", "metrics", "log", "arp", "service"});
  auto section = [&](std::string_view name) -> const toml::table* {
    const toml::node* n = doc.get(name);
    if (!n) return nullptr;
    if (const toml::table* t = n->as_table()) return t;
    r.error(*n, "[" + std::string(name) + "] must be a table");
    return nullptr;
  };
  if (const toml::table* d = section("director")) {
    r.known_keys(*d, "[director]", {"queue", "queues", "fail_open", "max_connections",
                                    "expire_nodest_conn", "expire_quiescent_template"});
    r.boolean(*d, "expire_nodest_conn", "director", cfg.director.expire_nodest_conn);
    r.boolean(*d, "expire_quiescent_template", "director", cfg.director.expire_quiescent_template);
    r.integer(*d, "queue", "director", cfg.director.queue, 0, 65535);
    r.integer(*d, "queues", "director", cfg.director.queues, 1, 64);
    r.boolean(*d, "fail_open", "director", cfg.director.fail_open);
    r.integer(*d, "max_connections", "director", cfg.director.max_connections, 1, 1 << 26);
    if (std::uint32_t{cfg.director.queue} + cfg.director.queues - 1 > 65535)
      r.error(*d, "[director] queue + queues - 1 must not exceed 65535");
  }
  if (const toml::table* t = section("timeouts")) {
    r.known_keys(*t, "[timeouts]", {"tcp", "tcpfin", "udp"});
    r.integer(*t, "tcp", "timeouts", cfg.timeouts.tcp, 1, 86400 * 30);
    r.integer(*t, "tcpfin", "timeouts", cfg.timeouts.tcpfin, 1, 86400 * 30);
    r.integer(*t, "udp", "timeouts", cfg.timeouts.udp, 1, 86400 * 30);
  }
  if (const toml::table* c = section("control")) {
    r.known_keys(*c, "[control]", {"socket"});
    if (auto s = r.string(*c, "socket", "control")) {
      if (s->empty() || s->front() != '/')
        r.error(*c->get("socket"), "control.socket must be an absolute path, got \"" + *s + "\"");
      else
        cfg.control.socket = *s;
    }
  }
  if (const toml::table* m = section("metrics")) {
    r.known_keys(*m, "[metrics]", {"listen"});
    if (auto s = r.string(*m, "listen", "metrics")) {
      std::string why;
      if (!s->empty() && !Endpoint::parse(*s, &why))
        r.error(*m->get("listen"), "metrics.listen must be \"IP:PORT\" such as \"127.0.0.1:9100\" or \"[::1]:9100\", got \"" + *s + "\"");
      else
        cfg.metrics.listen = *s;
    }
  }
  if (const toml::table* a = section("arp")) {
    r.known_keys(*a, "[arp]", {"garp_repeat", "garp_interval_ms", "hiding"});
    r.integer(*a, "garp_repeat", "arp", cfg.arp.garp_repeat, 0, 100);
    r.integer(*a, "garp_interval_ms", "arp", cfg.arp.garp_interval_ms, 0, 60000);
    if (auto h = r.one_of<ArpHiding>(*a, "hiding", "arp",
                                     {{"both", ArpHiding::both}, {"sysctl", ArpHiding::sysctl}}))
      cfg.arp.hiding = *h;
  }
  if (const toml::table* l = section("log")) {
    r.known_keys(*l, "[log]", {"level"});
    if (auto s = r.one_of<std::string>(*l, "level", "log",
                                       {{"trace", "trace"}, {"debug", "debug"}, {"info", "info"},
                                        {"warn", "warn"}, {"error", "error"}}))
      cfg.log.level = *s;
  }
  if (const toml::node* s = doc.get("service")) {
    SeenServices seen;
    if (const toml::array* arr = s->as_array()) {
      for (const auto& n : *arr) {
        if (const toml::table* t = n.as_table())
          read_service(r, *t, cfg, seen);
        else
          r.error(n, "service entries must be tables: write [[service]]");
      }
    } else {
      r.error(*s, "service must be an array of tables: write [[service]]");
    }
  }
  result.errors = std::move(r.errors);
  std::stable_sort(result.errors.begin(), result.errors.end(),
                   [](const ConfigError& a, const ConfigError& b) {
                     return std::tie(a.where.line, a.where.column) <
                            std::tie(b.where.line, b.where.column);
                   });
  if (result.errors.empty()) result.config = std::move(cfg);
  return result;
}

ConfigResult load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ConfigResult r;
    r.errors.push_back({{path, 0, 0}, std::string("cannot read: ") + std::strerror(errno)});
    return r;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_config(ss.str(), path);
}

}  // namespace vsd
