// The services as the data path reads them: an immutable snapshot built by
// the control plane and swapped in atomically, so an edit never locks
// packets out and no packet ever sees a half-made service.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "appliance/config.hpp"
#include "appliance/scheduler.hpp"
#include "appliance/tcp_state.hpp"

namespace vsd {

struct ServiceView {
  Protocol protocol = Protocol::tcp;
  Endpoint vip;
  std::string scheduler_name;
  std::vector<DestView> dests;
  std::unique_ptr<Scheduler> scheduler;  // position state: data-path thread only
  std::shared_ptr<ServiceState> state;

  std::uint8_t l4proto() const { return static_cast<std::uint8_t>(protocol); }
};

struct ServiceSnapshot {
  std::vector<ServiceView> services;
  Timeouts timeouts;

  // The service a new flow to vip:port belongs to, or nullptr. A linear scan:
  // it runs once per new connection, never for established ones.
  const ServiceView* find(std::uint8_t l4proto, const IpAddress& vip, std::uint16_t port) const;
};

// Builds a snapshot from a validated config. Run-time state (counters,
// connection counts) of services and real servers that `previous` already
// had is carried over, so a reload keeps them.
std::shared_ptr<const ServiceSnapshot> build_snapshot(const Config& config,
                                                      const ServiceSnapshot* previous);

}  // namespace vsd
