#include "appliance/health/check_config_toml.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
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
constexpr TypeSet every_type = 0xff;
constexpr TypeSet http_types = type_bit(CheckType::http) | type_bit(CheckType::https);
constexpr TypeSet https_type = type_bit(CheckType::https);
constexpr TypeSet udp_type = type_bit(CheckType::udp);
constexpr TypeSet misc_type = type_bit(CheckType::misc);
constexpr TypeSet dns_type = type_bit(CheckType::dns);
constexpr TypeSet file_type = type_bit(CheckType::file);
constexpr TypeSet probing_types = every_type & ~file_type;  // those that send something somewhere

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
template <class V>
void set_from(std::optional<V>& o, const std::optional<V>& v) { o = v; }
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
      r.error(n, "check.type must be tcp | http | https | udp | icmp | misc | dns | file, got \"" + *s + "\"");
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

constexpr const char* status_code_reason =
    "check.status entries must be HTTP status codes from 100 to 599 or ranges \"LOW-HIGH\" such as \"200-299\"";

// 204, or "200-299" (keepalived's status_code range), or "204".
bool add_status(const toml::node& e, std::vector<int>& codes) {
  int low = 0, high = 0;
  if (auto v = e.value_exact<std::int64_t>()) {
    if (*v < 100 || *v > 599) return false;
    low = high = static_cast<int>(*v);
  } else if (auto s = e.value_exact<std::string>()) {
    const auto dash = s->find('-');
    auto number = [](std::string_view t, int& out) {
      auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
      return !t.empty() && ec == std::errc() && end == t.data() + t.size() && out >= 100 && out <= 599;
    };
    if (!number(std::string_view(*s).substr(0, dash), low)) return false;
    if (dash == std::string::npos)
      high = low;
    else if (!number(std::string_view(*s).substr(dash + 1), high) || high < low)
      return false;
  } else {
    return false;
  }
  for (int c = low; c <= high; ++c)
    if (std::find(codes.begin(), codes.end(), c) == codes.end()) codes.push_back(c);
  return true;
}

std::optional<std::vector<int>> read_status_node(CheckReader& r, const toml::node& n, const std::string& name) {
  const toml::array* arr = n.as_array();
  if (!arr) {
    r.error(n, name + " must be an array of status codes and ranges, e.g. [200, \"300-302\"], got " +
                   toml_type_name(n));
    return std::nullopt;
  }
  std::vector<int> codes;
  bool ok = true;
  for (const auto& e : *arr)
    if (!add_status(e, codes)) {
      r.error(e, status_code_reason);
      ok = false;
    }
  if (arr->empty()) {
    r.error(n, name + " must list at least one code (leave it out to accept any 2xx)");
    ok = false;
  }
  if (!ok) return std::nullopt;
  std::sort(codes.begin(), codes.end());
  return codes;
}

void read_status(CheckReader& r, const toml::node& n, CheckOverrides& o) {
  o.status = read_status_node(r, n, "check.status");
}

