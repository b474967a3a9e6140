#include "appliance/core/defence.hpp"

#include <algorithm>
#include <cmath>

namespace vsd {
namespace {

bool automatic(std::uint8_t mode) { return mode == 1 || mode == 2; }

std::string percent(std::uint32_t size, std::uint32_t capacity) {
  const std::uint64_t p = capacity ? std::uint64_t{size} * 100 / capacity : 0;
  return std::to_string(p) + "%";
}

}  // namespace

std::uint32_t pressure_entries(const DefenceSpec& spec, std::uint32_t capacity) {
  const double t = std::clamp(spec.pressure_threshold, 0.0, 1.0);
  const auto n = static_cast<std::uint32_t>(std::ceil(t * capacity));
  return std::max<std::uint32_t>(n, 1);
}

DefenceLevel defence_level(const DefenceSpec& spec, std::uint32_t size, std::uint32_t capacity,
                           bool was_under_pressure) {
  DefenceLevel l;
  const std::uint32_t on = pressure_entries(spec, capacity);
  // Off again 5 points under the threshold: a table that hovers at it does
  // not switch the defences (and the log) every second.
  const std::uint32_t margin = capacity / 20;
  const std::uint32_t off = on > margin ? on - margin : 0;
  l.pressure = size >= on || (was_under_pressure && size >= off && size > 0);
  l.drop_entry = spec.drop_entry == kDefenceAlways || (automatic(spec.drop_entry) && l.pressure);
  l.secure_tcp = spec.secure_tcp == kDefenceAlways || (automatic(spec.secure_tcp) && l.pressure);
  if (spec.drop_packet == kDefenceAlways) {
    l.drop_rate = std::max<std::uint32_t>(spec.am_droprate, 1);
  } else if (automatic(spec.drop_packet) && l.pressure) {
    // IPVS: drop_rate = amemthresh / (amemthresh - availmem) while
    // availmem < amemthresh; here free entries stand for memory.
    const std::uint32_t free = capacity > size ? capacity - size : 0;
    const std::uint32_t thresh = capacity - std::min(on, capacity);
    if (free == 0)
      l.drop_rate = 1;
    else if (free < thresh)
      l.drop_rate = thresh / (thresh - free);
  }
  return l;
}

std::string defence_message(const DefenceSpec& spec, const DefenceLevel& level, std::uint32_t size,
                            std::uint32_t capacity, std::uint64_t embryonic, std::uint64_t evicted,
                            std::uint64_t dropped) {
  std::string s = "defence: table " + percent(size, capacity) + " full (" + std::to_string(size) + " of " +
                  std::to_string(capacity) + " entries, " + std::to_string(embryonic) + " embryonic): ";
  auto mode = [](std::uint8_t m, bool on) {
    if (m == kDefenceOff) return std::string(" off (0)");
    if (m == kDefenceAlways) return std::string(" always on (3)");
    return std::string(on ? " on" : " off");
  };
  s += "drop_entry" + mode(spec.drop_entry, level.drop_entry);
  if (level.drop_entry) s += " (evicting embryonic entries, oldest first)";
  s += "; secure_tcp" + mode(spec.secure_tcp, level.secure_tcp);
  if (level.secure_tcp) s += " (SYN_RECV/SYNACK timeout " + std::to_string(kSecureEmbryonicTimeout) + " s)";
  s += "; drop_packet" + mode(spec.drop_packet, level.drop_rate != 0);
  if (level.drop_rate) s += " (dropping 1 in " + std::to_string(level.drop_rate) + " new flows)";
  s += "; since the last line " + std::to_string(evicted) + " embryonic entries evicted, " +
       std::to_string(dropped) + " new flows dropped";
  if (level.pressure)
    s += ". A flood of half-open connections? `vsadm -L -n -c` lists them (SYN_RECV/SYNACK); raise [director] max_connections, cap the "
         "attacked service with table_share, or set synproxy = true on it (NAT)";
  return s;
}

}  // namespace vsd
