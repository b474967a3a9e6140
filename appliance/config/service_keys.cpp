// The key table's [[service]] (its [[service.real]] are in real_keys.cpp).
// What one key can tell about its own value is read here; what takes
// several keys (families, ports, duplicates, ...) is validate()'s, run on
// what was read.
#include "appliance/config/service_keys.hpp"

#include "appliance/config/key_makers.hpp"
#include "appliance/core/scheduler_registry.hpp"

namespace vsd {
namespace {

using namespace keys;

bool read_service_address(ConfigReader& r, const toml::node& n, ServiceConfig& s) {
  auto a = r.string(n);
  if (!a) return false;
  std::string why;
  auto e = Endpoint::parse(*a, &why);
  if (!e) {
    r.error(n, "bad service address \"" + *a + "\": " + why);
    return false;
  }
  s.address = *e;
  return true;
}

void write_endpoint(TomlOut& out, std::string_view name, const Endpoint& e) {
  out.key(name, toml_quote(e.to_string()));
}

bool read_fwmark(ConfigReader& r, const toml::node& n, ServiceConfig& s) {
  bool ok = read_integer<&ServiceConfig::fwmark, 1, 0xffffffffLL>(r, n, s);
  if (r.table().contains("address"))
    r.error(n, "a service has either address (ipvsadm -t/-u) or fwmark (ipvsadm -f), not both");
  return ok;
}

// The members share one family, and the VIP's when a wrong file gives both.
bool read_members(ConfigReader& r, const toml::node& n, ServiceConfig& s) {
  if (!r.table().contains("fwmark")) {
    r.error(n, "service.members belongs to fwmark services (ipvsadm -f); this service has an address");
    return false;
  }
  const toml::array* arr = n.as_array();
  if (!arr) {
    r.error(n, "service.members must be an array of \"VIP:PORT\" strings");
    return false;
  }
  std::optional<bool> v4;
  if (r.has_read("address")) v4 = s.address.addr.is_v4();
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
    r.note("members[" + std::to_string(s.members.size()) + "]", el);
    s.members.push_back(*e);
  }
  return true;
}

std::string unknown_scheduler(const std::string& name) {
  return "unknown scheduler \"" + name + "\"; known: " + join_names(scheduler_names());
}

bool read_scheduler(ConfigReader& r, const toml::node& n, ServiceConfig& s) {
  auto v = r.string(n);
  if (!v) return false;
  if (!is_known_scheduler(*v)) {
    r.error(n, unknown_scheduler(*v));
    return false;
  }
  s.scheduler = *v;
  return true;
}

// Whether each flag belongs to the scheduler is validate()'s: it is a rule
// between two keys, and vsadm -E changes both.
bool read_scheduler_flags(ConfigReader& r, const toml::node& n, ServiceConfig& s) {
  const toml::array* arr = n.as_array();
  if (!arr) {
    r.error(n, "service.scheduler_flags must be an array of strings, e.g. [\"mh-port\"]");
    return false;
  }
  for (const auto& el : *arr) {
    auto str = el.value_exact<std::string>();
    if (!str) {
      r.error(el, "service.scheduler_flags entries must be strings");
      continue;
    }
    r.note("scheduler_flags[" + std::to_string(s.scheduler_flags.size()) + "]", el);
    s.scheduler_flags.push_back(*str);
  }
  return true;
}

// persistent = true means ipvsadm's bare -p: 360 seconds.
bool read_persistent(ConfigReader& r, const toml::node& n, ServiceConfig& s) {
  if (auto b = n.value_exact<bool>()) {
    s.persistent = *b ? 360 : 0;
    return true;
  }
  return read_integer<&ServiceConfig::persistent, 0, 0x7fffffff>(r, n, s);
}

// The family of a [[service]] table's addresses as far as read: its VIP,
// its fwmark members, else the first real server's address as written (the
// netmask is read before the real servers).
std::optional<bool> family_so_far(const ConfigReader& r, const ServiceConfig& s) {
  if (r.has_read("address")) return s.address.addr.is_v4();
  if (!s.members.empty()) return s.members.front().addr.is_v4();
  if (const toml::array* reals = r.table()["real"].as_array())
    for (const auto& n : *reals)
      if (const toml::table* rt = n.as_table())
        if (auto a = rt->get("address"); a && a->value_exact<std::string>()) {
          std::string text = *a->value_exact<std::string>();
          return text.find(':') == std::string::npos || text.find('.') != std::string::npos;
        }
  return std::nullopt;
}

// ipvsadm -M takes a dotted IPv4 mask or an IPv6 prefix length; the TOML
// takes either (a string mask or an integer length).
bool read_netmask(ConfigReader& r, const toml::node& n, ServiceConfig& s) {
  const bool v4 = family_so_far(r, s).value_or(true);
  const int max = v4 ? 32 : 128;
  if (auto len = n.value_exact<std::int64_t>()) {
    if (*len < 1 || *len > max) {
      r.error(n, "service.persistence_netmask must be a prefix length from 1 to " + std::to_string(max) +
                     ", got " + std::to_string(*len));
      return false;
    }
    s.persistence_netmask = static_cast<std::uint8_t>(*len);
    return true;
  }
  if (auto str = n.value_exact<std::string>()) {
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
    if (bits < 0) {
      r.error(n, "service.persistence_netmask \"" + *str + "\" is not a contiguous " +
                     (v4 ? "IPv4 netmask such as \"255.255.255.0\"" : "mask; give an IPv6 prefix length such as 64"));
      return false;
    }
    s.persistence_netmask = static_cast<std::uint8_t>(bits);
    return true;
  }
  r.error(n, "service.persistence_netmask must be a netmask string or a prefix length, got " + toml_type_name(n));
  return false;
}

bool read_sorry_server(ConfigReader& r, const toml::node& n, ServiceConfig& s) {
  auto a = r.string(n);
  if (!a) return false;
  std::string why;
  if (auto e = Endpoint::parse(*a, &why))
    s.sorry_server = *e;
  else if (auto ip = IpAddress::parse(*a))
    s.sorry_server = Endpoint{*ip, 0};  // port 0: the service's
  else {
    r.error(n, "bad sorry_server \"" + *a + "\": " + why);
    return false;
  }
  return true;
}

bool read_tunnel_source(ConfigReader& r, const toml::node& n, ServiceConfig& s) {
  auto a = r.string(n);
  if (!a) return false;
  auto ip = IpAddress::parse(*a);
  if (!ip) {
    r.error(n, "service.tunnel_source must be an IP address (the outer source of IP-in-IP packets), got \"" +
                   *a + "\"");
    return false;
  }
  s.tunnel_source = *ip;
  return true;
}

// [service.check] (one check) or [[service.check]] (several, all of which
// must pass).
bool read_service_check(ConfigReader& r, const toml::node& n, ServiceConfig& s) {
  if (const toml::array* arr = n.as_array()) {
    bool ok = !arr->empty();
    if (!ok) r.error(n, "service.check must be a table: write [service.check] or [[service.check]]");
    std::vector<health::CheckOverrides> tables;
    for (const auto& el : *arr) {
      auto t = r.check_table(el, "[[service.check]]");
      if (t) tables.push_back(std::move(*t)); else ok = false;
    }
    if (!ok) return false;
    s.check_defaults = tables.front();
    s.more_check_defaults.assign(tables.begin() + 1, tables.end());
    return true;
  }
  s.check_defaults = r.check_table(n, "[service.check]");
  return s.check_defaults.has_value();
}

void write_service_check(TomlOut& out, std::string_view, const ServiceConfig& s) {
  if (s.more_check_defaults.empty()) {
    out.text += "\n[service.check]\n" + health::write_check_keys(*s.check_defaults);
    return;
  }
  for (const auto& t : check_tables_of(s)) out.text += "\n[[service.check]]\n" + health::write_check_keys(t);
}

constexpr Choice<ForwardMethod> service_forward_names[] = {
    {"nat", ForwardMethod::nat}, {"tun", ForwardMethod::tun}, {"dr", ForwardMethod::dr}};

template <auto M>
bool read_optional_forward(ConfigReader& r, const toml::node& n, ServiceConfig& s) {
  auto v = r.choice(n, std::span<const Choice<ForwardMethod>>(service_forward_names));
  if (v) s.*M = *v;
  return v.has_value();
}

template <auto M>
void write_optional_forward(TomlOut& out, std::string_view key, const ServiceConfig& s) {
  out.key(key, toml_quote(to_string(*(s.*M))));
}

bool read_reals(ConfigReader& r, const toml::node& n, ServiceConfig& s) {
  const toml::array* arr = n.as_array();
  if (!arr) {
    r.error(n, "service.real must be an array of tables: write [[service.real]]");
    return false;
  }
  for (const auto& el : *arr) {
    const toml::table* t = el.as_table();
    if (!t) {
      r.error(el, "service.real entries must be tables: write [[service.real]]");
      continue;
    }
    RealServerConfig real;
    real.where = r.at(*t);
    r.read_table(real_table, *t, real, real.locations, "", &s);
    s.reals.push_back(std::move(real));
  }
  return true;
}

void write_reals(TomlOut& out, std::string_view, const ServiceConfig& s) {
  for (const auto& real : s.reals) {
    out.text += "\n[[service.real]]\n";
    write_keys(out, real_table, real);
  }
}

void check_reals(KeyChecker& c, const ServiceConfig& s) {
  for (const auto& real : s.reals)
    c.check_table(real_table, real, place_of(s, real));
}

constexpr Choice<Protocol> protocol_names[] = {{"tcp", Protocol::tcp}, {"udp", Protocol::udp}};

using S = ServiceConfig;

void write_address(TomlOut& out, std::string_view key, const S& s) { write_endpoint(out, key, s.address); }
bool no_address(const S& s) { return s.is_fwmark(); }  // a fwmark service has none
void write_members(TomlOut& out, std::string_view key, const S& s) {
  out.key(key, toml_array(s.members, [](const Endpoint& e) { return toml_quote(e.to_string()); }));
}
void check_scheduler(KeyChecker& c, const S& s) {
  if (!is_known_scheduler(s.scheduler)) c.error(unknown_scheduler(s.scheduler));
}
void write_scheduler_flags(TomlOut& out, std::string_view key, const S& s) {
  out.key(key, toml_array(s.scheduler_flags, [](const std::string& f) { return toml_quote(f); }));
}
void write_sorry_server(TomlOut& out, std::string_view key, const S& s) { write_endpoint(out, key, *s.sorry_server); }
void write_tunnel_source(TomlOut& out, std::string_view key, const S& s) {
  out.key(key, toml_quote(s.tunnel_source->to_string()));
}
// Unset is its own value (the default depends on [bgp] and the scheduler).
bool read_sloppy_tcp(ConfigReader& r, const toml::node& n, S& s) {
  auto v = r.boolean(n);
  if (v) s.sloppy_tcp = *v;
  return v.has_value();
}
void write_sloppy_tcp(TomlOut& out, std::string_view key, const S& s) {
  out.key(key, *s.sloppy_tcp ? "true" : "false");
}
bool no_service_check(const S& s) { return !s.check_defaults; }
void check_service_check(KeyChecker& c, const S& s) {
  for (const auto& t : check_tables_of(s))
    for (auto& why : health::check_problems(t)) c.error(std::move(why));
}
bool no_reals(const S& s) { return s.reals.empty(); }

constexpr auto always = Save::always, if_changed = Save::if_changed;

// Known keys in the order the messages have always listed them; every key
// the writer writes comes before the sub-tables (check, real).
const ConfigKey<S> service_keys[] = {
    // {name, read, write, at its default[, save, check]}
    {"address", read_service_address, write_address, no_address},
    {"fwmark", read_fwmark, write_number<&S::fwmark>, unchanged<&S::fwmark>, if_changed,
     check_integer<&S::fwmark, 1, 0xffffffffLL>},
    {"members", read_members, write_members, unchanged<&S::members>},
    choice_key<&S::protocol, protocol_names>("protocol", always),
    {"scheduler", read_scheduler, write_string<&S::scheduler>, unchanged<&S::scheduler>, always, check_scheduler},
    {"scheduler_flags", read_scheduler_flags, write_scheduler_flags, unchanged<&S::scheduler_flags>},
    {"persistent", read_persistent, write_number<&S::persistent>, unchanged<&S::persistent>, if_changed,
     check_integer<&S::persistent, 0, 0x7fffffff>},
    {"persistence_netmask", read_netmask, write_number<&S::persistence_netmask>, unchanged<&S::persistence_netmask>},
    boolean_key<&S::ops>("ops"),
    {"sloppy_tcp", read_sloppy_tcp, write_sloppy_tcp, unchanged<&S::sloppy_tcp>},
    {"sorry_server", read_sorry_server, write_sorry_server, unchanged<&S::sorry_server>},
    {"forward", read_optional_forward<&S::forward>, write_optional_forward<&S::forward>, unchanged<&S::forward>},
    {"sorry_server_forward", read_optional_forward<&S::sorry_server_forward>,
     write_optional_forward<&S::sorry_server_forward>, unchanged<&S::sorry_server_forward>},
    integer_key<&S::quorum, 0, 0x7fffffff>("quorum"),
    integer_key<&S::hysteresis, 0, 0x7fffffff>("hysteresis"),
    string_key<&S::quorum_up>("quorum_up"),
    string_key<&S::quorum_down>("quorum_down"),
    {"tunnel_source", read_tunnel_source, write_tunnel_source, unchanged<&S::tunnel_source>},
    fraction_key<&S::table_share>("table_share"),
    boolean_key<&S::synproxy>("synproxy"),
    integer_key<&S::synproxy_mss, 0, 65535>("synproxy_mss"),
    integer_key<&S::synproxy_wscale, 0, 14>("synproxy_wscale"),
    boolean_key<&S::ha_suspend>("ha_suspend"),
    {"check", read_service_check, write_service_check, no_service_check, if_changed, check_service_check},
    {"real", read_reals, write_reals, no_reals, if_changed, check_reals},
};

}  // namespace

const KeyTable<ServiceConfig> service_table{{"[[service]]", "service", "[[service]]"}, service_keys};

bool read_services(ConfigReader& r, const toml::node& n, Config& cfg) {
  const toml::array* arr = n.as_array();
  if (!arr) {
    r.error(n, "service must be an array of tables: write [[service]]");
    return false;
  }
  for (const auto& el : *arr) {
    const toml::table* t = el.as_table();
    if (!t) {
      r.error(el, "service entries must be tables: write [[service]]");
      continue;
    }
    ServiceConfig svc;
    svc.where = r.at(*t);
    r.read_table(service_table, *t, svc, svc.locations);
    cfg.services.push_back(std::move(svc));
  }
  return true;
}

void write_services(TomlOut& out, std::string_view, const Config& cfg) {
  for (const auto& s : cfg.services) {
    out.text += "\n[[service]]\n";
    out.service = &s;
    write_keys(out, service_table, s);
    out.service = nullptr;
  }
}

bool no_services(const Config& cfg) { return cfg.services.empty(); }

void check_services(KeyChecker& c, const Config& cfg) {
  for (const auto& s : cfg.services) c.check_table(service_table, s, place_of(s));
}

}  // namespace vsd
