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
