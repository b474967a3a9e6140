// The IPVS TCP connection state machine (ip_vs_proto_tcp.c semantics): the
// same states, the same transition table and the same default timeouts, so
// ActiveConn/InActConn and expiry match what LVS operators are used to.
#pragma once

#include <array>
#include <cstdint>

namespace vsd {

enum class TcpState : std::uint8_t {
  none,
  established,
  syn_sent,
  syn_recv,
  fin_wait,
  time_wait,
  close,
  close_wait,
  last_ack,
  listen,
  synack,
  count_
};
inline constexpr std::size_t kTcpStateCount = static_cast<std::size_t>(TcpState::count_);

// Which side the packet came from, as IPVS names it. NAT sees both
// directions; TUN/DR see only the client side (replies bypass the director).
enum class TcpDirection : std::uint8_t { input, output, input_only };

const char* to_string(TcpState);  // "ESTABLISHED", ... as ipvsadm -c prints

// Next state for a packet with the given TCP flags byte. Packets without any
// of RST/SYN/FIN/ACK leave the state unchanged. `secure`: IPVS's secure_tcp
// table (tcp_states_dos) instead of the normal one: NAT waits for the real
// server's own ACK before ESTABLISHED (a client's ACK after its SYN leaves
// the entry in SYN_RECV / SYNACK), a SYN on a half-open entry makes it
// SYNACK, and an input-only (DR/TUN) flow begins in SYNACK.
TcpState tcp_next_state(TcpState current, TcpDirection dir, std::uint8_t tcp_flags, bool secure = false);

// The half-open states: the handshake is not complete as far as the
// director can tell (drop_entry evicts such entries; secure_tcp shortens
// their timeout).
constexpr bool is_embryonic(TcpState s) {
  return s == TcpState::none || s == TcpState::syn_sent || s == TcpState::syn_recv || s == TcpState::synack;
}

// Timeouts in seconds per state; defaults are IPVS's. `ipvsadm --set tcp
// tcpfin udp` changes established / fin_wait / udp.
struct Timeouts {
  std::array<std::uint32_t, kTcpStateCount> tcp{
      2,     // none
      900,   // established
      120,   // syn_sent
      60,    // syn_recv
      120,   // fin_wait
      120,   // time_wait
      10,    // close
      60,    // close_wait
      30,    // last_ack
      120,   // listen
      120};  // synack
  std::uint32_t udp = 300;

  std::uint32_t for_state(TcpState s) const { return tcp[static_cast<std::size_t>(s)]; }
  void set_tcp_established(std::uint32_t s) { tcp[static_cast<std::size_t>(TcpState::established)] = s; }
  void set_tcp_fin_wait(std::uint32_t s) { tcp[static_cast<std::size_t>(TcpState::fin_wait)] = s; }
};

}  // namespace vsd
