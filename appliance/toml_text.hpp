// Words for configuration text, shared by the config reader and writer and
// the health-check tables so that all of them say and write things the same
// way: error-message vocabulary, and TOML values as the writer spells them.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <toml++/toml.h>

namespace vsd {

// "string", "integer", ...: what a TOML node is, for "must be X, got Y".
inline std::string toml_type_name(const toml::node& n) {
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

// "a, b, c": names joined for "known keys: ..." lists.
template <class Range>
std::string join_names(const Range& names, std::string_view sep = ", ") {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += sep;
    out += std::string_view(n);
  }
  return out;
}

// "X must be from MIN to MAX, got V": the range message of every integer key.
inline std::string range_reason(std::string_view name, long long min, long long max, long long got) {
  return std::string(name) + " must be from " + std::to_string(min) + " to " + std::to_string(max) +
         ", got " + std::to_string(got);
}

// A TOML basic string: quotes, backslashes and control characters escaped.
inline std::string toml_quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

// "[a, b]": a TOML array of the values `spell` turns into TOML text.
template <class Range, class Spell>
std::string toml_array(const Range& values, Spell spell) {
  std::string out = "[";
  for (const auto& v : values) {
    if (out.size() > 1) out += ", ";
    out += spell(v);
  }
  return out + "]";
}

}  // namespace vsd
