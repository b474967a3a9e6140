// One interface for every IPVS scheduler. A scheduler instance belongs to
// one service in one snapshot; only the data path calls schedule(), one
// thread at a time (under the engine's lock), so per-service state (rr
// position, lblc table, twos RNG) needs no lock of its own.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "appliance/clock.hpp"
#include "appliance/core/dest_state.hpp"
#include "appliance/types.hpp"
#include "net/ip_address.hpp"
#include "forwarders/packet_view.hpp"

namespace vsd {

// A real server as the data path sees it; immutable within a snapshot.
struct DestView {
  Endpoint addr;
  DestEgress egress;
  std::uint32_t weight = 1;
  ForwardMethod forward = ForwardMethod::nat;
  std::uint32_t upper_threshold = 0, lower_threshold = 0;  // 0 = none
  std::uint32_t kernel_mark = 0;  // the fast path's decision mark; 0 = none
  std::shared_ptr<DestState> state;
};

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  virtual std::string_view name() const = 0;
  // Picks the real server for a new connection: an index into `dests`, or
  // -1 when none can take it. `dests` is the list the scheduler was made for
  // (hashing schedulers build their tables from it once, in the constructor).
  virtual int schedule(std::span<const DestView> dests, const PacketView& pkt) = 0;
};

// IPVS: weight 0 means quiesced and an overloaded server (over its upper
// threshold) is skipped — neither takes new connections.
inline bool dest_available(const DestView& d) {
  return d.weight > 0 && !(d.state && d.state->overloaded.load(std::memory_order_relaxed));
}

// What some schedulers need besides the server list. Only read while
// make_scheduler runs, except `clock`, which must outlive the scheduler.
struct SchedulerContext {
  const Clock* clock = nullptr;        // lblc, lblcr; nullptr = a steady clock
  std::span<const std::string> flags{};  // ipvsadm -b: "sh-port", "mh-fallback", ...
  std::uint64_t seed = 0;              // twos; 0 = seeded at random
};

// Returns nullptr for an unknown name (see scheduler_registry.hpp). Flags a
// scheduler does not know are ignored here; config validation rejects them
// with is_known_scheduler_flag().
std::unique_ptr<Scheduler> make_scheduler(std::string_view name, std::span<const DestView> dests,
                                          const SchedulerContext& ctx = {});

}  // namespace vsd
