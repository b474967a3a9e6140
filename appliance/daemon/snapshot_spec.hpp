// The configuration, as the data path is to serve it: the daemon's
// translation from Config (with health already applied, see
// health_policy.hpp) to the core's SnapshotSpec.
#pragma once

#include <map>

#include "appliance/config/config.hpp"
#include "appliance/core/service_snapshot.hpp"
#include "appliance/daemon/fast_path_plan.hpp"

namespace vsd {

// Each DR/TUN real server's way out, by address, as the egress watch found
// it (director_network.cpp).
using EgressTable = std::map<IpAddress, DestEgress>;

// `egress` (may be null) gives DR/TUN real servers their way out; a
// service's tunnel_source overrides the resolved outer source.
// `plan` gives the kernel fast path's marks (by decision_key); null: none.
SnapshotSpec snapshot_spec(const Config& config, const EgressTable* egress = nullptr,
                           const FastPathPlan* plan = nullptr);

// The address family of a service: its VIP's, a fwmark service's members'
// or else its first real server's (IPv4 when it has none).
bool service_is_v6(const ServiceConfig& s);

}  // namespace vsd
