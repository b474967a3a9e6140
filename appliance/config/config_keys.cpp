// The key table's top level and its sections; [[service]] and
// [[service.real]] are in service_keys.cpp.
#include "appliance/config/config_keys.hpp"

#include <cstdio>

#include "appliance/config/key_makers.hpp"
#include "appliance/core/kernel_marks.hpp"
#include "appliance/config/service_keys.hpp"

namespace vsd {
namespace {

using namespace keys;

// A contiguous run of at least 4 bits, written in hex as the docs show it.
bool read_mark_mask(ConfigReader& r, const toml::node& n, DirectorConfig& d) {
  auto v = r.integer(n, 0, 0xffffffffLL);
  if (!v) return false;
  std::string why;
  if (*v == 0 || !MarkLayout::from_mask(static_cast<std::uint32_t>(*v), &why)) {
    r.error(n, "director." + (why.empty() ? std::string("mark_mask must not be 0") : why) +
                   "; the default 0xffff0000 leaves the low 16 bits to you");
    return false;
  }
  d.mark_mask = static_cast<std::uint32_t>(*v);
  return true;
}

void write_mark_mask(TomlOut& out, std::string_view name, const DirectorConfig& d) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", d.mark_mask);
  out.key(name, text);
}

const ConfigKey<DirectorConfig> director_keys[] = {
    integer_key<&DirectorConfig::queue, 0, 65535>("queue", Save::always),
    integer_key<&DirectorConfig::queues, 1, 64>("queues", Save::always),
    boolean_key<&DirectorConfig::fail_open>("fail_open", Save::always),
    integer_key<&DirectorConfig::max_connections, 1, 1 << 26>("max_connections", Save::always),
    boolean_key<&DirectorConfig::expire_nodest_conn>("expire_nodest_conn"),
    boolean_key<&DirectorConfig::expire_quiescent_template>("expire_quiescent_template"),
    boolean_key<&DirectorConfig::fast_path>("fast_path"),
    {"mark_mask", read_mark_mask, write_mark_mask, unchanged<&DirectorConfig::mark_mask>, Save::if_changed,
     [](KeyChecker& c, const DirectorConfig& d) {
       std::string why;
       if (!MarkLayout::from_mask(d.mark_mask, &why)) c.error("director." + why);
     }},
    // Flood defences: IPVS's sysctls, 0 never, 1|2 under pressure, 3 always.
    integer_key<&DirectorConfig::drop_entry, 0, 3>("drop_entry"),
    integer_key<&DirectorConfig::drop_packet, 0, 3>("drop_packet"),
    integer_key<&DirectorConfig::secure_tcp, 0, 3>("secure_tcp"),
    integer_key<&DirectorConfig::am_droprate, 1, 1000000>("am_droprate"),
    fraction_key<&DirectorConfig::pressure_threshold>("pressure_threshold"),
};

constexpr std::int64_t thirty_days = 86400 * 30;
const ConfigKey<TimeoutConfig> timeouts_keys[] = {
    integer_key<&TimeoutConfig::tcp, 1, thirty_days>("tcp", Save::always),
    integer_key<&TimeoutConfig::tcpfin, 1, thirty_days>("tcpfin", Save::always),
    integer_key<&TimeoutConfig::udp, 1, thirty_days>("udp", Save::always),
};

std::optional<std::string> socket_problem(const std::string& path) {
  if (path.empty() || path.front() != '/') return "control.socket must be an absolute path, got \"" + path + "\"";
  return std::nullopt;
}

const ConfigKey<ControlConfig> control_keys[] = {
    {"socket",
     [](ConfigReader& r, const toml::node& n, ControlConfig& c) {
       auto s = r.string(n);
       if (!s) return false;
       if (auto why = socket_problem(*s)) {
         r.error(n, *why);
         return false;
       }
       c.socket = *s;
       return true;
     },
     write_string<&ControlConfig::socket>, unchanged<&ControlConfig::socket>, Save::always,
     [](KeyChecker& k, const ControlConfig& c) {
       if (auto why = socket_problem(c.socket)) k.error(*why);
     }},
};

// "" is off; anything else must be an endpoint to listen on.
std::optional<std::string> listen_problem(const std::string& listen) {
  if (!listen.empty() && !Endpoint::parse(listen))
    return "metrics.listen must be \"IP:PORT\" such as \"127.0.0.1:9473\" or \"[::1]:9473\", got \"" + listen + "\"";
  return std::nullopt;
}

const ConfigKey<MetricsConfig> metrics_keys[] = {
    {"listen",
     [](ConfigReader& r, const toml::node& n, MetricsConfig& m) {
       auto s = r.string(n);
       if (!s) return false;
       if (auto why = listen_problem(*s)) {
         r.error(n, *why);
         return false;
       }
       m.listen = *s;
       return true;
     },
     write_string<&MetricsConfig::listen>, unchanged<&MetricsConfig::listen>, Save::if_changed,
     [](KeyChecker& k, const MetricsConfig& m) {
       if (auto why = listen_problem(m.listen)) k.error(*why);
     }},
};

const Choice<std::string> log_levels[] = {
    {"trace", "trace"}, {"debug", "debug"}, {"info", "info"}, {"warn", "warn"}, {"error", "error"}};
const ConfigKey<LogConfig> log_keys[] = {
    choice_key<&LogConfig::level, log_levels>("level", Save::always),
};

constexpr Choice<ArpHiding> hiding_names[] = {{"both", ArpHiding::both}, {"sysctl", ArpHiding::sysctl}};
const ConfigKey<ArpConfig> arp_keys[] = {
    integer_key<&ArpConfig::garp_repeat, 0, 100>("garp_repeat"),
    integer_key<&ArpConfig::garp_interval_ms, 0, 60000>("garp_interval_ms"),
    choice_key<&ArpConfig::hiding, hiding_names>("hiding"),
};

template <class T>
std::vector<std::string_view> names_of(const KeyTable<T>& table) {
  std::vector<std::string_view> names;
  for (const auto& key : table.keys) names.push_back(key.name);
  return names;
}

// "director" for "[director]", "service.real" for "[[service.real]]".
std::string section_of(const TableNames& names) {
  if (names.values.empty()) return "";
  std::string s(names.table);
  return s.substr(s.find_first_not_of('['), s.find(']') - s.find_first_not_of('['));
}

}  // namespace

