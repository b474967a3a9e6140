#include "appliance/daemon/ipvs_totals.hpp"

namespace vsd {

namespace {

std::string key_of(const control::ServiceStatus& s) {
  if (s.is_fwmark()) return "FWM " + std::to_string(s.fwmark) + (s.ipv6 ? " IPv6" : " IPv4");
  return std::string(s.protocol == Protocol::tcp ? "TCP " : "UDP ") + s.address.to_string();
}

bool went_down(const control::Traffic& now, const control::Traffic& before) {
  for (const auto& f : control::kTrafficFields)
    if (now.*f.value < before.*f.value) return true;
  return false;
}

void add(control::Traffic& to, const control::Traffic& t) {
  for (const auto& f : control::kTrafficFields) to.*f.value += t.*f.value;
}

}  // namespace

control::Traffic IpvsTotals::update(const control::Status& status) {
  std::map<std::string, control::Traffic> now;
  for (const auto& s : status.services) add(now[key_of(s)], s.stats);
  for (const auto& [key, before] : last_) {
    auto it = now.find(key);
    if (it == now.end() || went_down(it->second, before)) add(gone_, before);
  }
  control::Traffic total = gone_;
  for (const auto& [key, t] : now) add(total, t);
  last_ = std::move(now);
  return total;
}

void IpvsTotals::zero_all() {
  gone_ = {};
  last_.clear();
}

}  // namespace vsd
