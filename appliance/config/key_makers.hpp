// Row makers for the key table: one per kind of value, from the struct
// member the key fills, so that a plain key is one line of its table. Each
// gives its row a reader, a writer, a default test (the value of a
// default-constructed struct) and, where read refuses some values of the
// member's type, a check with the same words.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "appliance/config/config_keys.hpp"
#include "appliance/config/config_reader.hpp"
#include "appliance/config/key_checker.hpp"
#include "appliance/toml_text.hpp"

namespace vsd::keys {

// The struct and value type of a member pointer given as a template argument.
template <auto M>
struct member_of;
template <class T, class V, V T::*M>
struct member_of<M> {
  using owner = T;
  using value = V;
};
template <auto M>
using owner_t = typename member_of<M>::owner;
template <auto M>
using value_t = typename member_of<M>::value;

template <auto M>
bool unchanged(const owner_t<M>& t) {
  static const owner_t<M> defaults{};
  return t.*M == defaults.*M;
}

// An integer from Min to Max.
template <auto M, std::int64_t Min, std::int64_t Max>
bool read_integer(ConfigReader& r, const toml::node& n, owner_t<M>& t) {
  auto v = r.integer(n, Min, Max);
  if (v) t.*M = static_cast<value_t<M>>(*v);
  return v.has_value();
}

template <auto M>
void write_number(TomlOut& out, std::string_view name, const owner_t<M>& t) {
  out.key(name, std::to_string(t.*M));
}

template <auto M, std::int64_t Min, std::int64_t Max>
void check_integer(KeyChecker& c, const owner_t<M>& t) {
  const auto v = static_cast<std::int64_t>(t.*M);
  if (v < Min || v > Max) c.error(range_reason(c.value_name(), Min, Max, v));
}

template <auto M, std::int64_t Min, std::int64_t Max>
constexpr ConfigKey<owner_t<M>> integer_key(std::string_view name, Save save = Save::if_changed) {
  return {name, read_integer<M, Min, Max>, write_number<M>, unchanged<M>, save, check_integer<M, Min, Max>};
}

// true or false.
template <auto M>
bool read_boolean(ConfigReader& r, const toml::node& n, owner_t<M>& t) {
  auto v = r.boolean(n);
  if (v) t.*M = *v;
  return v.has_value();
}

template <auto M>
void write_boolean(TomlOut& out, std::string_view name, const owner_t<M>& t) {
  out.key(name, t.*M ? "true" : "false");
}

template <auto M>
constexpr ConfigKey<owner_t<M>> boolean_key(std::string_view name, Save save = Save::if_changed) {
  return {name, read_boolean<M>, write_boolean<M>, unchanged<M>, save};
}

// A TOML float as written back: the shortest text that reads back the same
// value, always with a '.' or an exponent (1.0, not the integer 1).
inline std::string toml_number(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  std::string out = ec == std::errc{} ? std::string(buf, end) : std::to_string(v);
  if (out.find_first_of(".en") == std::string::npos) out += ".0";  // "n": nan, inf
  return out;
}

// A fraction in (0, 1]: a TOML float (an integer 1 too).
template <auto M>
bool read_fraction(ConfigReader& r, const toml::node& n, owner_t<M>& t) {
  std::optional<double> v;
  if (n.is_floating_point() || n.is_integer()) v = n.value<double>();
  if (!v || !(*v > 0.0 && *v <= 1.0)) {
    r.error(n, r.value_name() + " must be a fraction above 0 and at most 1, e.g. 0.5, got " +
                   (v ? toml_number(*v) : toml_type_name(n)));
    return false;
  }
  t.*M = *v;
  return true;
}

template <auto M>
void write_fraction(TomlOut& out, std::string_view name, const owner_t<M>& t) {
  out.key(name, toml_number(t.*M));
}

template <auto M>
void check_fraction(KeyChecker& c, const owner_t<M>& t) {
  if (!(t.*M > 0.0 && t.*M <= 1.0))
    c.error(c.value_name() + " must be a fraction above 0 and at most 1, e.g. 0.5, got " + toml_number(t.*M));
}

template <auto M>
constexpr ConfigKey<owner_t<M>> fraction_key(std::string_view name, Save save = Save::if_changed) {
  return {name, read_fraction<M>, write_fraction<M>, unchanged<M>, save, check_fraction<M>};
}

// Any string.
template <auto M>
bool read_string(ConfigReader& r, const toml::node& n, owner_t<M>& t) {
  auto v = r.string(n);
  if (v) t.*M = *v;
  return v.has_value();
}

template <auto M>
void write_string(TomlOut& out, std::string_view name, const owner_t<M>& t) {
  out.key(name, toml_quote(t.*M));
}

template <auto M>
constexpr ConfigKey<owner_t<M>> string_key(std::string_view name, Save save = Save::if_changed) {
  return {name, read_string<M>, write_string<M>, unchanged<M>, save};
}

// One of the words in Names, an array of Choice<value>.
template <auto M, const auto& Names>
bool read_choice(ConfigReader& r, const toml::node& n, owner_t<M>& t) {
  auto v = r.choice(n, std::span<const Choice<value_t<M>>>(Names));
  if (v) t.*M = *v;
  return v.has_value();
}

// A string member is written as it is, even when it is none of the words
// (set in code; the reader will say so).
template <auto M, const auto& Names>
void write_choice(TomlOut& out, std::string_view name, const owner_t<M>& t) {
  if constexpr (std::is_convertible_v<value_t<M>, std::string_view>) {
    out.key(name, toml_quote(t.*M));
  } else {
    for (const auto& c : Names)
      if (c.value == t.*M) return out.key(name, toml_quote(c.name));
  }
}

template <auto M, const auto& Names>
void check_choice(KeyChecker& c, const owner_t<M>& t) {
  for (const auto& choice : Names)
    if (choice.value == t.*M) return;
  std::vector<std::string_view> names;
  for (const auto& choice : Names) names.push_back(choice.name);
  std::string got;
  if constexpr (std::is_convertible_v<value_t<M>, std::string_view>) got = ", got \"" + std::string(t.*M) + "\"";
  c.error(c.value_name() + " must be " + join_names(names, " | ") + got);
}

template <auto M, const auto& Names>
constexpr ConfigKey<owner_t<M>> choice_key(std::string_view name, Save save = Save::if_changed) {
  return {name, read_choice<M, Names>, write_choice<M, Names>, unchanged<M>, save, check_choice<M, Names>};
}

// A section of the top level ([director], ...): a table read with its own
// key table, located in Config::locations as "director" and "director.KEY".
template <auto M, const auto& Table>
bool read_section(ConfigReader& r, const toml::node& n, Config& cfg) {
  const toml::table* t = n.as_table();
  if (!t) {
    r.error(n, std::string(Table.names.table) + " must be a table");
    return false;
  }
  r.read_table(Table, *t, cfg.*M, cfg.locations, std::string(Table.names.values) + ".");
  return true;
}

// Written when one of its keys is: a section with nothing to say is left out.
template <auto M, const auto& Table>
void write_section(TomlOut& out, std::string_view, const Config& cfg) {
  TomlOut keys{"", out.service};
  write_keys(keys, Table, cfg.*M);
  if (!keys.text.empty()) out.text.append("\n").append(Table.names.table).append("\n").append(keys.text);
}

template <auto M, const auto& Table>
bool section_at_default(const Config& cfg) {
  for (const auto& key : Table.keys)
    if (!key.at_default(cfg.*M)) return false;
  return true;
}

template <auto M, const auto& Table>
void check_section(KeyChecker& c, const Config& cfg) {
  const std::string name(Table.names.values);
  auto it = cfg.locations.find(name);
  c.check_table(Table, cfg.*M,
                {&cfg.locations, name + ".", it == cfg.locations.end() ? SourceLocation{} : it->second, ""});
}

template <auto M, const auto& Table>
constexpr ConfigKey<Config> section_key(std::string_view name) {
  return {name, read_section<M, Table>, write_section<M, Table>, section_at_default<M, Table>, Save::always,
          check_section<M, Table>};
}

// An array of IP addresses ([ha] directors, [bgp] neighbors); nullopt
// after an error: `array_error` when it is no array, `entry_error` at an
// entry that is no address.
inline std::optional<std::vector<IpAddress>> read_addresses(ConfigReader& r, const toml::node& n,
                                                            const std::string& array_error,
                                                            const std::string& entry_error) {
  const toml::array* arr = n.as_array();
  if (!arr) {
    r.error(n, array_error);
    return std::nullopt;
  }
  std::vector<IpAddress> out;
  for (const auto& el : *arr) {
    auto text = el.value_exact<std::string>();
    auto a = text ? IpAddress::parse(*text) : std::nullopt;
    if (!a) {
      r.error(el, entry_error);
      return std::nullopt;
    }
    out.push_back(*a);
  }
  return out;
}

// The array as read_addresses reads it: ["192.0.2.1", "192.0.2.2"].
inline void write_addresses(TomlOut& out, std::string_view name, const std::vector<IpAddress>& list) {
  std::string v = "[";
  for (std::size_t i = 0; i < list.size(); ++i) v += (i ? ", \"" : "\"") + list[i].to_string() + "\"";
  out.key(name, v + "]");
}

}  // namespace vsd::keys
