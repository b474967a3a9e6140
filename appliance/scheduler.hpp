// One interface for every IPVS scheduler. A scheduler instance belongs to
// one service in one snapshot; only the data-path thread calls schedule(),
// so the per-service position (rr, wrr) needs no lock.
#pragma once

#include <memory>
#include <span>
#include <string_view>

#include "appliance/config.hpp"
#include "appliance/dest_state.hpp"
#include "forwarders/ip_address.hpp"
#include "forwarders/packet_view.hpp"

namespace vsd {

// A real server as the data path sees it; immutable within a snapshot.
struct DestView {
  Endpoint addr;
  std::uint32_t weight = 1;
  ForwardMethod forward = ForwardMethod::nat;
  std::shared_ptr<DestState> state;
};

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  virtual std::string_view name() const = 0;
  // Picks the real server for a new connection: an index into `dests`, or
  // -1 when none can take it. `dests` is the list the scheduler was made for.
  virtual int schedule(std::span<const DestView> dests, const PacketView& pkt) = 0;
};

// IPVS: weight 0 means quiesced — no new connections.
inline bool dest_available(const DestView& d) { return d.weight > 0; }

// Returns nullptr for an unknown name (see scheduler_registry.hpp).
std::unique_ptr<Scheduler> make_scheduler(std::string_view name, std::span<const DestView> dests);

}  // namespace vsd
