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

// The service's [service.check] with this server's own keys on top.
void merge_checks(ConfigReader& r, RealServerConfig& real, const health::CheckOverrides* own) {
  const ServiceConfig* s = r.service();
  const health::CheckOverrides* defaults = s && s->check_defaults ? &*s->check_defaults : nullptr;
  if (!defaults && !own) return;
  auto merged = health::merge_check(defaults, own);
  for (auto& e : merged.errors)
    r.add(e.line ? e.line : real.where.line, e.line ? e.column : real.where.column, std::move(e.reason));
  real.check = merged.config;
}

bool read_real_check(ConfigReader& r, const toml::node& n, RealServerConfig& real) {
  auto own = r.check_table(n, "[service.real.check]");
  merge_checks(r, real, own ? &*own : nullptr);
  return own.has_value();
}

// Only what it changes from its service's [service.check]: nothing when it
// is that check.
void write_real_check(TomlOut& out, std::string_view, const RealServerConfig& real) {
  const ServiceConfig* s = out.service;
  const health::CheckOverrides* defaults = s && s->check_defaults ? &*s->check_defaults : nullptr;
  std::string keys = health::write_check_keys(health::check_overrides(defaults, *real.check));
  if (!keys.empty()) out.text += "\n[service.real.check]\n" + keys;
}

void end_real(ConfigReader& r, const toml::table& t, RealServerConfig& real) {
  if (!t.contains("address"))
    r.error(t, "[[service.real]] needs an address, e.g. address = \"203.0.113.11:8000\"");
  if (!t.contains("check")) merge_checks(r, real, nullptr);  // the service's check, if any
}

constexpr Choice<ForwardMethod> forward_names[] = {
    {"nat", ForwardMethod::nat}, {"tun", ForwardMethod::tun}, {"dr", ForwardMethod::dr}};

using R = RealServerConfig;

void check_real_check(KeyChecker& c, const R& real) {
  for (auto& why : health::check_problems(*real.check)) c.error(std::move(why));
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
