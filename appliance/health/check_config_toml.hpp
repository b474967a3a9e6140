// Reads health checks from vsd.toml: a service's [service.check] table gives
// the defaults, a real server's [service.real.check] table overrides them key
// by key. Errors carry the line and column of the offending node; the caller
// (config.cpp) adds the file name.
//
//   [service.check]                 # every key is optional except type
//   type = "http"                   # tcp | http | https | udp | icmp | misc
//   interval = 5                    # seconds between checks (fractions allowed)
//   timeout = 3                     # seconds for one whole check
//   rise = 2                        # consecutive passes to go up
//   fall = 3                        # consecutive failures to go down
//   connect_to = "203.0.113.9:8080" # or "203.0.113.9", ":8080", "[2001:db8::9]:8080"
//   path = "/healthz"               # http/https
//   status = [200, 204]             # http/https; default any 2xx
//   digest = "<32 or 64 hex>"       # http/https; MD5 (keepalived) or SHA-256 of the body
//   payload = "ping\n"              # udp: datagram sent
//   expect = "pong"                 # udp: reply must start with this (default any reply)
//   command = "/usr/local/bin/ok"   # misc: /bin/sh -c, exit 0 = up
//   warmup = 10                     # random 0..warmup seconds before the first check
//   alpha = false                   # true: start down until a check passes
//   on_failure = "remove"           # or "quiesce" (weight 0, keepalived inhibit_on_failure)
//   slow_start = 30                 # seconds of weight ramp after recovery
//   notify = "/usr/local/bin/alert" # run on each transition: SERVICE REAL up|down REASON
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <toml++/toml.h>
#include <utility>
#include <vector>

#include "appliance/health/check_config.hpp"

namespace vsd::health {

struct CheckError {
  int line = 0, column = 0;
  std::string reason;
};

struct CheckLocation {
  int line = 0, column = 0;
};

// The keys one check table sets; the rest stay unset so that merging knows
// what to inherit.
struct CheckOverrides {
  std::optional<CheckType> type;
  std::optional<std::uint32_t> interval_ms, timeout_ms, rise, fall, warmup_ms, slow_start_ms;
  std::optional<ConnectTo> connect_to;
  std::optional<std::string> path, payload, expect, command, notify;
  std::optional<std::vector<int>> status;
  std::optional<Digest> digest;
  std::optional<bool> alpha;
  std::optional<OnFailure> on_failure;

  CheckLocation where;                                   // the table itself
  std::vector<std::pair<std::string, CheckLocation>> keys;  // every key it sets
};

struct CheckTableResult {
  CheckOverrides overrides;  // meaningful only when errors is empty
  std::vector<CheckError> errors;
};

// `where` names the table in messages, e.g. "[service.check]".
CheckTableResult parse_check_table(const toml::table& table, std::string_view where = "[check]");

struct CheckMergeResult {
  std::optional<CheckConfig> config;  // nullopt: no check configured, or errors
  std::vector<CheckError> errors;
};

// Service defaults overridden by the real server's keys; either may be null.
// Both null: no check (the real server is always up). Checks what only the
// whole can tell: a type is set, misc has a command, every key of the real
// server's table applies to the resulting type.
CheckMergeResult merge_check(const CheckOverrides* service, const CheckOverrides* real);

// The keys a check table may hold, and those that apply to one type.
const std::vector<std::string_view>& check_keys();
std::vector<std::string_view> check_keys_for(CheckType type);

}  // namespace vsd::health
