// Words for configuration error messages, shared by the config reader and
// the health-check reader so both say things the same way.
#pragma once

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

}  // namespace vsd