// [200, 204, "300-399"]: runs of three or more codes as ranges.
std::string write_status(const std::vector<int>& codes) {
  std::string out;
  for (const auto& range : status_ranges(codes)) {
    std::vector<std::string> items;
    if (range.high - range.low >= 2)
      items.push_back("\"" + std::to_string(range.low) + "-" + std::to_string(range.high) + "\"");
    else
      for (int c = range.low; c <= range.high; ++c) items.push_back(std::to_string(c));
    for (auto& i : items) out += (out.empty() ? "" : ", ") + i;
  }
  return "[" + out + "]";
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

// Strings whose empty value is "none": a table cannot set them back to "".
template <auto O, auto C>
void take_nonempty(const CheckConfig& c, CheckOverrides& o) {
  if ((c.*C).empty()) (o.*O).reset(); else o.*O = c.*C;
}

// A check's URL list (empty: the path/status/digest form).
void take_urls(const CheckConfig& c, CheckOverrides& o) {
  if (c.urls.empty()) o.urls.reset(); else o.urls = c.urls;
}


// A DNS name or a Host header: letters, digits, '-', '_', '.', and for a
// Host header an optional ":PORT" (or an IPv6 literal in brackets).
bool host_name_ok(std::string_view h, bool port_allowed) {
  if (h.empty() || h.size() > 255) return false;
  if (h.front() == '[') {
    const auto close = h.find(']');
    if (close == std::string_view::npos || !IpAddress::parse(h.substr(1, close - 1))) return false;
    h = h.substr(close + 1);
    if (h.empty()) return true;
    if (!port_allowed || h.front() != ':') return false;
    h = h.substr(1);
    return !h.empty() && h.find_first_not_of("0123456789") == std::string_view::npos;
  }
  if (port_allowed)
    if (auto colon = h.rfind(':'); colon != std::string_view::npos) {
      auto port = h.substr(colon + 1);
      if (port.empty() || port.find_first_not_of("0123456789") != std::string_view::npos) return false;
      h = h.substr(0, colon);
    }
  if (h.empty()) return false;
  for (char c : h)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_')) return false;
  return true;
}

std::optional<std::string> virtualhost_problem(const std::string& v) {
  if (!host_name_ok(v, true))
    return "check.virtualhost must be a host name (optionally with :PORT), such as \"www.example.com\", got \"" + v +
           "\"";
  return std::nullopt;
}

void read_virtualhost(CheckReader& r, const toml::node& n, CheckOverrides& o) {
  if (auto s = r.string(n)) {
    if (auto why = virtualhost_problem(*s)) r.error(n, *why); else o.virtualhost = *s;
  }
}

std::optional<std::string> sni_problem(const std::string& v) {
  if (!v.empty() && !host_name_ok(v, false))
    return "check.sni must be a host name such as \"www.example.com\" (\"\" for none), got \"" + v + "\"";
  return std::nullopt;
}

void read_sni(CheckReader& r, const toml::node& n, CheckOverrides& o) {
  if (auto s = r.string(n)) {
    if (auto why = sni_problem(*s)) r.error(n, *why); else o.sni = *s;
  }
}

std::optional<std::string> absolute_problem(std::string_view name, const std::string& v) {
  if (v.empty() || v.front() != '/') return std::string(name) + " must be an absolute file name, got \"" + v + "\"";
  return std::nullopt;
}

template <auto O>
void read_absolute(CheckReader& r, const toml::node& n, CheckOverrides& o) {
  if (auto s = r.string(n)) {
    if (auto why = absolute_problem(r.name(), *s)) r.error(n, *why); else o.*O = *s;
  }
}

template <auto O>
std::optional<std::string> check_absolute(const CheckOverrides& o, std::string_view name) {
  return absolute_problem(name, *(o.*O));
}

// One url: { path = "/", status = [200], digest = "...", virtualhost = "..." }.
std::optional<HttpUrl> read_url(CheckReader& r, const toml::node& n) {
  const toml::table* t = n.as_table();
  if (!t) {
    r.error(n, "check.url entries must be tables: { path = \"/\", status = [200], digest = \"...\" }");
    return std::nullopt;
  }
  HttpUrl u;
  bool ok = true;
  for (const auto& [k, v] : *t)
    if (k.str() != "path" && k.str() != "status" && k.str() != "digest" && k.str() != "virtualhost") {
      r.error(v, "unknown key '" + std::string(k.str()) + "' in check.url; known keys: path, status, digest, virtualhost");
      ok = false;
    }
  if (const toml::node* p = t->get("path")) {
    auto s = r.string(*p);
    if (!s) ok = false;
    else if (auto why = path_problem(*s)) { r.error(*p, *why); ok = false; }
    else u.path = *s;
  } else {
    r.error(n, "a check.url entry needs a path, e.g. { path = \"/healthz\" }");
    ok = false;
  }
  if (const toml::node* st = t->get("status")) {
    auto codes = read_status_node(r, *st, "check.url status");
    if (!codes) ok = false; else u.status = *codes;
  }
  if (const toml::node* d = t->get("digest")) {
    std::string why;
    auto s = r.string(*d);
    if (!s) ok = false;
    else if (auto dg = Digest::parse(*s, &why)) u.digest = dg;
    else { r.error(*d, "bad check.url digest: " + why); ok = false; }
  }
  if (const toml::node* v = t->get("virtualhost")) {
    auto s = r.string(*v);
    if (!s) ok = false;
    else if (auto why = virtualhost_problem(*s)) { r.error(*v, *why); ok = false; }
    else u.virtualhost = *s;
  }
  if (!ok) return std::nullopt;
  return u;
}

void read_urls(CheckReader& r, const toml::node& n, CheckOverrides& o) {
  const toml::array* arr = n.as_array();
  if (!arr || arr->empty()) {
    r.error(n, "check.url must be a non-empty array of tables ([[service.check.url]] or "
               "[{ path = \"/a\" }, { path = \"/b\" }])");
    return;
  }
  std::vector<HttpUrl> urls;
  bool ok = true;
  for (const auto& e : *arr)
    if (auto u = read_url(r, e)) urls.push_back(std::move(*u)); else ok = false;
  if (ok) o.urls = std::move(urls);
}

std::string write_urls(const CheckOverrides& o) {
  std::string out;
  for (const auto& u : *o.urls) {
    std::string t = "{ path = " + toml_quote(u.path);
    if (!u.status.empty()) t += ", status = " + write_status(u.status);
    if (u.digest) t += ", digest = " + toml_quote(u.digest->hex);
    if (!u.virtualhost.empty()) t += ", virtualhost = " + toml_quote(u.virtualhost);
    out += (out.empty() ? "" : ", ") + t + " }";
  }
  return "[" + out + "]";
}

std::optional<std::string> check_urls_value(const CheckOverrides& o, std::string_view) {
  if (o.urls->empty()) return "check.url must list at least one URL";
  for (const auto& u : *o.urls) {
    if (auto why = path_problem(u.path)) return why;
    for (int c : u.status)
      if (c < 100 || c > 599) return status_code_reason;
    if (!u.virtualhost.empty())
      if (auto why = virtualhost_problem(u.virtualhost)) return why;
  }
  return std::nullopt;
}

// Bytes as hex: "70696e67", spaces allowed between bytes.
std::optional<std::string> from_hex(std::string_view text) {
  std::string out;
  int high = -1;
  for (char c : text) {
    if (c == ' ' || c == '\t') {
      if (high >= 0) return std::nullopt;
      continue;
    }
    int v = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
            : (c >= 'a' && c <= 'f')                    ? c - 'a' + 10
            : (c >= 'A' && c <= 'F')                    ? c - 'A' + 10
                                                        : -1;
    if (v < 0) return std::nullopt;
    if (high < 0) {
      high = v;
    } else {
      out += static_cast<char>(high * 16 + v);
      high = -1;
    }
  }
  if (high >= 0) return std::nullopt;
  return out;
}

std::string to_hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

// Text TOML writes back as itself: printable ASCII.
bool plain_text(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c >= 0x7f) return false;
  return true;
}

