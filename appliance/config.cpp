#include "appliance/config.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <toml++/toml.h>

#include "appliance/scheduler_registry.hpp"

namespace vsd {

const char* to_string(Protocol p) { return p == Protocol::tcp ? "tcp" : "udp"; }

const char* to_string(ForwardMethod f) {
  switch (f) {
    case ForwardMethod::nat: return "nat";
    case ForwardMethod::tun: return "tun";
    case ForwardMethod::dr: return "dr";
  }
  return "?";
}

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
      std::string list;
      for (auto key : keys) list += (list.empty() ? "" : ", ") + std::string(key);
      error(v, "unknown key '" + std::string(k.str()) + "' in " + where + "; known keys: " + list);
    }
  }

  template <class T>
  void integer(const toml::table& t, std::string_view key, const std::string& where, T& out,
               std::int64_t min, std::int64_t max) {
    const toml::node* n = t.get(key);
    if (!n) return;
    auto v = n->value_exact<std::int64_t>();
    if (!v) {
      error(*n, where + "." + std::string(key) + " must be an integer, got " + type_name(*n));
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
      error(*n, where + "." + std::string(key) + " must be true or false, got " + type_name(*n));
  }

  // Returns the string or nullopt (after an error when the type is wrong).
  std::optional<std::string> string(const toml::table& t, std::string_view key,
                                    const std::string& where) {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (auto v = n->value_exact<std::string>()) return *v;
    error(*n, where + "." + std::string(key) + " must be a string, got " + type_name(*n));
    return std::nullopt;
  }

  template <class T>
  std::optional<T> one_of(const toml::table& t, std::string_view key, const std::string& where,
                          const std::vector<std::pair<std::string_view, T>>& choices) {
    auto s = string(t, key, where);
    if (!s) return std::nullopt;
    for (const auto& [name, value] : choices)
      if (*s == name) return value;
    std::string list;
    for (const auto& c : choices) list += (list.empty() ? "" : " | ") + std::string(c.first);
    error(*t.get(key), where + "." + std::string(key) + " must be " + list + ", got \"" + *s + "\"");
    return std::nullopt;
  }

  static std::string type_name(const toml::node& n) {
    switch (n.type()) {
      case toml::node_type::string: return "string";
      case toml::node_type::integer: return "integer";
      case toml::node_type::floating_point: return "float";
      case toml::node_type::boolean: return "boolean";
      case toml::node_type::table: return "table";
      case toml::node_type::array: return "array";
      default: return "date/time";
    }
  }

  std::vector<ConfigError> errors;

 private:
  std::string file_;
};

std::string spell(Protocol p, const Endpoint& e) {
  return std::string(p == Protocol::tcp ? "TCP " : "UDP ") + e.to_string();
}

void read_real(Reader& r, const toml::table& t, ServiceConfig& svc, bool have_vip) {
  RealServerConfig real;
  real.where = r.at(t);
  const std::string where = "[[service.real]]";
  r.known_keys(t, where, {"address", "weight", "forward"});
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
  if (auto f = r.one_of<ForwardMethod>(t, "forward", "real",
                                       {{"nat", ForwardMethod::nat},
                                        {"tun", ForwardMethod::tun},
                                        {"dr", ForwardMethod::dr}})) {
    real.forward = *f;
    if (real.forward != ForwardMethod::nat)
      r.error(*t.get("forward"), std::string("forward = \"") + to_string(real.forward) +
                                     "\" is not implemented in this version of vsd yet; use \"nat\"");
  }
  // IPVS allows mixed families only for tunnels.
  if (have_vip && !real.address.addr.is_unspecified() && real.forward != ForwardMethod::tun &&
      real.address.addr.is_v4() != svc.address.addr.is_v4())
    r.error(*t.get("address"), "real server " + real.address.to_string() +
                                   " is not of the same address family as the service " +
                                   svc.address.to_string() + " (only forward = \"tun\" may mix)");
  for (const auto& other : svc.reals)
    if (other.address == real.address && t.get("address"))
      r.error(*t.get("address"), "real server " + real.address.to_string() +
                                     " is listed twice in service " +
                                     spell(svc.protocol, svc.address) + " (first at line " +
                                     std::to_string(other.where.line) + ")");
  svc.reals.push_back(real);
}

void read_service(Reader& r, const toml::table& t, Config& cfg,
                  std::map<std::pair<Protocol, Endpoint>, int>& seen) {
  ServiceConfig svc;
  svc.where = r.at(t);
  const std::string where = "[[service]]";
  r.known_keys(t, where, {"address", "protocol", "scheduler", "real"});
  bool have_vip = false;
  if (auto a = r.string(t, "address", where)) {
    std::string why;
    if (auto e = Endpoint::parse(*a, &why)) {
      svc.address = *e;
      have_vip = true;
      if (e->port == 0) {
        r.error(*t.get("address"), "port 0 services need persistence, not supported yet");
        have_vip = false;
      }
    } else {
      r.error(*t.get("address"), "bad service address \"" + *a + "\": " + why);
    }
  } else if (!t.get("address")) {
    r.error(t, "[[service]] needs an address, e.g. address = \"192.0.2.10:80\"");
  }
  if (auto p = r.one_of<Protocol>(t, "protocol", "service",
                                  {{"tcp", Protocol::tcp}, {"udp", Protocol::udp}}))
    svc.protocol = *p;
  if (auto s = r.string(t, "scheduler", where)) {
    if (is_known_scheduler(*s)) {
      svc.scheduler = *s;
    } else {
      std::string list;
      for (auto n : scheduler_names()) list += (list.empty() ? "" : ", ") + std::string(n);
      r.error(*t.get("scheduler"), "unknown scheduler \"" + *s + "\"; known: " + list);
    }
  }
  if (have_vip) {
    auto key = std::make_pair(svc.protocol, svc.address);
    auto [it, fresh] = seen.emplace(key, svc.where.line);
    if (!fresh)
      r.error(*t.get("address"), "service " + spell(svc.protocol, svc.address) +
                                     " is defined twice (first at line " +
                                     std::to_string(it->second) + ")");
  }
  if (const toml::node* reals = t.get("real")) {
    const toml::array* arr = reals->as_array();
    if (!arr) {
      r.error(*reals, "service.real must be an array of tables: write [[service.real]]");
    } else {
      for (const auto& n : *arr) {
        if (const toml::table* rt = n.as_table())
          read_real(r, *rt, svc, have_vip);
        else
          r.error(n, "service.real entries must be tables: write [[service.real]]");
      }
    }
  }
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
  r.known_keys(doc, "the top level", {"director", "timeouts", "control", "log", "service"});
  auto section = [&](std::string_view name) -> const toml::table* {
    const toml::node* n = doc.get(name);
    if (!n) return nullptr;
    if (const toml::table* t = n->as_table()) return t;
    r.error(*n, "[" + std::string(name) + "] must be a table");
    return nullptr;
  };
  if (const toml::table* d = section("director")) {
    r.known_keys(*d, "[director]", {"queue", "queues", "fail_open", "max_connections"});
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
  if (const toml::table* l = section("log")) {
    r.known_keys(*l, "[log]", {"level"});
    if (auto s = r.one_of<std::string>(*l, "level", "log",
                                       {{"trace", "trace"}, {"debug", "debug"}, {"info", "info"},
                                        {"warn", "warn"}, {"error", "error"}}))
      cfg.log.level = *s;
  }
  if (const toml::node* s = doc.get("service")) {
    std::map<std::pair<Protocol, Endpoint>, int> seen;
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
