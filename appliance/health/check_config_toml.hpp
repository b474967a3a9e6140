// Health checks in vsd.toml: a service's [service.check] table gives the
// defaults, a real server's [service.real.check] table overrides them key
// by key. Its keys are one table of rows (check_config_toml.cpp, in the
// style of the config's key table: how each is read, written and checked,
// and the check types it applies to); etc/vsd.toml documents every one.
// Errors carry the line and column of the offending node; the caller
// (the config reader) adds the file name.
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
  std::optional<std::uint32_t> retry, retry_delay_ms;
  std::optional<ConnectTo> connect_to;
  std::optional<std::string> path, payload, expect, command, notify;
  std::optional<std::vector<int>> status;
  std::optional<Digest> digest;
  std::optional<std::vector<HttpUrl>> urls;
  std::optional<std::string> virtualhost, sni, tls_ca, tls_cert, tls_key;
  std::optional<bool> alpha, dynamic, reverse;
  std::optional<OnFailure> on_failure;
  std::optional<RunAs> user, notify_user;
  std::optional<DnsType> query_type;
  std::optional<std::string> query_name, answer, file;
  std::optional<std::int32_t> factor;

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

// Several checks of one real server ([[service.check]] and
// [[service.real.check]]): `service` are its service's tables (empty:
// none), `real` the real server's own (null: it has no check key; `array`:
// they were written as [[service.real.check]]). Without its own tables a
// real server takes every check of its service; one [service.real.check]
// table goes over the service's only check; [[service.real.check]] entry i
// goes over the service's check i (an empty entry takes it as it is), and
// entries past the service's stand alone. The keys of the real server
// (on_failure, slow_start, notify, notify_user) belong in its first check.
// `where` places errors about the whole (a real server's table).
struct ChecksMergeResult {
  std::vector<CheckConfig> checks;  // empty: no check, or errors
  std::vector<CheckError> errors;
};
ChecksMergeResult merge_checks(const std::vector<CheckOverrides>& service, const std::vector<CheckOverrides>* real,
                               bool array, CheckLocation where);

// The keys a check table may hold, and those that apply to one type, in
// the table's order.
const std::vector<std::string_view>& check_keys();
std::vector<std::string_view> check_keys_for(CheckType type);

// The keys a table sets, as TOML lines ("interval = 2.500\n"), in the
// table's order: the body of a [service.check] the writer saves.
std::string write_check_keys(const CheckOverrides& table);

// What a real server's [service.real.check] must hold so that merging it
// over its service's `service` table (null: none) gives back `check`: the
// keys of check's type whose value differs from the inherited one, and the
// type when the service's table does not give it. Keys that do not apply to
// the type are left out (they come back as the service's), and so are
// values TOML cannot set back (no digest, connect_to or status over a
// service that has one); parse_config never produces such a check.
CheckOverrides check_overrides(const CheckOverrides* service, const CheckConfig& check);

// What parse_check_table / merge_check would refuse in a check built in
// code (ranges, formats, a misc check without a command), one reason each.
// A table or check that came from a file has none.
std::vector<std::string> check_problems(const CheckOverrides& table);
std::vector<std::string> check_problems(const CheckConfig& check);
// The same for a real server's list: each check's, and the real server's
// keys set in a check after the first.
std::vector<std::string> check_problems(const std::vector<CheckConfig>& checks);

}  // namespace vsd::health