template <auto O>
void read_hex(CheckReader& r, const toml::node& n, CheckOverrides& o) {
  if (auto s = r.string(n)) {
    if (auto bytes = from_hex(*s))
      o.*O = *bytes;
    else
      r.error(n, r.name() + " must be pairs of hex digits (spaces between bytes allowed), e.g. \"12 34 01 00\", got \"" +
                     *s + "\"");
  }
}

// payload / payload_hex (expect / expect_hex) set one value: text goes back
// as text, other bytes as hex.
template <auto O>
bool unset_or_binary(const CheckOverrides& o) { return !(o.*O) || !plain_text(*(o.*O)); }
template <auto O>
bool unset_or_text(const CheckOverrides& o) { return !(o.*O) || plain_text(*(o.*O)); }

template <auto O, auto C>
constexpr CheckKey text_bytes_key(std::string_view name) {
  return {name, udp_type, read_text<O>, [](const CheckOverrides& o) { return toml_quote(*(o.*O)); },
          unset_or_binary<O>, nullptr, apply_field<O, C>, take_field<O, C>};
}

template <auto O, auto C>
constexpr CheckKey hex_bytes_key(std::string_view name) {
  return {name, udp_type, read_hex<O>, [](const CheckOverrides& o) { return toml_quote(to_hex(*(o.*O))); },
          unset_or_text<O>, nullptr, apply_field<O, C>, take_field<O, C>};
}

template <auto O>
void read_run_as(CheckReader& r, const toml::node& n, CheckOverrides& o) {
  if (auto s = r.string(n)) {
    std::string why;
    if (auto ra = RunAs::parse(*s, &why))
      o.*O = *ra;
    else
      r.error(n, "bad " + r.name() + " \"" + *s + "\": " + why);
  }
}

