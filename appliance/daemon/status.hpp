// The daemon's state in the control protocol's types (control/status.hpp):
// services and real servers from the data path's snapshot, with each
// configured real server's health, and the engine's counters.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include "appliance/clock.hpp"
#include "appliance/config/config.hpp"
#include "appliance/control/protocol.hpp"
#include "appliance/control/status.hpp"
#include "appliance/core/conn_table.hpp"
#include "appliance/core/engine.hpp"
#include "appliance/core/service_snapshot.hpp"
#include "appliance/daemon/health_policy.hpp"

namespace vsd {

control::Counters counters_status(const EngineCounters& c);

// The services as the data path serves them (`snap`), in its order. Each
// real server of `config` gets its health from `policy`; one removed by its
// failing check (not in the snapshot) is listed with weight 0, `removed`.
std::vector<control::ServiceStatus> services_status(const ServiceSnapshot& snap, const Config& config,
                                                    const HealthPolicy& policy);

// ipvsadm -L -c, read off the data path in steps: each next() takes the
// engine (through `lock`: DataPlane::with_engine) for one step of at most
// `slots_per_step` slots of the table (ConnTable::for_each_from), copies
// the few fields a listing shows of each live entry into a buffer reserved
// up front (no allocation while the engine is held), and builds the
// entries after the lock is released. The data threads take the engine
// between steps. What the listing then guarantees is for_each_from's: an
// entry that lives through the listing is listed exactly once, none twice,
// one added or removed meanwhile maybe. Every connection and persistence
// template but invalidated templates (unhashed: IPVS does not show them).
// Memory: one step's entries, whatever the table's size.
class ConnectionReader final : public control::ConnectionCursor {
 public:
  // Runs fn with the engine to itself.
  using Lock = std::function<void(const std::function<void()>& fn)>;
  // 4096 slots a step: the engine held about 15 us (-O2; 60 us at -O0) in a
  // table of 1 M slots, a third of them live; 256 steps for the whole table.
  static constexpr std::uint32_t kSlotsPerStep = 4096;

  ConnectionReader(const ConnTable& table, const Clock& clock, Lock lock,
                   std::uint32_t slots_per_step = kSlotsPerStep);
  bool next(std::vector<control::ConnectionStatus>& out) override;

  // The walk so far: steps taken, entries listed, the longest hold.
  std::uint32_t steps() const { return steps_; }
  std::uint64_t listed() const { return listed_; }
  std::chrono::nanoseconds longest_hold() const { return longest_hold_; }

 private:
  struct Row {  // what the listing shows of one entry, copied under the lock
    IpAddress caddr, vaddr, daddr;
    std::uint16_t cport, vport, dport;
    std::uint8_t proto, flags;
    TcpState state;
    std::uint32_t expires;
  };
  const ConnTable& table_;
  const Clock& clock_;
  Lock lock_;
  std::uint32_t slots_per_step_;
  std::uint32_t cursor_ = 0;
  std::vector<Row> rows_;
  std::uint32_t steps_ = 0;
  std::uint64_t listed_ = 0;
  std::chrono::nanoseconds longest_hold_{0};
  std::chrono::steady_clock::time_point started_{};
};

}  // namespace vsd
