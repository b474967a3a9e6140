// [ha]: the director pair's keys (config.hpp HaConfig), one row each.
#include <algorithm>

#include "appliance/config/config_keys.hpp"
#include "appliance/config/key_makers.hpp"

namespace vsd {
namespace {

using namespace keys;

std::optional<std::string> directors_problem(const std::vector<IpAddress>& d) {
  if (d.empty()) return std::nullopt;
  if (d.size() != 2) return "ha.directors must name exactly two directors (a pair), got " + std::to_string(d.size());
  if (d[0] == d[1]) return "ha.directors names " + d[0].to_string() + " twice";
  if (d[0].is_v4() != d[1].is_v4()) return "ha.directors must both be IPv4 or both IPv6";
  return std::nullopt;
}

bool read_directors(ConfigReader& r, const toml::node& n, HaConfig& ha) {
  auto out = read_addresses(r, n, "ha.directors must be an array of two addresses, e.g. [\"192.0.2.1\", \"192.0.2.2\"]",
                            "ha.directors entries must be IP addresses (each director's address on the link between them)");
  if (!out) return false;
  if (auto why = directors_problem(*out)) {
    r.error(n, *why);
    return false;
  }
  ha.directors = std::move(*out);
  return true;
}

void write_directors(TomlOut& out, std::string_view name, const HaConfig& ha) {
  write_addresses(out, name, ha.directors);
}

// "ADDRESS/PREFIX", as keepalived's virtual_ipaddress takes it.
std::optional<std::string> gateway_problem(const std::string& g) {
  if (g.empty()) return std::nullopt;
  const auto slash = g.find('/');
  auto a = IpAddress::parse(g.substr(0, slash));
  bool ok = a && slash != std::string::npos && slash + 1 < g.size() &&
            std::all_of(g.begin() + static_cast<std::ptrdiff_t>(slash) + 1, g.end(), ::isdigit);
  if (ok) {
    const int prefix = std::stoi(g.substr(slash + 1));
    ok = prefix >= 1 && prefix <= (a->is_v4() ? 32 : 128);
  }
  if (!ok) return "ha.gateway must be \"ADDRESS/PREFIX\" such as \"203.0.113.1/24\", got \"" + g + "\"";
  return std::nullopt;
}

std::optional<std::string> gateways_problem(const std::vector<std::string>& gs) {
  for (const auto& g : gs)
    if (auto why = gateway_problem(g)) return why;
  return std::nullopt;
}

// A string, or an array of them (an IPv4 and an IPv6 gateway).
bool read_gateway(ConfigReader& r, const toml::node& n, HaConfig& ha) {
  std::vector<std::string> out;
  if (auto one = n.value_exact<std::string>()) {
    out.push_back(*one);
  } else if (const toml::array* arr = n.as_array()) {
    for (const auto& el : *arr) {
      auto s = el.value_exact<std::string>();
      if (!s) {
        r.error(el, "ha.gateway entries must be strings such as \"203.0.113.1/24\"");
        return false;
      }
      out.push_back(*s);
    }
  } else {
    r.error(n, "ha.gateway must be \"ADDRESS/PREFIX\" or an array of them");
    return false;
  }
  if (auto why = gateways_problem(out)) {
    r.error(n, *why);
    return false;
  }
  ha.gateway = std::move(out);
  return true;
}

void write_gateway(TomlOut& out, std::string_view name, const HaConfig& ha) {
  if (ha.gateway.size() == 1) return out.key(name, toml_quote(ha.gateway[0]));
  std::string v = "[";
  for (std::size_t i = 0; i < ha.gateway.size(); ++i) v += (i ? ", " : "") + toml_quote(ha.gateway[i]);
  out.key(name, v + "]");
}

const ConfigKey<HaConfig> ha_keys[] = {
    {"directors", read_directors, write_directors, unchanged<&HaConfig::directors>, Save::if_changed,
     [](KeyChecker& c, const HaConfig& ha) {
       if (auto why = directors_problem(ha.directors)) c.error(*why);
     }},
    string_key<&HaConfig::interface>("interface"),
    {"gateway", read_gateway, write_gateway, unchanged<&HaConfig::gateway>, Save::if_changed,
     [](KeyChecker& c, const HaConfig& ha) {
       if (auto why = gateways_problem(ha.gateway)) c.error(*why);
     }},
    string_key<&HaConfig::gateway_interface>("gateway_interface"),
    integer_key<&HaConfig::virtual_router_id, 1, 254>("virtual_router_id"),
    integer_key<&HaConfig::advert_ms, 100, 255000>("advert_ms"),
    boolean_key<&HaConfig::preempt>("preempt"),
    integer_key<&HaConfig::sync_port, 1, 65535>("sync_port"),
    integer_key<&HaConfig::conntrackd_port, 1, 65535>("conntrackd_port"),
    integer_key<&HaConfig::sync_id, 0, 255>("sync_id"),
};

// Rules between the keys, once the table is read.
void ha_end(ConfigReader& r, const toml::table& t, HaConfig& ha) {
  if (!ha.enabled()) {
    // A directors key that was refused has its own error.
    if (!t.empty() && !t.contains("directors"))
      r.error(t, "[ha] needs ha.directors, the two directors' addresses; without it there is no pair");
    return;
  }
  if (ha.interface.empty())
    r.error(t, "[ha] needs ha.interface: the interface where keepalived holds the VIPs");
  if (!ha.gateway.empty() && ha.gateway_interface.empty())
    r.error(t, "[ha] ha.gateway needs ha.gateway_interface: the interface toward the real servers");
}

}  // namespace

const KeyTable<HaConfig> ha_table{{"[ha]", "ha", "ha"}, ha_keys, ha_end};

}  // namespace vsd
