#include "appliance/config/config_reader.hpp"

#include <algorithm>

namespace vsd {

SourceLocation ConfigReader::at(const toml::node& n) const {
  return {file_, static_cast<int>(n.source().begin.line), static_cast<int>(n.source().begin.column)};
}

void ConfigReader::error(const toml::node& n, std::string reason) {
  errors.push_back({at(n), std::move(reason)});
}

void ConfigReader::add(int line, int column, std::string reason) {
  errors.push_back({{file_, line, column}, std::move(reason)});
}

std::string ConfigReader::value_name() const {
  return std::string(scope_.names->values) + "." + std::string(scope_.key);
}

std::string ConfigReader::string_name() const {
  return std::string(scope_.names->strings) + "." + std::string(scope_.key);
}

bool ConfigReader::has_read(std::string_view key) const {
  return std::find(scope_.read.begin(), scope_.read.end(), key) != scope_.read.end();
}

void ConfigReader::note(const std::string& element, const toml::node& n) {
  (*scope_.locations)[scope_.prefix + element] = at(n);
}

// Unknown keys are errors: a typo must not silently become a default.
void ConfigReader::unknown_keys(const toml::table& t, const std::vector<std::string_view>& known) {
  for (const auto& [k, v] : t) {
    if (std::find(known.begin(), known.end(), k.str()) != known.end()) continue;
    error(v, "unknown key '" + std::string(k.str()) + "' in " + std::string(scope_.names->table) +
                 "; known keys: " + join_names(known));
  }
}

std::optional<std::int64_t> ConfigReader::integer(const toml::node& n, std::int64_t min, std::int64_t max) {
  auto v = n.value_exact<std::int64_t>();
  if (!v) {
    error(n, value_name() + " must be an integer, got " + toml_type_name(n));
    return std::nullopt;
  }
  if (*v < min || *v > max) {
    error(n, range_reason(value_name(), min, max, *v));
    return std::nullopt;
  }
  return v;
}

std::optional<bool> ConfigReader::boolean(const toml::node& n) {
  if (auto v = n.value_exact<bool>()) return v;
  error(n, value_name() + " must be true or false, got " + toml_type_name(n));
  return std::nullopt;
}

std::optional<std::string> ConfigReader::string(const toml::node& n) {
  if (auto v = n.value_exact<std::string>()) return v;
  error(n, string_name() + " must be a string, got " + toml_type_name(n));
  return std::nullopt;
}

std::optional<health::CheckOverrides> ConfigReader::check_table(const toml::node& n, std::string_view where) {
  const toml::table* t = n.as_table();
  if (!t) {
    error(n, std::string(where) + " must be a table: write " + std::string(where));
    return std::nullopt;
  }
  auto r = health::parse_check_table(*t, where);
  for (auto& e : r.errors) add(e.line, e.column, std::move(e.reason));
  if (!r.errors.empty()) return std::nullopt;
  return r.overrides;
}

}  // namespace vsd
