// The checking half of the key table, for validate(): runs each row's check
// on values built in code and places what it finds at the key's location,
// else at its table's, naming the service or real server it is about when
// there is no location at all. validate()'s cross-key rules report through
// it too.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "appliance/config/config_keys.hpp"

namespace vsd {

class KeyChecker {
 public:
  // Where one table's values came from, and what they are about.
  struct Place {
    const KeyLocations* locations = nullptr;  // its keys' (none when built in code)
    std::string prefix;                       // "director." in Config's locations
    SourceLocation table;                     // the table's own position, if any
    std::string subject;                      // ConfigError::subject
  };

  // An error about `key` (empty: the table itself) of the values at `place`.
  void report(const Place& place, std::string_view key, std::string reason);

  // Runs the check of every key of `table` that is not at its default.
  template <class T>
  void check_table(const KeyTable<T>& table, const T& value, Place place);

  // For the rows' checks: the key being checked, and an error about it.
  std::string value_name() const;  // "service.persistent"
  void error(std::string reason) { report(scope_.place, scope_.key, std::move(reason)); }

  std::vector<ConfigError> errors;

 private:
  struct Scope {
    const TableNames* names = nullptr;
    Place place;
    std::string_view key;
  };
  Scope scope_;
};

// Where a service's values, and one of its real servers', came from; the
// subject is "TCP 192.0.2.10:80" and "TCP 192.0.2.10:80 -> 203.0.113.11:8000".
KeyChecker::Place place_of(const ServiceConfig& s);
KeyChecker::Place place_of(const ServiceConfig& s, const RealServerConfig& r);

template <class T>
void KeyChecker::check_table(const KeyTable<T>& table, const T& value, Place place) {
  Scope outer = scope_;
  scope_ = {&table.names, std::move(place), {}};
  for (const auto& key : table.keys) {
    if (!key.check || key.at_default(value)) continue;
    scope_.key = key.name;
    key.check(*this, value);
  }
  scope_ = std::move(outer);
}

}  // namespace vsd
