#include "appliance/health/check_config_toml.hpp"

#include <algorithm>
#include <cmath>

#include "appliance/toml_text.hpp"

namespace vsd::health {

namespace {

constexpr std::string_view common_keys[] = {"type",   "interval",   "timeout",    "rise",
                                            "fall",   "warmup",     "alpha",      "on_failure",
                                            "slow_start", "notify"};

CheckLocation at(const toml::node& n) {
  return {static_cast<int>(n.source().begin.line), static_cast<int>(n.source().begin.column)};
}

// One table's walk; every problem is collected so one pass reports them all.
class Reader {
 public:
  explicit Reader(const toml::table& t) : t_(t) {}

  void error(const toml::node& n, std::string reason) {
    auto l = at(n);
    errors.push_back({l.line, l.column, std::move(reason)});
  }
  std::string name(std::string_view key) const { return "check." + std::string(key); }

  // Seconds as an integer or a float, kept as milliseconds.
  std::optional<std::uint32_t> seconds(std::string_view key, double min_s, double max_s) {
    const toml::node* n = t_.get(key);
    if (!n) return std::nullopt;
    if (!n->is_integer() && !n->is_floating_point()) {
      error(*n, name(key) + " must be a number of seconds, got " + toml_type_name(*n));
      return std::nullopt;
    }
    double v = n->value<double>().value_or(0);
    if (!(v >= min_s && v <= max_s)) {
      auto fmt = [](double d) {
        std::string s = std::to_string(d);
        s.erase(s.find_last_not_of('0') + 1);
        if (s.back() == '.') s.pop_back();
        return s;
      };
      error(*n, name(key) + " must be from " + fmt(min_s) + " to " + fmt(max_s) +
                    " seconds, got " + fmt(v));
      return std::nullopt;
    }
    return static_cast<std::uint32_t>(std::llround(v * 1000));
  }

  std::optional<std::uint32_t> count(std::string_view key, std::int64_t min, std::int64_t max) {
    const toml::node* n = t_.get(key);
    if (!n) return std::nullopt;
    auto v = n->value_exact<std::int64_t>();
    if (!v) {
      error(*n, name(key) + " must be an integer, got " + toml_type_name(*n));
      return std::nullopt;
    }
    if (*v < min || *v > max) {
      error(*n, name(key) + " must be from " + std::to_string(min) + " to " + std::to_string(max) +
                    ", got " + std::to_string(*v));
      return std::nullopt;
    }
    return static_cast<std::uint32_t>(*v);
  }

  std::optional<std::string> string(std::string_view key) {
    const toml::node* n = t_.get(key);
    if (!n) return std::nullopt;
    if (auto v = n->value_exact<std::string>()) return *v;
    error(*n, name(key) + " must be a string, got " + toml_type_name(*n));
    return std::nullopt;
  }

  std::optional<bool> boolean(std::string_view key) {
    const toml::node* n = t_.get(key);
    if (!n) return std::nullopt;
    if (auto v = n->value_exact<bool>()) return *v;
    error(*n, name(key) + " must be true or false, got " + toml_type_name(*n));
    return std::nullopt;
  }

  std::vector<CheckError> errors;

