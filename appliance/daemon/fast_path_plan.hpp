// Which services the kernel fast path carries and how (README "The kernel
// fast path"): pure, from the configuration (never the health-applied
// one: a service keeps its path while its servers come and go), the
// decision numbers and what the node offers. Both the nft ruleset
// (ruleset_spec) and the engine's snapshot (snapshot_spec) read it.
//
//   fast_path off, one-packet scheduling, NAT mixed with DR/TUN in one
//   service, a NAT real server also in a userspace service   -> userspace
//   every real server (and the sorry server) NAT             -> nat_kernel
//   every real server DR or TUN                              -> direct_kernel
//     (a DR server leaves by `dup` on the interface the route names, a TUN
//      server by `dup` into its own IP-in-IP device (tunnel_devices.hpp);
//      a DR server without a known device yet, and a TUN server without a
//      tunnel device (no ipip / ip6_tunnel in the kernel, no route yet,
//      IPv6 inside IPv4), get no kernel mark: vsd forwards their flows
//      packet by packet as before)
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "appliance/config/config.hpp"
#include "appliance/core/kernel_marks.hpp"
#include "appliance/daemon/decision_numbers.hpp"
#include "nfq/ruleset.hpp"

namespace vsd {

struct NodeOffers {
  // vsd can follow the kernel's flows (conntrack events): without, no
  // fast path at all.
  bool kernel_flows = true;
  // The kernel took the objects of each path (nfq::probe_fast_path):
  // without, that method's services go through vsd.
  bool nat_kernel = true, direct_kernel = true;
  // The interface toward each DR real server, as the egress watch found it.
  std::map<IpAddress, std::string> dr_devices;
  // The IP-in-IP device toward each TUN real server (TunnelDevices); empty
  // where the kernel has no ipip / ip6_tunnel.
  std::map<IpAddress, std::string> tun_devices;
};

struct FastPathPlan {
  MarkLayout marks;  // disabled: no fast path at all
  std::map<std::string, nfq::Path> paths;         // by service label
  std::map<std::string, std::uint32_t> kernel;   // decision_key -> kernel mark
  nfq::FastPathSpec spec;                        // the ruleset's objects

  nfq::Path path(const ServiceConfig& s) const;
  // The kernel mark for this service's real server at `real` (port filled
  // in), 0 when vsd forwards its flows itself.
  std::uint32_t kernel_mark(const ServiceConfig& s, const Endpoint& real) const;
};

// `previous`: the plan in force, whose paths services without any real
// server keep.
FastPathPlan plan_fast_path(const Config& config, const DecisionNumbers& numbers,
                            const NodeOffers& node, const FastPathPlan* previous = nullptr);

}  // namespace vsd
