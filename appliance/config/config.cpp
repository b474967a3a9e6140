#include "appliance/config/config.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <toml++/toml.h>

#include "appliance/config/config_reader.hpp"
#include "appliance/config/config_validate.hpp"

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
  if (where.file.empty() && where.line == 0) return subject.empty() ? reason : subject + ": " + reason;
  return where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) +
         ": " + reason;
}

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
  ConfigReader r(file);
  Config cfg;
  r.read_table(top_level_table, doc, cfg, cfg.locations);
  result.errors = std::move(r.errors);
  // The rules between keys, on what was read.
  for (auto& e : validate(cfg, result.errors)) result.errors.push_back(std::move(e));
  std::stable_sort(result.errors.begin(), result.errors.end(),
                   [](const ConfigError& a, const ConfigError& b) {
                     return std::tie(a.where.line, a.where.column) <
                            std::tie(b.where.line, b.where.column);
                   });
  if (result.errors.empty()) result.config = std::move(cfg);
  return result;
}

std::vector<health::CheckConfig> checks_of(const RealServerConfig& r) {
  std::vector<health::CheckConfig> out;
  if (r.check) out.push_back(*r.check);
  out.insert(out.end(), r.more_checks.begin(), r.more_checks.end());
  return out;
}

void set_checks(RealServerConfig& r, std::vector<health::CheckConfig> checks) {
  r.check.reset();
  r.more_checks.clear();
  if (checks.empty()) return;
  r.check = std::move(checks.front());
  r.more_checks.assign(std::make_move_iterator(checks.begin() + 1), std::make_move_iterator(checks.end()));
}

std::vector<health::CheckOverrides> check_tables_of(const ServiceConfig& s) {
  std::vector<health::CheckOverrides> out;
  if (s.check_defaults) out.push_back(*s.check_defaults);
  out.insert(out.end(), s.more_check_defaults.begin(), s.more_check_defaults.end());
  return out;
}

std::vector<health::CheckConfig> service_checks(const ServiceConfig& s) {
  return health::merge_checks(check_tables_of(s), nullptr, false, {}).checks;
}

ForwardMethod sorry_forward(const ServiceConfig& s) {
  return s.sorry_server_forward.value_or(s.forward.value_or(ForwardMethod::nat));
}

RealServerConfig sorry_real(const ServiceConfig& s) {
  RealServerConfig sorry;
  sorry.address = *s.sorry_server;
  sorry.forward = sorry_forward(s);
  auto at = s.locations.find("sorry_server");
  sorry.where = at != s.locations.end() ? at->second : s.where;
  return sorry;
}

std::vector<RealServerConfig> node_reals(const ServiceConfig& s) {
  std::vector<RealServerConfig> out = s.reals;
  if (s.sorry_server) out.push_back(sorry_real(s));
  return out;
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
