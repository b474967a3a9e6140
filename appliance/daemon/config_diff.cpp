#include "appliance/daemon/config_diff.hpp"

#include <algorithm>
#include <charconv>

namespace vsd {
namespace {

bool same_service(const ServiceConfig& a, const ServiceConfig& b) {
  return a.is_fwmark() ? a.fwmark == b.fwmark
                       : (!b.is_fwmark() && a.protocol == b.protocol && a.address == b.address);
}

const ServiceConfig* find_service(const Config& c, const ServiceConfig& s) {
  auto it = std::find_if(c.services.begin(), c.services.end(),
                         [&](const ServiceConfig& o) { return same_service(o, s); });
  return it == c.services.end() ? nullptr : &*it;
}

const RealServerConfig* find_real(const ServiceConfig& s, const RealServerConfig& r) {
  auto it = std::find_if(s.reals.begin(), s.reals.end(),
                         [&](const RealServerConfig& o) { return o.address == r.address; });
  return it == s.reals.end() ? nullptr : &*it;
}

bool scheduling_changed(const ServiceConfig& a, const ServiceConfig& b) {
  return a.scheduler != b.scheduler || a.persistent != b.persistent ||
         a.persistence_netmask != b.persistence_netmask || a.ops != b.ops ||
         a.scheduler_flags != b.scheduler_flags;
}

bool real_changed(const RealServerConfig& a, const RealServerConfig& b) {
  return a.weight != b.weight || a.forward != b.forward || a.upper_threshold != b.upper_threshold ||
         a.lower_threshold != b.lower_threshold;
}

// The shortest text that reads back as `v` (0.5, 1).
std::string shortest(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc{} ? std::string(buf, end) : std::to_string(v);
}

// A service's flood defences (README "Flood defences").
std::string defences(const ServiceConfig& s) {
  return "table_share " + shortest(s.table_share) + ", synproxy " +
         (s.synproxy ? "on (mss " + (s.synproxy_mss ? std::to_string(s.synproxy_mss) : std::string("default")) +
                           ", wscale " + std::to_string(s.synproxy_wscale) + ")"
                     : std::string("off"));
}

std::string defences(const DirectorConfig& d) {
  return "drop_entry " + std::to_string(d.drop_entry) + ", drop_packet " + std::to_string(d.drop_packet) +
         ", secure_tcp " + std::to_string(d.secure_tcp) + ", am_droprate " + std::to_string(d.am_droprate) +
         ", pressure_threshold " + shortest(d.pressure_threshold);
}

}  // namespace

std::vector<std::string> describe_changes(const Config& before, const Config& after) {
  std::vector<std::string> lines;
  if (defences(before.director) != defences(after.director))
    lines.push_back("director: flood defences now " + defences(after.director) + " (was " +
                    defences(before.director) + ")");
  for (const auto& s : after.services) {
    const std::string label = service_label(s);
    const ServiceConfig* old = find_service(before, s);
    if (!old)
      lines.push_back("service " + label + " added (scheduler " + s.scheduler +
                      (s.persistent ? ", persistent " + std::to_string(s.persistent) + "s" : "") + ")");
    else if (scheduling_changed(*old, s))
      lines.push_back("service " + label + " changed (scheduler " + s.scheduler + ", persistent " +
                      std::to_string(s.persistent) + "s)");
    if (old && defences(*old) != defences(s))
      lines.push_back("service " + label + ": flood defences now " + defences(s) + " (was " + defences(*old) + ")");
    for (const auto& r : s.reals) {
      const RealServerConfig* was = old ? find_real(*old, r) : nullptr;
      const std::string real = real_label(s, r);
      if (!was)
        lines.push_back("service " + label + ": real server " + real + " added (" +
                        to_string(r.forward) + ", weight " + std::to_string(r.weight) + ")");
      else if (real_changed(*was, r))
        lines.push_back("service " + label + ": real server " + real + " now " + to_string(r.forward) +
                        " weight " + std::to_string(r.weight) + " (was " + to_string(was->forward) +
                        " weight " + std::to_string(was->weight) + ")" +
                        (r.weight == 0 ? " - quiesced" : ""));
    }
    if (old)
      for (const auto& o : old->reals)
        if (!find_real(s, o))
          lines.push_back("service " + label + ": real server " + real_label(*old, o) + " removed");
  }
  for (const auto& o : before.services)
    if (!find_service(after, o)) lines.push_back("service " + service_label(o) + " removed");
  return lines;
}

}  // namespace vsd
