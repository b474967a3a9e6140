// The key table's [[service.real]]. A real server's check is read and
// written relative to its service's [service.check].
#include "appliance/config/key_makers.hpp"

namespace vsd {
namespace {

using namespace keys;

bool read_real_address(ConfigReader& r, const toml::node& n, RealServerConfig& real) {
  auto a = r.string(n);
  if (!a) return false;
  std::string why;
  if (auto e = Endpoint::parse(*a, &why)) {
    real.address = *e;
    return true;
  }
  const bool bracketed = a->size() > 2 && a->front() == '[' && a->back() == ']';
  if (auto ip = IpAddress::parse(bracketed ? a->substr(1, a->size() - 2) : *a)) {
    real.address = Endpoint{*ip, 0};  // no port: the service's port
    return true;
  }
  r.error(n, "bad real server address \"" + *a + "\": " + why);
  return false;
}

// "203.0.113.11:8000"; port 0 (the service's port) as the bare address,
// "[2001:db8::11]" for IPv6, which the reader takes back as port 0.
void write_real_address(TomlOut& out, std::string_view name, const RealServerConfig& real) {
  const Endpoint& e = real.address;
  if (e.port != 0) return out.key(name, toml_quote(e.to_string()));
  out.key(name, toml_quote(e.addr.is_v4() ? e.addr.to_string() : "[" + e.addr.to_string() + "]"));
}

// The service's [service.check] tables with this server's own keys on top.
void merge_checks(ConfigReader& r, RealServerConfig& real, const std::vector<health::CheckOverrides>* own,
                  bool array) {
  const ServiceConfig* s = r.service();
  const std::vector<health::CheckOverrides> service = s ? check_tables_of(*s) : std::vector<health::CheckOverrides>{};
  if (service.empty() && !own) return;
  auto merged = health::merge_checks(service, own, array, {real.where.line, real.where.column});
  for (auto& e : merged.errors)
    r.add(e.line ? e.line : real.where.line, e.line ? e.column : real.where.column, std::move(e.reason));
  set_checks(real, std::move(merged.checks));
}

// [service.real.check] (over the service's one check) or
// [[service.real.check]] (entry i over the service's check i).
bool read_real_check(ConfigReader& r, const toml::node& n, RealServerConfig& real) {
  std::vector<health::CheckOverrides> own;
  bool ok = true;
  const bool array = n.is_array();
  if (const toml::array* arr = n.as_array()) {
    for (const auto& el : *arr) {
      auto t = r.check_table(el, "[[service.real.check]]");
      if (t) own.push_back(std::move(*t)); else ok = false;
    }
  } else if (auto t = r.check_table(n, "[service.real.check]")) {
    own.push_back(std::move(*t));
  } else {
    ok = false;
  }
  if (!ok) return false;
  merge_checks(r, real, &own, array);
  return true;
}

// Only what it changes from its service's checks: nothing when it has
// exactly those.
void write_real_check(TomlOut& out, std::string_view, const RealServerConfig& real) {
  const ServiceConfig* s = out.service;
  const std::vector<health::CheckOverrides> service = s ? check_tables_of(*s) : std::vector<health::CheckOverrides>{};
  const std::vector<health::CheckConfig> checks = checks_of(real);
  std::vector<std::string> bodies;
  bool differs = checks.size() != service.size();
  for (std::size_t i = 0; i < checks.size(); ++i) {
    bodies.push_back(health::write_check_keys(
        health::check_overrides(i < service.size() ? &service[i] : nullptr, checks[i])));
    differs |= !bodies.back().empty();
  }
  if (!differs) return;
  if (checks.size() == 1 && service.size() <= 1) {
    out.text += "\n[service.real.check]\n" + bodies.front();
    return;
  }
  for (const auto& body : bodies) out.text += "\n[[service.real.check]]\n" + body;
}

void end_real(ConfigReader& r, const toml::table& t, RealServerConfig& real) {
  if (!t.contains("address"))
    r.error(t, "[[service.real]] needs an address, e.g. address = \"203.0.113.11:8000\"");
  if (!t.contains("check")) merge_checks(r, real, nullptr, false);  // the service's checks, if any
  // No forward of its own: its service's (keepalived's lvs_method on virtual_server).
  if (!t.contains("forward") && r.service() && r.service()->forward) real.forward = *r.service()->forward;
}

constexpr Choice<ForwardMethod> forward_names[] = {
    {"nat", ForwardMethod::nat}, {"tun", ForwardMethod::tun}, {"dr", ForwardMethod::dr}};

using R = RealServerConfig;

void check_real_check(KeyChecker& c, const R& real) {
  for (auto& why : health::check_problems(checks_of(real))) c.error(std::move(why));
}

const ConfigKey<R> real_keys[] = {
    // {name, read, write, at its default[, save, check]}
    {"address", read_real_address, write_real_address, unchanged<&R::address>, Save::always},
    integer_key<&R::weight, 0, 65535>("weight", Save::always),
    choice_key<&R::forward, forward_names>("forward", Save::always),
    integer_key<&R::upper_threshold, 0, 0x7fffffff>("upper_threshold"),
    integer_key<&R::lower_threshold, 0, 0x7fffffff>("lower_threshold"),
    {"check", read_real_check, write_real_check, unchanged<&R::check>, Save::if_changed, check_real_check},
};

}  // namespace

const KeyTable<RealServerConfig> real_table{
    {"[[service.real]]", "real", "[[service.real]]"}, real_keys, end_real};

}  // namespace vsd