 private:
  const toml::table& t_;
};

bool applies(CheckType type, std::string_view key) {
  auto keys = check_keys_for(type);
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

CheckError misplaced(std::string_view key, CheckLocation l, CheckType type) {
  return {l.line, l.column,
          "check." + std::string(key) + " does not apply to type = \"" + to_string(type) +
              "\" (its keys: " + join_names(check_keys_for(type)) + ")"};
}

}  // namespace

const std::vector<std::string_view>& check_keys() {
  static const std::vector<std::string_view> keys = [] {
    std::vector<std::string_view> k(std::begin(common_keys), std::end(common_keys));
    for (auto extra : {"connect_to", "path", "status", "digest", "payload", "expect", "command"})
      k.push_back(extra);
    return k;
  }();
  return keys;
}

std::vector<std::string_view> check_keys_for(CheckType type) {
  std::vector<std::string_view> k(std::begin(common_keys), std::end(common_keys));
  switch (type) {
    case CheckType::tcp:
    case CheckType::icmp: k.push_back("connect_to"); break;
    case CheckType::http:
    case CheckType::https:
      for (auto e : {"connect_to", "path", "status", "digest"}) k.push_back(e);
      break;
    case CheckType::udp:
      for (auto e : {"connect_to", "payload", "expect"}) k.push_back(e);
      break;
    // The command learns the probed address from VSD_ADDRESS / VSD_PORT.
    case CheckType::misc:
      for (auto e : {"connect_to", "command"}) k.push_back(e);
      break;
  }
  return k;
}

CheckTableResult parse_check_table(const toml::table& t, std::string_view where) {
  CheckTableResult result;
  CheckOverrides& o = result.overrides;
  o.where = at(t);
  Reader r(t);

  // Unknown keys are errors: a typo must not silently become a default.
  for (const auto& [k, v] : t) {
    const auto& known = check_keys();
    if (std::find(known.begin(), known.end(), k.str()) == known.end())
      r.error(v, "unknown key '" + std::string(k.str()) + "' in " + std::string(where) +
                     "; known keys: " + join_names(known));
    else
      o.keys.emplace_back(std::string(k.str()), at(v));
  }

  if (auto s = r.string("type")) {
    if (!(o.type = check_type_from_string(*s)))
      r.error(*t.get("type"), "check.type must be tcp | http | https | udp | icmp | misc, got \"" + *s + "\"");
  }
  o.interval_ms = r.seconds("interval", 0.01, 86400);
  o.timeout_ms = r.seconds("timeout", 0.01, 3600);
  o.warmup_ms = r.seconds("warmup", 0, 86400);
  o.slow_start_ms = r.seconds("slow_start", 0, 86400);
  o.rise = r.count("rise", 1, 1000);
  o.fall = r.count("fall", 1, 1000);
  o.alpha = r.boolean("alpha");

  if (const toml::node* n = t.get("connect_to")) {
    if (auto port = n->value_exact<std::int64_t>()) {  // a bare port number
      if (*port < 1 || *port > 65535)
        r.error(*n, "check.connect_to port must be from 1 to 65535, got " + std::to_string(*port));
      else
        o.connect_to = ConnectTo{std::nullopt, static_cast<std::uint16_t>(*port)};
    } else if (auto s = r.string("connect_to")) {
      std::string why;
      if (!(o.connect_to = ConnectTo::parse(*s, &why)))
        r.error(*n, "bad check.connect_to \"" + *s + "\": " + why +
                        " (write \"ADDRESS:PORT\", \"ADDRESS\" or \":PORT\")");
    }
  }
  if (auto s = r.string("path")) {
    if (s->empty() || s->front() != '/' ||
        s->find_first_of(" \t\r\n") != std::string::npos)
      r.error(*t.get("path"), "check.path must start with '/' and hold no spaces or line breaks, got \"" + *s + "\"");
    else
      o.path = *s;
  }
  if (const toml::node* n = t.get("status")) {
    if (const toml::array* arr = n->as_array()) {
      std::vector<int> codes;
      bool ok = true;
      for (const auto& e : *arr) {
        auto v = e.value_exact<std::int64_t>();
        if (!v || *v < 100 || *v > 599) {
          r.error(e, "check.status entries must be HTTP status codes from 100 to 599");
          ok = false;
        } else {
          codes.push_back(static_cast<int>(*v));
        }
      }
      if (arr->empty()) {
        r.error(*n, "check.status must list at least one code (leave it out to accept any 2xx)");
        ok = false;
      }
      if (ok) o.status = codes;
    } else {
      r.error(*n, "check.status must be an array of status codes, e.g. [200, 204], got " + toml_type_name(*n));
    }
  }
  if (auto s = r.string("digest")) {
    std::string why;
    if (!(o.digest = Digest::parse(*s, &why))) r.error(*t.get("digest"), "bad check.digest: " + why);
  }
  o.payload = r.string("payload");
  o.expect = r.string("expect");
  if (auto s = r.string("command")) {
    if (s->find_first_not_of(" \t") == std::string::npos)
      r.error(*t.get("command"), "check.command must not be empty");
    else
      o.command = *s;
  }
  o.notify = r.string("notify");
  if (auto s = r.string("on_failure")) {
    if (*s == "remove")
      o.on_failure = OnFailure::remove;
    else if (*s == "quiesce")
      o.on_failure = OnFailure::quiesce;
    else
      r.error(*t.get("on_failure"), "check.on_failure must be remove | quiesce, got \"" + *s + "\"");
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

namespace {

void apply(const CheckOverrides& o, CheckConfig& c) {
  if (o.type) c.type = *o.type;
  if (o.interval_ms) c.interval_ms = *o.interval_ms;
  if (o.timeout_ms) c.timeout_ms = *o.timeout_ms;
  if (o.rise) c.rise = *o.rise;
  if (o.fall) c.fall = *o.fall;
  if (o.warmup_ms) c.warmup_ms = *o.warmup_ms;
  if (o.slow_start_ms) c.slow_start_ms = *o.slow_start_ms;
  if (o.connect_to) c.connect_to = *o.connect_to;
  if (o.path) c.path = *o.path;
  if (o.payload) c.payload = *o.payload;
  if (o.expect) c.expect = *o.expect;
  if (o.command) c.command = *o.command;
  if (o.notify) c.notify = *o.notify;
  if (o.status) c.status = *o.status;
  if (o.digest) c.digest = *o.digest;
  if (o.alpha) c.alpha = *o.alpha;
  if (o.on_failure) c.on_failure = *o.on_failure;
}

}  // namespace

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
  if (service) apply(*service, c);
  if (real) apply(*real, c);
  if (real && !real->type)
    for (const auto& [key, loc] : real->keys)
      if (!applies(c.type, key)) result.errors.push_back(misplaced(key, loc, c.type));
  if (c.type == CheckType::misc && c.command.empty())
    result.errors.push_back({last.where.line, last.where.column,
                             "a misc check needs a command, e.g. command = \"/usr/local/bin/check\""});
  if (result.errors.empty()) result.config = std::move(c);
  return result;
}

}  // namespace vsd::health
