#include "appliance/health/check_config_toml.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>

#include "appliance/toml_text.hpp"

namespace vsd::health {

namespace {

CheckLocation at(const toml::node& n) {
  return {static_cast<int>(n.source().begin.line), static_cast<int>(n.source().begin.column)};
}

// "0.01", "86400": seconds in messages, without trailing zeros.
std::string seconds_bound(double d) {
  std::string s = std::to_string(d);
  s.erase(s.find_last_not_of('0') + 1);
  if (s.back() == '.') s.pop_back();
  return s;
}

std::string seconds_reason(std::string_view name, double min_s, double max_s, double got) {
  return std::string(name) + " must be from " + seconds_bound(min_s) + " to " + seconds_bound(max_s) +
         " seconds, got " + seconds_bound(got);
}

// Milliseconds as the seconds a file gives: "5", "2.500".
std::string seconds_text(std::uint32_t ms) {
  if (ms % 1000 == 0) return std::to_string(ms / 1000);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", ms / 1000.0);
  return buf;
}

// One table's walk; every problem is collected so one pass reports them all.
class CheckReader {
 public:
  std::string_view key;  // the key being read, for messages
  std::vector<CheckError> errors;

  void error(const toml::node& n, std::string reason) {
    auto l = at(n);
    errors.push_back({l.line, l.column, std::move(reason)});
  }
  std::string name() const { return "check." + std::string(key); }

  // Seconds as an integer or a float, kept as milliseconds.
  std::optional<std::uint32_t> seconds(const toml::node& n, double min_s, double max_s) {
    if (!n.is_integer() && !n.is_floating_point()) {
      error(n, name() + " must be a number of seconds, got " + toml_type_name(n));
      return std::nullopt;
    }
    double v = n.value<double>().value_or(0);
    if (!(v >= min_s && v <= max_s)) {
      error(n, seconds_reason(name(), min_s, max_s, v));
      return std::nullopt;
    }
    return static_cast<std::uint32_t>(std::llround(v * 1000));
  }

  std::optional<std::uint32_t> count(const toml::node& n, std::int64_t min, std::int64_t max) {
    auto v = n.value_exact<std::int64_t>();
    if (!v) {
      error(n, name() + " must be an integer, got " + toml_type_name(n));
      return std::nullopt;
    }
    if (*v < min || *v > max) {
      error(n, range_reason(name(), min, max, *v));
      return std::nullopt;
    }
    return static_cast<std::uint32_t>(*v);
  }

  std::optional<std::string> string(const toml::node& n) {
    if (auto v = n.value_exact<std::string>()) return *v;
    error(n, name() + " must be a string, got " + toml_type_name(n));
    return std::nullopt;
  }

  std::optional<bool> boolean(const toml::node& n) {
    if (auto v = n.value_exact<bool>()) return *v;
    error(n, name() + " must be true or false, got " + toml_type_name(n));
    return std::nullopt;
  }
};

// The check types a key applies to, one bit per CheckType.
using TypeSet = std::uint8_t;
constexpr TypeSet type_bit(CheckType t) { return static_cast<TypeSet>(1u << static_cast<unsigned>(t)); }
constexpr TypeSet every_type = 0x3f;
constexpr TypeSet http_types = type_bit(CheckType::http) | type_bit(CheckType::https);
constexpr TypeSet udp_type = type_bit(CheckType::udp);
constexpr TypeSet misc_type = type_bit(CheckType::misc);

// One key of a check table: the config's key-table row (how it is read,
// written, whether it is set, what a value set in code must keep) plus the
// check types it applies to and how merging and the writer move it between
// a table (CheckOverrides) and a whole check (CheckConfig).
struct CheckKey {
  using Read = void (*)(CheckReader&, const toml::node&, CheckOverrides&);
  using Write = std::string (*)(const CheckOverrides&);
  using Check = std::optional<std::string> (*)(const CheckOverrides&, std::string_view name);
  using Apply = void (*)(const CheckOverrides&, CheckConfig&);
  using Take = void (*)(const CheckConfig&, CheckOverrides&);

