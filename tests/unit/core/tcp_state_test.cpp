#include "appliance/core/tcp_state.hpp"

#include <gtest/gtest.h>

namespace vsd {
namespace {

constexpr std::uint8_t FIN = 0x01, SYN = 0x02, RST = 0x04, ACK = 0x10;

TEST(TcpState, NatHandshakeDataAndClose) {
  auto s = TcpState::none;
  s = tcp_next_state(s, TcpDirection::input, SYN);
  EXPECT_EQ(s, TcpState::syn_recv);
  s = tcp_next_state(s, TcpDirection::output, SYN | ACK);  // SYN wins over ACK
  EXPECT_EQ(s, TcpState::syn_recv);
  s = tcp_next_state(s, TcpDirection::input, ACK);
  EXPECT_EQ(s, TcpState::established);
  s = tcp_next_state(s, TcpDirection::input, FIN | ACK);
  EXPECT_EQ(s, TcpState::close_wait);
  s = tcp_next_state(s, TcpDirection::output, FIN | ACK);
  EXPECT_EQ(s, TcpState::time_wait);
}

TEST(TcpState, RstClosesAndInputOnlyTable) {
  EXPECT_EQ(tcp_next_state(TcpState::established, TcpDirection::input, RST | ACK), TcpState::close);
  EXPECT_EQ(tcp_next_state(TcpState::established, TcpDirection::input_only, FIN), TcpState::fin_wait);
  EXPECT_EQ(tcp_next_state(TcpState::established, TcpDirection::output, FIN), TcpState::fin_wait);
  // No flag of interest: unchanged.
  EXPECT_EQ(tcp_next_state(TcpState::syn_recv, TcpDirection::input, 0), TcpState::syn_recv);
}

// secure_tcp: IPVS's tcp_states_dos, where it differs from the normal table.
TEST(TcpState, SecureTableIsIpvsTcpStatesDos) {
  const auto in = TcpDirection::input, out = TcpDirection::output, only = TcpDirection::input_only;
  // NAT: the client's SYN, the server's SYN-ACK (SYNACK), the client's ACK
  // (still SYNACK), the server's own ACK (ESTABLISHED).
  TcpState s = tcp_next_state(TcpState::none, in, SYN, true);
  EXPECT_EQ(s, TcpState::syn_recv);
  s = tcp_next_state(s, out, SYN | ACK, true);
  EXPECT_EQ(s, TcpState::synack);
  s = tcp_next_state(s, in, ACK, true);
  EXPECT_EQ(s, TcpState::synack);
  EXPECT_EQ(tcp_next_state(s, out, ACK, true), TcpState::established);
  // A spoofed SYN then ACK (no server reply seen): never ESTABLISHED.
  EXPECT_EQ(tcp_next_state(TcpState::syn_recv, in, ACK, true), TcpState::syn_recv);
  EXPECT_EQ(tcp_next_state(TcpState::syn_recv, in, ACK, false), TcpState::established);
  // DR/TUN: the first SYN makes SYNACK, the client's ACK ESTABLISHED.
  EXPECT_EQ(tcp_next_state(TcpState::none, only, SYN, true), TcpState::synack);
  EXPECT_EQ(tcp_next_state(TcpState::synack, only, ACK, true), TcpState::established);
  EXPECT_EQ(tcp_next_state(TcpState::synack, in, RST, true), TcpState::close);
  EXPECT_EQ(tcp_next_state(TcpState::synack, in, RST, false), TcpState::syn_recv);
  // Established flows behave the same.
  EXPECT_EQ(tcp_next_state(TcpState::established, in, FIN | ACK, true), TcpState::close_wait);
  EXPECT_TRUE(is_embryonic(TcpState::synack));
  EXPECT_TRUE(is_embryonic(TcpState::syn_recv));
  EXPECT_FALSE(is_embryonic(TcpState::established));
  EXPECT_FALSE(is_embryonic(TcpState::close));
}

TEST(TcpState, DefaultTimeoutsAreIpvs) {
  Timeouts t;
  EXPECT_EQ(t.for_state(TcpState::established), 900u);
  EXPECT_EQ(t.for_state(TcpState::fin_wait), 120u);
  EXPECT_EQ(t.for_state(TcpState::syn_recv), 60u);
  EXPECT_EQ(t.for_state(TcpState::close), 10u);
  EXPECT_EQ(t.udp, 300u);
  EXPECT_STREQ(to_string(TcpState::time_wait), "TIME_WAIT");
}

}  // namespace
}  // namespace vsd
