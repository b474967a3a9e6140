// The daemon's state in the control protocol's types (control/status.hpp):
// services and real servers from the data path's snapshot, with each
// configured real server's health, and the engine's counters.
#pragma once

#include <vector>

#include "appliance/config/config.hpp"
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

// ipvsadm -L -c: every connection and persistence template. Reads the
// table: call it with the engine to itself (DataPlane::with_engine).
std::vector<control::ConnectionStatus> connections_status(const ConnTable& table, std::uint32_t now);

}  // namespace vsd