const KeyTable<DirectorConfig> director_table{{"[director]", "director", "director"}, director_keys};
const KeyTable<TimeoutConfig> timeouts_table{{"[timeouts]", "timeouts", "timeouts"}, timeouts_keys};
const KeyTable<ControlConfig> control_table{{"[control]", "control", "control"}, control_keys};
const KeyTable<MetricsConfig> metrics_table{{"[metrics]", "metrics", "metrics"}, metrics_keys};
const KeyTable<LogConfig> log_table{{"[log]", "log", "log"}, log_keys};
const KeyTable<ArpConfig> arp_table{{"[arp]", "arp", "arp"}, arp_keys};

namespace {

// The top level's keys are the sections, in the order of etc/vsd.toml and
// of the saved file.
const ConfigKey<Config> top_level_keys[] = {
    section_key<&Config::director, director_table>("director"),
    section_key<&Config::timeouts, timeouts_table>("timeouts"),
    section_key<&Config::control, control_table>("control"),
    section_key<&Config::metrics, metrics_table>("metrics"),
    section_key<&Config::log, log_table>("log"),
    section_key<&Config::arp, arp_table>("arp"),
    section_key<&Config::ha, ha_table>("ha"),
    section_key<&Config::bgp, bgp_table>("bgp"),
    {"service", read_services, write_services, no_services, Save::if_changed, check_services},
};

}  // namespace

const KeyTable<Config> top_level_table{{"the top level", "", ""}, top_level_keys};

std::vector<SectionKeys> config_key_names() {
  std::vector<SectionKeys> out;
  auto add = [&](const auto& table) { out.push_back({section_of(table.names), names_of(table)}); };
  add(top_level_table);
  add(director_table);
  add(timeouts_table);
  add(control_table);
  add(metrics_table);
  add(log_table);
  add(arp_table);
  add(ha_table);
  add(bgp_table);
  add(service_table);
  add(real_table);
  const auto& check = health::check_keys();
  out.push_back({"service.check", check});
  out.push_back({"service.real.check", check});
  return out;
}

}  // namespace vsd