void read_query_type(CheckReader& r, const toml::node& n, CheckOverrides& o) {
  if (auto s = r.string(n))
    if (!(o.query_type = dns_type_from_string(*s)))
      r.error(n, "check.query_type must be A | AAAA | NS | CNAME | SOA | MX | TXT | PTR, got \"" + *s + "\"");
}

std::optional<std::string> query_name_problem(const std::string& name) {
  const std::string why = "check.query_name must be a DNS name such as \"example.com\" (\".\" for the root), got \"" +
                          name + "\"";
  if (name == ".") return std::nullopt;
  if (name.empty() || name.size() > 253 || name.front() == '.') return why;
  std::size_t label = 0;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    if (c == '.') {
      if (label == 0) return why;
      label = 0;
    } else if (c <= 0x20 || c >= 0x7f || ++label > 63) {
      return why;
    }
  }
  return std::nullopt;
}

void read_query_name(CheckReader& r, const toml::node& n, CheckOverrides& o) {
  if (auto s = r.string(n)) {
    if (auto why = query_name_problem(*s)) r.error(n, *why); else o.query_name = *s;
  }
}

void read_factor(CheckReader& r, const toml::node& n, CheckOverrides& o) {
  auto v = n.value_exact<std::int64_t>();
  if (!v) return r.error(n, "check.factor must be an integer, got " + toml_type_name(n));
  if (*v < -65535 || *v > 65535) return r.error(n, range_reason("check.factor", -65535, 65535, *v));
  o.factor = static_cast<std::int32_t>(*v);
}

template <auto O>
void read_bool(CheckReader& r, const toml::node& n, CheckOverrides& o) { o.*O = r.boolean(n); }

