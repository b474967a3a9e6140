#include "appliance/core/tcp_state.hpp"

#include "appliance/core/kernel_flow.hpp"

namespace vsd {
namespace {

constexpr auto sNO = TcpState::none;
constexpr auto sES = TcpState::established;
constexpr auto sSS = TcpState::syn_sent;
constexpr auto sSR = TcpState::syn_recv;
constexpr auto sFW = TcpState::fin_wait;
constexpr auto sTW = TcpState::time_wait;
constexpr auto sCL = TcpState::close;
constexpr auto sCW = TcpState::close_wait;
constexpr auto sLA = TcpState::last_ack;
constexpr auto sLI = TcpState::listen;
constexpr auto sSA = TcpState::synack;

using Row = std::array<TcpState, kTcpStateCount>;
// [direction][event][current state]; events in IPVS order syn, fin, ack, rst.
// Columns:      sNO  sES  sSS  sSR  sFW  sTW  sCL  sCW  sLA  sLI  sSA
constexpr Row kTable[3][4] = {
    {// INPUT: client -> real server
     Row{sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR},
     Row{sCL, sCW, sSS, sTW, sTW, sTW, sCL, sCW, sLA, sLI, sTW},
     Row{sCL, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES},
     Row{sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sSR}},
    {// OUTPUT: real server -> client
     Row{sSS, sES, sSS, sSR, sSS, sSS, sSS, sSS, sSS, sLI, sSR},
     Row{sTW, sFW, sSS, sTW, sFW, sTW, sCL, sTW, sLA, sLI, sTW},
     Row{sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sLA, sES, sES},
     Row{sCL, sCL, sSS, sCL, sCL, sTW, sCL, sCL, sCL, sCL, sCL}},
    {// INPUT_ONLY: TUN/DR, the director sees the client side only
     Row{sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR},
     Row{sCL, sFW, sSS, sTW, sFW, sTW, sCL, sCW, sLA, sLI, sTW},
     Row{sCL, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES},
     Row{sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sCL}},
};

// IPVS's tcp_states_dos (secure_tcp): where it differs from kTable above,
// a SYN on a half-open entry goes to SYNACK, the client's ACK does not make
// a NAT entry ESTABLISHED (the real server's reply does), and a DR/TUN
// flow's first SYN makes it SYNACK.
constexpr Row kSecureTable[3][4] = {
    {// INPUT
     Row{sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSA},
     Row{sCL, sCW, sSS, sTW, sTW, sTW, sCL, sCW, sLA, sLI, sSA},
     Row{sCL, sES, sSS, sSR, sFW, sTW, sCL, sCW, sCL, sLI, sSA},
     Row{sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sCL}},
    {// OUTPUT
     Row{sSS, sES, sSS, sSA, sSS, sSS, sSS, sSS, sSS, sLI, sSA},
     Row{sTW, sFW, sSS, sTW, sFW, sTW, sCL, sTW, sLA, sLI, sTW},
     Row{sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sLA, sES, sES},
     Row{sCL, sCL, sSS, sCL, sCL, sTW, sCL, sCL, sCL, sCL, sCL}},
    {// INPUT_ONLY
     Row{sSA, sES, sES, sSR, sSA, sSA, sSA, sSA, sSA, sSA, sSA},
     Row{sCL, sFW, sSS, sTW, sFW, sTW, sCL, sCW, sLA, sLI, sTW},
     Row{sCL, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES},
     Row{sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sCL}},
};

constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kAck = 0x10;

}  // namespace

const char* to_string(TcpState s) {
  static constexpr const char* names[kTcpStateCount] = {
      "NONE",  "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT", "TIME_WAIT",
      "CLOSE", "CLOSE_WAIT",  "LAST_ACK", "LISTEN",   "SYNACK"};
  auto i = static_cast<std::size_t>(s);
  return i < kTcpStateCount ? names[i] : "ERR!";
}

TcpState tcp_next_state(TcpState current, TcpDirection dir, std::uint8_t flags, bool secure) {
  // IPVS picks the event with RST first, then SYN, FIN, ACK.
  int event;
  if (flags & kRst)
    event = 3;
  else if (flags & kSyn)
    event = 0;
  else if (flags & kFin)
    event = 1;
  else if (flags & kAck)
    event = 2;
  else
    return current;
  auto idx = static_cast<std::size_t>(current);
  if (idx >= kTcpStateCount) return current;
  return (secure ? kSecureTable : kTable)[static_cast<int>(dir)][event][idx];
}

TcpState ipvs_state(ConntrackTcpState s) {
  switch (s) {
    case ConntrackTcpState::syn_sent:
    case ConntrackTcpState::syn_recv:
    case ConntrackTcpState::syn_sent2: return TcpState::syn_recv;
    case ConntrackTcpState::established: return TcpState::established;
    case ConntrackTcpState::fin_wait: return TcpState::fin_wait;
    case ConntrackTcpState::close_wait: return TcpState::close_wait;
    case ConntrackTcpState::last_ack: return TcpState::last_ack;
    case ConntrackTcpState::time_wait: return TcpState::time_wait;
    case ConntrackTcpState::close: return TcpState::close;
    case ConntrackTcpState::none: break;
  }
  return TcpState::none;
}

}  // namespace vsd
