// The reading half of the key table: walks a TOML table row by row and
// collects every error with FILE:LINE:COL, so one pass reports them all.
// The row readers (config_keys.cpp, service_keys.cpp) ask it about the key
// being read: its names for messages, its table, the enclosing service.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <toml++/toml.h>
#include <vector>

#include "appliance/config/config_keys.hpp"
#include "appliance/toml_text.hpp"

namespace vsd {

class ConfigReader {
 public:
  explicit ConfigReader(std::string file) : file_(std::move(file)) {}

  SourceLocation at(const toml::node& n) const;
  void error(const toml::node& n, std::string reason);
  void add(int line, int column, std::string reason);  // a position without the file

  // About the key being read.
  std::string value_name() const;   // "service.persistent"
  std::string string_name() const;  // "[[service]].address"
  const toml::table& table() const { return *scope_.table; }
  bool has_read(std::string_view key) const;  // an earlier key of this table, read without error
  void note(const std::string& element, const toml::node& n);  // "members[1]" is there
  // The [[service]] being read, while its real servers are.
  const ServiceConfig* service() const { return scope_.service; }

  // The node's value, or nullopt after an error naming the key.
  std::optional<std::int64_t> integer(const toml::node& n, std::int64_t min, std::int64_t max);
  std::optional<bool> boolean(const toml::node& n);
  std::optional<std::string> string(const toml::node& n);
  template <class V>
  std::optional<V> choice(const toml::node& n, std::span<const Choice<V>> choices);
  // A [service.check] / [service.real.check] table, or nullopt after errors.
  std::optional<health::CheckOverrides> check_table(const toml::node& n, std::string_view where);

  // Reads `t` with `keys` into `target`: unknown keys are errors, each row
  // reads its key if present (noting where it is written under `prefix`),
  // then the table's end handler runs. `service` is the enclosing [[service]].
  template <class T>
  void read_table(const KeyTable<T>& keys, const toml::table& t, T& target, KeyLocations& locations,
                  std::string prefix = "", const ServiceConfig* service = nullptr);

  std::vector<ConfigError> errors;

 private:
  struct Scope {
    const TableNames* names = nullptr;
    const toml::table* table = nullptr;
    KeyLocations* locations = nullptr;
    std::string prefix;
    std::string_view key;
    const ServiceConfig* service = nullptr;
    std::vector<std::string_view> read;  // the keys stored so far
  };
  void unknown_keys(const toml::table& t, const std::vector<std::string_view>& known);

  std::string file_;
  Scope scope_;
};

template <class V>
std::optional<V> ConfigReader::choice(const toml::node& n, std::span<const Choice<V>> choices) {
  auto v = n.value_exact<std::string>();
  if (!v) {
    error(n, value_name() + " must be a string, got " + toml_type_name(n));
    return std::nullopt;
  }
  for (const auto& c : choices)
    if (*v == c.name) return c.value;
  std::vector<std::string_view> names;
  for (const auto& c : choices) names.push_back(c.name);
  error(n, value_name() + " must be " + join_names(names, " | ") + ", got \"" + *v + "\"");
  return std::nullopt;
}

template <class T>
void ConfigReader::read_table(const KeyTable<T>& keys, const toml::table& t, T& target,
                              KeyLocations& locations, std::string prefix, const ServiceConfig* service) {
  Scope outer = scope_;
  scope_ = {&keys.names, &t, &locations, std::move(prefix), {}, service ? service : outer.service, {}};
  std::vector<std::string_view> known;
  for (const auto& key : keys.keys) known.push_back(key.name);
  unknown_keys(t, known);
  for (const auto& key : keys.keys) {
    const toml::node* n = t.get(key.name);
    if (!n) continue;
    scope_.key = key.name;
    locations[scope_.prefix + std::string(key.name)] = at(*n);
    if (key.read(*this, *n, target)) scope_.read.push_back(key.name);
  }
  scope_.key = {};
  if (keys.end) keys.end(*this, t, target);
  scope_ = std::move(outer);
}

}  // namespace vsd