template <auto O>
std::string write_bool(const CheckOverrides& o) { return *(o.*O) ? "true" : "false"; }

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
    count_key<&O::retry, &C::retry, 0, 1000>("retry"),
    seconds_key<&O::retry_delay_ms, &C::retry_delay_ms, 0, 3600000>("delay_before_retry"),
    seconds_key<&O::warmup_ms, &C::warmup_ms, 0, 86400000>("warmup"),
    field_key<&O::alpha, &C::alpha>(
        "alpha", every_type, [](CheckReader& r, const toml::node& n, O& o) { o.alpha = r.boolean(n); },
        [](const O& o) { return std::string(*o.alpha ? "true" : "false"); }),
    field_key<&O::on_failure, &C::on_failure>("on_failure", every_type, read_on_failure,
                                              [](const O& o) { return toml_quote(to_string(*o.on_failure)); }),
    seconds_key<&O::slow_start_ms, &C::slow_start_ms, 0, 86400000>("slow_start"),
    text_key<&O::notify, &C::notify>("notify", every_type),
    field_key<&O::notify_user, &C::notify_user>("notify_user", every_type, read_run_as<&O::notify_user>,
                                                [](const O& o) { return toml_quote(o.notify_user->to_string()); }),
    field_key<&O::connect_to, &C::connect_to>("connect_to", probing_types, read_connect_to,
                                              [](const O& o) { return toml_quote(o.connect_to->to_string()); },
                                              check_connect_to),
    field_key<&O::path, &C::path>("path", http_types, read_path, write_quoted<&O::path>,
                                  [](const O& o, std::string_view) { return path_problem(*o.path); }),
    field_key<&O::status, &C::status>("status", http_types, read_status,
                                      [](const O& o) { return write_status(*o.status); }, check_status),
    field_key<&O::digest, &C::digest>("digest", http_types, read_digest,
                                      [](const O& o) { return toml_quote(o.digest->hex); }),
    field_key<&O::urls, &C::urls>("url", http_types, read_urls, write_urls, check_urls_value, take_urls),
    field_key<&O::virtualhost, &C::virtualhost>(
        "virtualhost", http_types, read_virtualhost, write_quoted<&O::virtualhost>,
        [](const O& o, std::string_view) { return virtualhost_problem(*o.virtualhost); }, take_nonempty<&O::virtualhost, &C::virtualhost>),
    field_key<&O::sni, &C::sni>("sni", https_type, read_sni, write_quoted<&O::sni>,
                                [](const O& o, std::string_view) { return sni_problem(*o.sni); }),
    field_key<&O::tls_ca, &C::tls_ca>("tls_ca", https_type, read_absolute<&O::tls_ca>, write_quoted<&O::tls_ca>,
                                      check_absolute<&O::tls_ca>, take_nonempty<&O::tls_ca, &C::tls_ca>),
    field_key<&O::tls_cert, &C::tls_cert>("tls_cert", https_type, read_absolute<&O::tls_cert>,
                                          write_quoted<&O::tls_cert>, check_absolute<&O::tls_cert>,
                                          take_nonempty<&O::tls_cert, &C::tls_cert>),
    field_key<&O::tls_key, &C::tls_key>("tls_key", https_type, read_absolute<&O::tls_key>, write_quoted<&O::tls_key>,
                                        check_absolute<&O::tls_key>, take_nonempty<&O::tls_key, &C::tls_key>),
    text_bytes_key<&O::payload, &C::payload>("payload"),
    hex_bytes_key<&O::payload, &C::payload>("payload_hex"),
    text_bytes_key<&O::expect, &C::expect>("expect"),
    hex_bytes_key<&O::expect, &C::expect>("expect_hex"),
    // The command learns the probed address from VSD_ADDRESS / VSD_PORT.
    field_key<&O::command, &C::command>("command", misc_type, read_command, write_quoted<&O::command>,
                                        check_command, take_command),
    field_key<&O::dynamic, &C::dynamic>("dynamic", misc_type, read_bool<&O::dynamic>, write_bool<&O::dynamic>),
    field_key<&O::user, &C::user>("user", misc_type, read_run_as<&O::user>,
                                  [](const O& o) { return toml_quote(o.user->to_string()); }),
    field_key<&O::query_type, &C::query_type>("query_type", dns_type, read_query_type,
                                              [](const O& o) { return toml_quote(to_string(*o.query_type)); }),
    field_key<&O::query_name, &C::query_name>(
        "query_name", dns_type, read_query_name, write_quoted<&O::query_name>,
        [](const O& o, std::string_view) { return query_name_problem(*o.query_name); }),
    field_key<&O::answer, &C::answer>("answer", dns_type, read_text<&O::answer>, write_quoted<&O::answer>, nullptr,
                                      take_nonempty<&O::answer, &C::answer>),
    field_key<&O::file, &C::file>("file", file_type, read_absolute<&O::file>, write_quoted<&O::file>,
                                  check_absolute<&O::file>, take_nonempty<&O::file, &C::file>),
    field_key<&O::factor, &C::factor>("factor", file_type, read_factor,
                                      [](const O& o) { return std::to_string(*o.factor); },
                                      [](const O& o, std::string_view) -> std::optional<std::string> {
                                        if (*o.factor < -65535 || *o.factor > 65535)
                                          return range_reason("check.factor", -65535, 65535, *o.factor);
                                        return std::nullopt;
                                      }),
    field_key<&O::reverse, &C::reverse>("reverse", file_type, read_bool<&O::reverse>, write_bool<&O::reverse>),
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
constexpr const char* misc_needs_user =
    "a misc check's command needs a user to run as: user = \"NAME\" (or \"NAME:GROUP\"); vsd runs no script as "
    "root unless told so: user = \"root\"";
constexpr const char* notify_needs_user =
    "check.notify needs a user to run as: notify_user = \"NAME\" (or \"NAME:GROUP\"); vsd runs no script as "
    "root unless told so: notify_user = \"root\"";
constexpr const char* file_needs_file =
    "a file check needs the file it reads: file = \"/run/vsd/weight-web1\"";
constexpr const char* cert_and_key = "check.tls_cert and check.tls_key go together (a client certificate and its key)";
constexpr const char* url_or_path =
    "check.url lists the URLs with their path, status and digest; it excludes check.path, check.status and "
    "check.digest";

// What a whole check must hold, beyond each key's own value.
std::vector<std::string> whole_problems(const CheckConfig& c) {
  std::vector<std::string> out;
  if (c.type == CheckType::misc && c.command.empty()) out.push_back(misc_needs_command);
  if (c.type == CheckType::misc && !c.command.empty() && !c.user) out.push_back(misc_needs_user);
  if (!c.notify.empty() && !c.notify_user) out.push_back(notify_needs_user);
  if (c.type == CheckType::file && c.file.empty()) out.push_back(file_needs_file);
  if (c.type == CheckType::https && c.tls_cert.empty() != c.tls_key.empty()) out.push_back(cert_and_key);
  if (!c.urls.empty() && (c.path != "/" || !c.status.empty() || c.digest)) out.push_back(url_or_path);
  return out;
}