  std::string_view name;
  TypeSet types;
  Read read;              // stores the value, or reports why not
  Write write;            // the value as TOML text (the key is set)
  bool (*at_default)(const CheckOverrides&);  // unset: inherited from the service
  Check check;            // null: every value is one the reader takes
  Apply apply;            // merging: a set key replaces the inherited value
  Take take;              // the check's value as a table would set it
};

template <auto O>
bool unset(const CheckOverrides& o) { return !(o.*O); }

template <auto O, auto C>
void apply_field(const CheckOverrides& o, CheckConfig& c) {
  if (o.*O) c.*C = *(o.*O);
}

// A check's value as an override; a table cannot set "no connect_to" or an
// empty status list, so those stay unset.
template <class V>
void set_from(std::optional<V>& o, const V& v) { o = v; }
void set_from(std::optional<Digest>& o, const std::optional<Digest>& v) { o = v; }
void set_from(std::optional<ConnectTo>& o, const ConnectTo& v) {
  if (v.empty()) o.reset(); else o = v;
}
void set_from(std::optional<std::vector<int>>& o, const std::vector<int>& v) {
  if (v.empty()) o.reset(); else o = v;
}

template <auto O, auto C>
void take_field(const CheckConfig& c, CheckOverrides& o) { set_from(o.*O, c.*C); }

template <auto O>
std::string write_quoted(const CheckOverrides& o) { return toml_quote(*(o.*O)); }

template <auto O, auto C>
constexpr CheckKey field_key(std::string_view name, TypeSet types, CheckKey::Read read,
                             CheckKey::Write write, CheckKey::Check check = nullptr,
                             CheckKey::Take take = take_field<O, C>) {
  return {name, types, read, write, unset<O>, check, apply_field<O, C>, take};
}

// The bounds in milliseconds: clang before 18 has no floating-point
// template parameters.
template <auto O, std::int64_t MinMs, std::int64_t MaxMs>
void read_seconds(CheckReader& r, const toml::node& n, CheckOverrides& o) {
  o.*O = r.seconds(n, MinMs / 1000.0, MaxMs / 1000.0);
}

template <auto O, std::int64_t MinMs, std::int64_t MaxMs>
std::optional<std::string> check_seconds(const CheckOverrides& o, std::string_view name) {
  const auto ms = static_cast<long long>(*(o.*O));
  if (ms < MinMs || ms > MaxMs)
    return seconds_reason(name, MinMs / 1000.0, MaxMs / 1000.0, static_cast<double>(ms) / 1000);
  return std::nullopt;
}

template <auto O>
std::string write_seconds(const CheckOverrides& o) { return seconds_text(*(o.*O)); }

template <auto O, auto C, std::int64_t MinMs, std::int64_t MaxMs>
constexpr CheckKey seconds_key(std::string_view name) {
  return field_key<O, C>(name, every_type, read_seconds<O, MinMs, MaxMs>, write_seconds<O>,
                         check_seconds<O, MinMs, MaxMs>);
}

template <auto O, std::int64_t Min, std::int64_t Max>
void read_count(CheckReader& r, const toml::node& n, CheckOverrides& o) { o.*O = r.count(n, Min, Max); }

template <auto O, std::int64_t Min, std::int64_t Max>
std::optional<std::string> check_count(const CheckOverrides& o, std::string_view name) {
  const std::int64_t v = *(o.*O);
  if (v < Min || v > Max) return range_reason(name, Min, Max, v);
  return std::nullopt;
}

template <auto O, auto C, std::int64_t Min, std::int64_t Max>
constexpr CheckKey count_key(std::string_view name) {
  return field_key<O, C>(name, every_type, read_count<O, Min, Max>,
                         [](const CheckOverrides& o) { return std::to_string(*(o.*O)); },
                         check_count<O, Min, Max>);
}

template <auto O>
void read_text(CheckReader& r, const toml::node& n, CheckOverrides& o) { o.*O = r.string(n); }

template <auto O, auto C>
constexpr CheckKey text_key(std::string_view name, TypeSet types) {
  return field_key<O, C>(name, types, read_text<O>, write_quoted<O>);
}

void read_type(CheckReader& r, const toml::node& n, CheckOverrides& o) {
  if (auto s = r.string(n))
    if (!(o.type = check_type_from_string(*s)))
      r.error(n, "check.type must be tcp | http | https | udp | icmp | misc, got \"" + *s + "\"");
}

void read_on_failure(CheckReader& r, const toml::node& n, CheckOverrides& o) {
  auto s = r.string(n);
  if (!s) return;
  if (*s == "remove")
    o.on_failure = OnFailure::remove;
  else if (*s == "quiesce")
    o.on_failure = OnFailure::quiesce;
  else
    r.error(n, "check.on_failure must be remove | quiesce, got \"" + *s + "\"");
}

void read_connect_to(CheckReader& r, const toml::node& n, CheckOverrides& o) {
  if (auto port = n.value_exact<std::int64_t>()) {  // a bare port number
    if (*port < 1 || *port > 65535)
      r.error(n, "check.connect_to port must be from 1 to 65535, got " + std::to_string(*port));
    else
      o.connect_to = ConnectTo{std::nullopt, static_cast<std::uint16_t>(*port)};
  } else if (auto s = r.string(n)) {
    std::string why;
    if (!(o.connect_to = ConnectTo::parse(*s, &why)))
      r.error(n, "bad check.connect_to \"" + *s + "\": " + why +
                     " (write \"ADDRESS:PORT\", \"ADDRESS\" or \":PORT\")");
  }
}

std::optional<std::string> check_connect_to(const CheckOverrides& o, std::string_view) {
  if (o.connect_to->port == 0) return "check.connect_to port must be from 1 to 65535, got 0";
  return std::nullopt;
}

std::optional<std::string> path_problem(const std::string& path) {
  if (path.empty() || path.front() != '/' || path.find_first_of(" \t\r\n") != std::string::npos)
    return "check.path must start with '/' and hold no spaces or line breaks, got \"" + path + "\"";
  return std::nullopt;
}

void read_path(CheckReader& r, const toml::node& n, CheckOverrides& o) {
  if (auto s = r.string(n)) {
    if (auto why = path_problem(*s))
      r.error(n, *why);
    else
      o.path = *s;
  }
}

constexpr const char* status_code_reason = "check.status entries must be HTTP status codes from 100 to 599";

void read_status(CheckReader& r, const toml::node& n, CheckOverrides& o) {
  const toml::array* arr = n.as_array();
  if (!arr) {
    r.error(n, "check.status must be an array of status codes, e.g. [200, 204], got " + toml_type_name(n));
    return;
  }
  std::vector<int> codes;
  bool ok = true;
  for (const auto& e : *arr) {
    auto v = e.value_exact<std::int64_t>();
    if (!v || *v < 100 || *v > 599) {
      r.error(e, status_code_reason);
      ok = false;
    } else {
      codes.push_back(static_cast<int>(*v));
    }
  }
  if (arr->empty()) {
    r.error(n, "check.status must list at least one code (leave it out to accept any 2xx)");
    ok = false;
  }
  if (ok) o.status = codes;
}

std::optional<std::string> check_status(const CheckOverrides& o, std::string_view) {
  if (o.status->empty()) return "check.status must list at least one code (leave it out to accept any 2xx)";
  for (int code : *o.status)
    if (code < 100 || code > 599) return status_code_reason;
  return std::nullopt;
}

void read_digest(CheckReader& r, const toml::node& n, CheckOverrides& o) {
  if (auto s = r.string(n)) {
    std::string why;
    if (!(o.digest = Digest::parse(*s, &why))) r.error(n, "bad check.digest: " + why);
  }
}

bool blank(const std::string& s) { return s.find_first_not_of(" \t") == std::string::npos; }

void read_command(CheckReader& r, const toml::node& n, CheckOverrides& o) {
  if (auto s = r.string(n)) {
    if (blank(*s))
      r.error(n, "check.command must not be empty");
    else
      o.command = *s;
  }
}

std::optional<std::string> check_command(const CheckOverrides& o, std::string_view) {
  if (blank(*o.command)) return "check.command must not be empty";
  return std::nullopt;
}

// A check without a command has none to write (and merge_check refuses a
// misc check without one).
void take_command(const CheckConfig& c, CheckOverrides& o) {
  if (c.command.empty()) o.command.reset(); else o.command = c.command;
}

using O = CheckOverrides;
using C = CheckConfig;

// Every key of [service.check] / [service.real.check], in the order of
// etc/vsd.toml and of the "known keys" lists.
const CheckKey check_table[] = {
    field_key<&O::type, &C::type>("type", every_type, read_type,
                                  [](const O& o) { return toml_quote(to_string(*o.type)); }),
    seconds_key<&O::interval_ms, &C::interval_ms, 10, 86400000>("interval"),
    seconds_key<&O::timeout_ms, &C::timeout_ms, 10, 3600000>("timeout"),
    count_key<&O::rise, &C::rise, 1, 1000>("rise"),
    count_key<&O::fall, &C::fall, 1, 1000>("fall"),
    seconds_key<&O::warmup_ms, &C::warmup_ms, 0, 86400000>("warmup"),
    field_key<&O::alpha, &C::alpha>(
        "alpha", every_type, [](CheckReader& r, const toml::node& n, O& o) { o.alpha = r.boolean(n); },
        [](const O& o) { return std::string(*o.alpha ? "true" : "false"); }),
    field_key<&O::on_failure, &C::on_failure>("on_failure", every_type, read_on_failure,
                                              [](const O& o) { return toml_quote(to_string(*o.on_failure)); }),
    seconds_key<&O::slow_start_ms, &C::slow_start_ms, 0, 86400000>("slow_start"),
    text_key<&O::notify, &C::notify>("notify", every_type),
    field_key<&O::connect_to, &C::connect_to>("connect_to", every_type, read_connect_to,
                                              [](const O& o) { return toml_quote(o.connect_to->to_string()); },
                                              check_connect_to),
    field_key<&O::path, &C::path>("path", http_types, read_path, write_quoted<&O::path>,
                                  [](const O& o, std::string_view) { return path_problem(*o.path); }),
    field_key<&O::status, &C::status>(
        "status", http_types, read_status,
        [](const O& o) { return toml_array(*o.status, [](int code) { return std::to_string(code); }); },
        check_status),
    field_key<&O::digest, &C::digest>("digest", http_types, read_digest,
                                      [](const O& o) { return toml_quote(o.digest->hex); }),
    text_key<&O::payload, &C::payload>("payload", udp_type),
    text_key<&O::expect, &C::expect>("expect", udp_type),
    // The command learns the probed address from VSD_ADDRESS / VSD_PORT.
    field_key<&O::command, &C::command>("command", misc_type, read_command, write_quoted<&O::command>,
                                        check_command, take_command),
};

bool applies(CheckType type, std::string_view key) {
  for (const auto& k : check_table)
    if (k.name == key) return (k.types & type_bit(type)) != 0;
  return false;
}

CheckError misplaced(std::string_view key, CheckLocation l, CheckType type) {
  return {l.line, l.column,
          "check." + std::string(key) + " does not apply to type = \"" + to_string(type) +
              "\" (its keys: " + join_names(check_keys_for(type)) + ")"};
}

// Every key of a whole check, as a table would set it.
CheckOverrides table_of(const CheckConfig& c) {
  CheckOverrides o;
  for (const auto& k : check_table) k.take(c, o);
  return o;
}

std::vector<std::string> problems(const CheckOverrides& o, TypeSet types) {
  std::vector<std::string> out;
  for (const auto& k : check_table)
    if ((k.types & types) && k.check && !k.at_default(o))
      if (auto why = k.check(o, "check." + std::string(k.name))) out.push_back(std::move(*why));
  return out;
}

constexpr const char* misc_needs_command =
    "a misc check needs a command, e.g. command = \"/usr/local/bin/check\"";

}  // namespace

const std::vector<std::string_view>& check_keys() {
  static const std::vector<std::string_view> keys = [] {
    std::vector<std::string_view> k;
    for (const auto& key : check_table) k.push_back(key.name);
    return k;
  }();
  return keys;
}

std::vector<std::string_view> check_keys_for(CheckType type) {
  std::vector<std::string_view> k;
  for (const auto& key : check_table)
    if (key.types & type_bit(type)) k.push_back(key.name);
  return k;
}

CheckTableResult parse_check_table(const toml::table& t, std::string_view where) {
  CheckTableResult result;
  CheckOverrides& o = result.overrides;
  o.where = at(t);
  CheckReader r;

  // Unknown keys are errors: a typo must not silently become a default.
  const auto& known = check_keys();
  for (const auto& [k, v] : t) {
    if (std::find(known.begin(), known.end(), k.str()) == known.end())
      r.error(v, "unknown key '" + std::string(k.str()) + "' in " + std::string(where) +
                     "; known keys: " + join_names(known));
    else
      o.keys.emplace_back(std::string(k.str()), at(v));
  }
  for (const auto& key : check_table)
    if (const toml::node* n = t.get(key.name)) {
      r.key = key.name;
      key.read(r, *n, o);
    }

  // With its own type, a table's keys must fit that type; without one they
  // are judged after merging (the type comes from the service).
  if (o.type)
    for (const auto& [key, loc] : o.keys)
      if (!applies(*o.type, key)) r.errors.push_back(misplaced(key, loc, *o.type));

  result.errors = std::move(r.errors);
  std::stable_sort(result.errors.begin(), result.errors.end(), [](const auto& a, const auto& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
  return result;
}

CheckMergeResult merge_check(const CheckOverrides* service, const CheckOverrides* real) {
  CheckMergeResult result;
  if (!service && !real) return result;
  const CheckOverrides& last = real ? *real : *service;
  if (!(service && service->type) && !(real && real->type)) {
    result.errors.push_back({last.where.line, last.where.column,
                             "a check needs a type: type = \"tcp\" | \"http\" | \"https\" | "
                             "\"udp\" | \"icmp\" | \"misc\""});
    return result;
  }
  CheckConfig c;
  for (const auto& key : check_table) {
    if (service) key.apply(*service, c);
    if (real) key.apply(*real, c);
  }
  if (real && !real->type)
    for (const auto& [key, loc] : real->keys)
      if (!applies(c.type, key)) result.errors.push_back(misplaced(key, loc, c.type));
  if (c.type == CheckType::misc && c.command.empty())
    result.errors.push_back({last.where.line, last.where.column, misc_needs_command});
  if (result.errors.empty()) result.config = std::move(c);
  return result;
}

std::string write_check_keys(const CheckOverrides& table) {
  std::string out;
  for (const auto& key : check_table)
    if (!key.at_default(table)) out += std::string(key.name) + " = " + key.write(table) + "\n";
  return out;
}

CheckOverrides check_overrides(const CheckOverrides* service, const CheckConfig& check) {
  CheckConfig inherited;
  if (service)
    for (const auto& key : check_table) key.apply(*service, inherited);
  const CheckOverrides mine = table_of(check), theirs = table_of(inherited);
  CheckOverrides out;
  for (const auto& key : check_table) {
    if (!(key.types & type_bit(check.type)) || key.at_default(mine)) continue;
    if (key.at_default(theirs) || key.write(mine) != key.write(theirs)) key.take(check, out);
  }
  if (!service || !service->type) out.type = check.type;  // a table without a type needs one
  return out;
}

std::vector<std::string> check_problems(const CheckOverrides& table) { return problems(table, every_type); }

std::vector<std::string> check_problems(const CheckConfig& check) {
  auto out = problems(table_of(check), type_bit(check.type));
  if (check.type == CheckType::misc && check.command.empty()) out.push_back(misc_needs_command);
  return out;
}

}  // namespace vsd::health
