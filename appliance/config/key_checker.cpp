#include "appliance/config/key_checker.hpp"

namespace vsd {

void KeyChecker::report(const Place& place, std::string_view key, std::string reason) {
  SourceLocation where = place.table;
  if (place.locations && !key.empty()) {
    auto it = place.locations->find(place.prefix + std::string(key));
    if (it != place.locations->end()) where = it->second;
  }
  errors.push_back({std::move(where), std::move(reason), place.subject});
}

std::string KeyChecker::value_name() const {
  return std::string(scope_.names->values) + "." + std::string(scope_.key);
}

KeyChecker::Place place_of(const ServiceConfig& s) { return {&s.locations, "", s.where, service_label(s)}; }

KeyChecker::Place place_of(const ServiceConfig& s, const RealServerConfig& r) {
  return {&r.locations, "", r.where, service_label(s) + " -> " + real_label(s, r)};
}

}  // namespace vsd