bool sets_url_keys(const CheckOverrides& o) { return o.path || o.status || o.digest; }

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
  if (o.urls && sets_url_keys(o))
    if (const toml::node* n = t.get("url")) r.error(*n, url_or_path);

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
  // The URLs: the last level that names any, in its form (url, or
  // path/status/digest merged key by key as always).
  std::optional<std::vector<HttpUrl>> list;
  for (const CheckOverrides* level : {service, real}) {
    if (!level) continue;
    if (level->urls)
      list = level->urls;
    else if (sets_url_keys(*level))
      list.reset();
  }
  if (list) {
    c.urls = *list;
    c.path = "/";
    c.status.clear();
    c.digest.reset();
  } else {
    c.urls.clear();
  }
  for (auto& why : whole_problems(c)) result.errors.push_back({last.where.line, last.where.column, std::move(why)});
  if (result.errors.empty()) result.config = std::move(c);
  return result;
}

ChecksMergeResult merge_checks(const std::vector<CheckOverrides>& service, const std::vector<CheckOverrides>* real,
                               bool array, CheckLocation where) {
  ChecksMergeResult result;
  auto add = [&](CheckMergeResult m) {
    for (auto& e : m.errors) result.errors.push_back(std::move(e));
    if (m.config) result.checks.push_back(std::move(*m.config));
  };
  if (!real) {
    for (const auto& s : service) add(merge_check(&s, nullptr));
  } else if (!array) {
    if (service.size() > 1) {
      const CheckLocation l = real->empty() ? where : real->front().where;
      result.errors.push_back({l.line, l.column,
                               "its service has " + std::to_string(service.size()) +
                                   " checks ([[service.check]]): write this real server's as "
                                   "[[service.real.check]], one per check in the same order (an empty one takes "
                                   "the service's as it is)"});
      return result;
    }
    for (const auto& r : *real) add(merge_check(service.empty() ? nullptr : &service.front(), &r));
  } else {
    if (real->size() < service.size()) {
      result.errors.push_back({where.line, where.column,
                               "its service has " + std::to_string(service.size()) + " checks and this real server "
                               "lists " + std::to_string(real->size()) +
                                   ": give one [[service.real.check]] per check of the service, in its order (an "
                                   "empty one takes the service's as it is), then its own"});
      return result;
    }
    for (std::size_t i = 0; i < real->size(); ++i) add(merge_check(i < service.size() ? &service[i] : nullptr, &(*real)[i]));
  }
  // The real server's own keys: in its first check.
  for (std::size_t i = 1; i < result.checks.size() && result.errors.empty(); ++i)
    if (!server_keys_at_default(result.checks[i])) {
      const CheckOverrides* t = real && i < real->size() ? &(*real)[i] : i < service.size() ? &service[i] : nullptr;
      const CheckLocation l = t ? t->where : where;
      result.errors.push_back({l.line, l.column,
                               "on_failure, slow_start, notify and notify_user belong to the real server: set them "
                               "in its first check, not in check " + std::to_string(i + 1)});
    }
  if (!result.errors.empty()) result.checks.clear();
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
  // The URL form: a list goes whole; one URL over an inherited list names
  // its path, which brings back the one-URL form.
  if (!check.urls.empty()) {
    out.path.reset();
    out.status.reset();
    out.digest.reset();
  } else if (!inherited.urls.empty() && !sets_url_keys(out)) {
    out.path = check.path;
  }
  if (!service || !service->type) out.type = check.type;  // a table without a type needs one
  return out;
}

std::vector<std::string> check_problems(const CheckOverrides& table) { return problems(table, every_type); }

std::vector<std::string> check_problems(const CheckConfig& check) {
  auto out = problems(table_of(check), type_bit(check.type));
  for (auto& why : whole_problems(check)) out.push_back(std::move(why));
  return out;
}

std::vector<std::string> check_problems(const std::vector<CheckConfig>& checks) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < checks.size(); ++i) {
    for (auto& why : check_problems(checks[i])) out.push_back(std::move(why));
    if (i > 0 && !server_keys_at_default(checks[i]))
      out.push_back("on_failure, slow_start, notify and notify_user belong to the real server: set them in its "
                    "first check, not in check " + std::to_string(i + 1));
  }
  return out;
}

}  // namespace vsd::health
