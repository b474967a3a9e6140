// A flow the kernel carries after vsd decided its first packet, as the
// kernel reports it: conntrack (VS-NAT: events and dumps) or the DR/TUN
// flow tables (a periodic sweep). The daemon translates those into
// KernelFlow; the engine keeps its connection table (listings, ActiveConn
// and InActConn, persistence, max_connections) in step with them.
#pragma once

#include <cstdint>

#include "appliance/core/tcp_state.hpp"
#include "net/ip_address.hpp"

namespace vsd {

// Conntrack's TCP states, in the kernel's numbering (TCP_CONNTRACK_*).
enum class ConntrackTcpState : std::uint8_t {
  none,
  syn_sent,
  syn_recv,
  established,
  fin_wait,
  close_wait,
  last_ack,
  time_wait,
  close,
  syn_sent2,
};

// The IPVS state a director would show for a flow conntrack has in `s`.
// Conntrack names states from the client's side (its SYN seen: SYN_SENT);
// IPVS from the director's (a client's SYN seen: SYN_RECV).
TcpState ipvs_state(ConntrackTcpState s);

enum class KernelFlowEvent : std::uint8_t {
  seen,     // a new flow, or one found by a dump or sweep: adopt it if unknown
  changed,  // its state changed
  gone,     // the kernel forgot it
};

struct KernelFlow {
  std::uint8_t l4proto = 0;  // IPPROTO_TCP / IPPROTO_UDP
  IpAddress client, vip;     // the original direction: client -> VIP
  std::uint16_t cport = 0, vport = 0;
  std::uint32_t mark = 0;      // the decision (ct mark, or the flow table's data)
  TcpState state = TcpState::none;  // TCP: as IPVS names it; none for UDP or unknown
  std::uint32_t expires_s = 0;  // seconds until the kernel forgets it; 0 = unknown
};

}  // namespace vsd
