// Flood defences for the connection table, with IPVS's names and modes
// (Documentation/networking/ipvs-sysctl.rst, ip_vs_ctl.c's
// update_defense_level): drop_entry, drop_packet and secure_tcp, each
//   0  never,
//   1  automatic: on while the table is under pressure (IPVS writes 2 into
//      the sysctl while it is on and 1 again when it is off; vsd reads both
//      as automatic and says in its log when a defence goes on or off),
//   2  the same as 1,
//   3  always on.
// IPVS judges pressure by the memory left (amemthresh): its table grows
// until memory runs out. vsd's table has a fixed size allocated at start,
// so its pressure is the table's fill: at or above pressure_threshold of
// max_connections, until it falls 5 points below again.
//
// What each does in vsd (README "Flood defences"):
//   drop_entry   a new flow that finds the table full, or its service at
//                its table_share, evicts the oldest embryonic entry (of the
//                service with the most of them, or of its own service)
//                instead of being refused; and while on, a sweep once a
//                second evicts up to 1/32 of the table's size of embryonic
//                entries idle for a second or more, as IPVS's
//                ip_vs_random_dropentry scans 1/32 of its table. Embryonic:
//                TCP that never reached ESTABLISHED, UDP with no reply seen
//                (NAT) or a single datagram (DR/TUN). Unlike IPVS, never an
//                ESTABLISHED entry (IPVS's todrop_entry also drops idle
//                established ones with few packets).
//                Mode 0 only: the table full refuses new flows (table_full).
//   drop_packet  1 in `rate` new flows dropped before scheduling; rate is
//                IPVS's amemthresh / (amemthresh - availmem) with free
//                entries for memory (every new flow when the table is
//                full), am_droprate in mode 3.
//   secure_tcp   IPVS's secure state table (tcp_state.hpp) and, beyond
//                IPVS, a short timeout (10 s, the 2.4 kernels' tcp_dos
//                SYN_RECV value) for the embryonic states SYN_RECV and
//                SYNACK of entries vsd times itself.
#pragma once

#include <cstdint>
#include <string>

namespace vsd {

inline constexpr std::uint8_t kDefenceOff = 0, kDefenceAlways = 3;

struct DefenceSpec {
  std::uint8_t drop_entry = 1;
  std::uint8_t drop_packet = 0;
  std::uint8_t secure_tcp = 0;
  std::uint32_t am_droprate = 10;  // drop_packet = 3: 1 in am_droprate (IPVS's default 10)
  // The fill (0..1] of max_connections at which the automatic defences
  // switch on (vsd's amemthresh).
  double pressure_threshold = 0.9;
  // Where the engine's defence messages go (the daemon's log); null: none.
  // `warning`: a defence switched on or refused flows.
  void (*log)(const std::string& line, bool warning) = nullptr;
};

// What is in force now.
struct DefenceLevel {
  bool pressure = false;    // the table is over the threshold
  bool drop_entry = false;  // evict embryonic entries (on demand, every mode but 0, does not wait for this)
  bool secure_tcp = false;
  std::uint32_t drop_rate = 0;  // drop_packet: 1 in drop_rate new flows; 0 = none
  bool operator==(const DefenceLevel&) const = default;
};

// The entries at which the table is under pressure (at least 1).
std::uint32_t pressure_entries(const DefenceSpec& spec, std::uint32_t capacity);

// Pure: the level for a table holding `size` of `capacity` entries;
// `was_under_pressure` keeps the pressure on until the fill is 5 points
// under the threshold.
DefenceLevel defence_level(const DefenceSpec& spec, std::uint32_t size, std::uint32_t capacity,
                           bool was_under_pressure);

// secure_tcp's timeout for SYN_RECV and SYNACK, seconds.
inline constexpr std::uint32_t kSecureEmbryonicTimeout = 10;

// The log line for a change of level: what is on, the table's fill, and
// what the operator can do. `evicted` / `dropped`: since the last line.
std::string defence_message(const DefenceSpec& spec, const DefenceLevel& level, std::uint32_t size,
                            std::uint32_t capacity, std::uint64_t embryonic, std::uint64_t evicted,
                            std::uint64_t dropped);

}  // namespace vsd
