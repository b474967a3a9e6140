// One table of configuration keys, in the style of keepalived's
// install_keyword(): a row per key saying how it is read, how it is
// written, whether it is at its default and what a value set in code must
// keep. The reader (parse_config), the writer (write_config_toml),
// validate() and the documentation test walk the same rows, so adding a key
// is one row (and its line in etc/vsd.toml). For example, from [director]:
//
//   integer_key<&DirectorConfig::queues, 1, 64>("queues", Save::always),
//   boolean_key<&DirectorConfig::expire_nodest_conn>("expire_nodest_conn"),
//
// A table's rows are read in their order, so a key whose reading depends on
// another (persistence_netmask on the family of address and members) comes
// after it; sub-tables come last, where TOML writes them. The health-check
// keys are the same kind of table in health/check_config_toml.cpp.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <toml++/toml.h>
#include <vector>

#include "appliance/config/config.hpp"

namespace vsd {

class ConfigReader;  // config_reader.hpp
class KeyChecker;    // key_checker.hpp

// What the writer appends to. `service` is the [[service]] whose real
// servers are being written: a real server's check is written as what it
// changes from its service's [service.check].
struct TomlOut {
  std::string text;
  const ServiceConfig* service = nullptr;

  void key(std::string_view name, std::string_view value) {
    text.append(name).append(" = ").append(value).append("\n");
  }
};

// Whether the writer writes a key at its default: `always` for the settings
// every saved file shows (as etc/vsd.toml does), `if_changed` for the rest.
enum class Save : bool { if_changed, always };

template <class T>
struct ConfigKey {
  std::string_view name;
  // Stores the node's value in the target; false when it reported why it
  // could not.
  bool (*read)(ConfigReader&, const toml::node&, T&);
  // Appends "name = value", or the key's sub-tables, or nothing.
  void (*write)(TomlOut&, std::string_view name, const T&);
  bool (*at_default)(const T&);
  Save save = Save::if_changed;
  // Reports what read would refuse in a value set in code (a range, a
  // format); null when every value of the type is one read takes. Skipped
  // for a key at its default.
  void (*check)(KeyChecker&, const T&) = nullptr;
};

// How messages name a table and its keys, as they always have: numbers,
// booleans and choices say "service.persistent", plain strings say the
// table ("[[service]].address"), unknown keys "in [[service]]".
struct TableNames {
  std::string_view table;    // "[[service]]", "[director]", "the top level"
  std::string_view values;   // "service", "director"
  std::string_view strings;  // "[[service]]", "director"
};

template <class T>
struct KeyTable {
  TableNames names;
  std::span<const ConfigKey<T>> keys;
  // keepalived's sublevel end handler: what needs the whole table once its
  // keys are read (a required key missing). May be null.
  void (*end)(ConfigReader&, const toml::table&, T&) = nullptr;
};

// A value of a key that takes one of a few words.
template <class V>
struct Choice {
  std::string_view name;
  V value;
};

// The tables: the top level (whose keys are the sections), each section,
// [[service]] and [[service.real]].
extern const KeyTable<Config> top_level_table;
extern const KeyTable<DirectorConfig> director_table;
extern const KeyTable<TimeoutConfig> timeouts_table;
extern const KeyTable<ControlConfig> control_table;
extern const KeyTable<MetricsConfig> metrics_table;
extern const KeyTable<LogConfig> log_table;
extern const KeyTable<ArpConfig> arp_table;
extern const KeyTable<HaConfig> ha_table;  // ha_keys.cpp
extern const KeyTable<BgpConfig> bgp_table;  // bgp_keys.cpp
extern const KeyTable<ServiceConfig> service_table;
extern const KeyTable<RealServerConfig> real_table;

// Appends a table's keys in row order: those saved always, and the others
// unless at their default.
template <class T>
void write_keys(TomlOut& out, const KeyTable<T>& table, const T& value) {
  for (const auto& key : table.keys)
    if (key.save == Save::always || !key.at_default(value)) key.write(out, key.name, value);
}

// Every key name, section by section: "" (the top level, whose keys are the
// sections), "director", ..., "service", "service.real", "service.check",
// "service.real.check". For the documentation test and for tools.
struct SectionKeys {
  std::string section;
  std::vector<std::string_view> keys;
};
std::vector<SectionKeys> config_key_names();

}  // namespace vsd
