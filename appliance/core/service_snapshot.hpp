// The services as the data path reads them: an immutable snapshot built by
// the control plane and swapped in atomically, so an edit never locks
// packets out and no packet ever sees a half-made service.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "appliance/clock.hpp"
#include "appliance/core/defence.hpp"
#include "appliance/core/kernel_marks.hpp"
#include "appliance/core/scheduler.hpp"
#include "appliance/core/tcp_state.hpp"
#include "appliance/types.hpp"
#include "net/ip_address.hpp"

namespace vsd {

struct ServiceView {
  Protocol protocol = Protocol::tcp;
  Endpoint vip;                 // port 0: every port; unset for fwmark services
  std::uint32_t fwmark = 0;     // ipvsadm -f
  std::uint32_t persistent = 0; // template timeout, seconds; 0 = no persistence
  std::uint8_t netmask = 128;   // persistence prefix length (v4: of the 32 bits)
  bool ops = false;             // one-packet scheduling
  // IPVS's sloppy_tcp: a TCP packet other than a SYN with no connection
  // is scheduled (and gets one) rather than dropped, so a flow that ECMP
  // moved here from another director carries on (scale-out, mh/sh).
  bool sloppy_tcp = false;
  // The most of the connection table it may hold, as a fraction of
  // max_connections (connections and templates); 1 = no limit.
  double table_share = 1.0;
  std::string scheduler_name;
  std::vector<std::string> scheduler_flags;
  std::vector<DestView> dests;
  std::unique_ptr<Scheduler> scheduler;  // position state: the data path only (engine lock)
  std::shared_ptr<ServiceState> state;

  std::uint8_t l4proto() const { return static_cast<std::uint8_t>(protocol); }
  bool v6 = false;  // the service's family (fwmark services: from members or real servers)
  // The real server at `addr` (port as configured: 0 = the packet's port).
  const DestView* dest(const IpAddress& addr, std::uint16_t port) const;
  // The service's traffic: what vsd forwarded and what the kernel carried
  // for its real servers.
  TrafficSample totals() const;
};

// Where a NAT reply from a real server goes back to when no connection entry
// exists: one-packet-scheduled (ops) UDP services keep none.
struct OpsReply {
  std::uint8_t l4proto;
  Endpoint rip;  // the real server's address and port
  Endpoint vip;
  const DestView* dest;
};

struct ServiceSnapshot {
  std::vector<ServiceView> services;
  std::vector<OpsReply> ops_replies;
  Timeouts timeouts;
  MarkLayout marks;
  bool expire_nodest_conn = false;
  bool expire_quiescent_template = false;
  DefenceSpec defence;

  // The service a new flow belongs to, or nullptr, in IPVS's order: a
  // fwmark service for the packet's mark, then VIP:port, then a port-0
  // service of the VIP. A linear scan: it runs once per new connection,
  // never for established ones.
  const ServiceView* find(std::uint8_t l4proto, const IpAddress& vip, std::uint16_t port,
                          std::uint32_t mark = 0) const;
  const OpsReply* find_ops_reply(std::uint8_t l4proto, const IpAddress& rip,
                                 std::uint16_t rport) const;
};

// What the data path is to serve, in its own terms: the daemon derives it
// from the configuration (with health and the DR/TUN egress applied), tests
// write it directly.
struct DestSpec {
  Endpoint addr;  // port 0: the packet's port (port-0 and fwmark services)
  std::uint32_t weight = 1;
  ForwardMethod forward = ForwardMethod::nat;
  std::uint32_t upper_threshold = 0, lower_threshold = 0;  // ipvsadm -x / -y, 0 = none
  DestEgress egress;  // DR/TUN: how packets leave toward it
  // The kernel fast path: the decision mark (id bits) under which the
  // kernel carries this real server's flows after their first packet;
  // 0 = every packet through vsd (fast path off, TUN without ipip, ...).
  std::uint32_t kernel_mark = 0;
};

struct ServiceSpec {
  Protocol protocol = Protocol::tcp;
  Endpoint vip;                 // port 0: every port; unset for fwmark services
  std::uint32_t fwmark = 0;
  bool v6 = false;              // the service's family
  std::uint32_t persistent = 0;
  std::uint8_t netmask = 0;     // persistence prefix length; 0 = /32 or /128
  bool ops = false;
  bool sloppy_tcp = false;
  double table_share = 1.0;     // fraction of max_connections; 1 = no limit
  std::string scheduler = "wlc";
  std::vector<std::string> scheduler_flags;
  std::vector<DestSpec> dests;
};

struct SnapshotSpec {
  std::vector<ServiceSpec> services;
  Timeouts timeouts;
  MarkLayout marks;  // the fast path's bits of the mark; disabled: none
  bool expire_nodest_conn = false;
  bool expire_quiescent_template = false;
  DefenceSpec defence;  // drop_entry, drop_packet, secure_tcp (defence.hpp)
};

// Builds the snapshot the engine serves. Run-time state (counters,
// connection counts) of services and real servers that `previous` already
// had is carried over, so a reload keeps them.
std::shared_ptr<const ServiceSnapshot> build_snapshot(const SnapshotSpec& spec,
                                                      const ServiceSnapshot* previous,
                                                      const Clock* clock = nullptr);

}  // namespace vsd
