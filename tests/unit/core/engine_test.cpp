// The packet engine without a kernel: packets from the test packet builder,
// time from a fake clock.
#include "appliance/core/engine.hpp"

#include <gtest/gtest.h>

#include <map>

#include "packet_builder.hpp"
#include "spec_builder.hpp"

namespace vsd {
namespace {

using test::PacketSpec;
constexpr std::uint8_t SYN = 0x02, ACK = 0x10, FIN = 0x01, RST = 0x04;

SnapshotSpec two_real_config() {
  return test::snapshot({test::service("192.0.2.10:80").scheduler("wrr")
                             .real("203.0.113.11:8000", 2).real("203.0.113.12:8000", 1),
                         test::service("[2001:db8::10]:53").udp().scheduler("rr")
                             .real("[2001:db8:2::11]")});
}

struct EngineTest : ::testing::Test {
  FakeClock clock;
  SnapshotSpec config = two_real_config();
  Engine engine{1024, clock};
  void SetUp() override {
    engine.publish(build_snapshot(config, nullptr));
    engine.begin_batch();
  }
  PacketResult run(std::vector<std::uint8_t>& p, ChecksumState cs = ChecksumState::complete) {
    return engine.process(p.data(), p.size(), cs);
  }
  const DestView& dest(std::size_t svc, std::size_t i) {
    return engine.published()->services[svc].dests[i];
  }
};

TEST_F(EngineTest, NatBothDirectionsWithValidChecksums) {
  auto syn = PacketSpec{}.from("198.51.100.2", 40000).to("192.0.2.10", 80).flags(SYN).build();
  auto r = run(syn);
  EXPECT_EQ(r.verdict, Verdict::accept);
  EXPECT_TRUE(r.modified);
  EXPECT_EQ(syn, PacketSpec{}.from("198.51.100.2", 40000).to("203.0.113.11", 8000).flags(SYN).build());
  EXPECT_TRUE(test::l4_checksum_ok(syn));

  auto synack = PacketSpec{}.from("203.0.113.11", 8000).to("198.51.100.2", 40000).flags(SYN | ACK).build();
  r = run(synack);
  EXPECT_TRUE(r.modified);
  EXPECT_EQ(synack, PacketSpec{}.from("192.0.2.10", 80).to("198.51.100.2", 40000).flags(SYN | ACK).build());

  auto ack = PacketSpec{}.from("198.51.100.2", 40000).to("192.0.2.10", 80).flags(ACK).data("GET /").build();
  run(ack);
  EXPECT_EQ(dest(0, 0).state->active_conns.get(), 1u);
  EXPECT_EQ(dest(0, 0).state->inactive_conns.get(), 0u);
  EXPECT_EQ(dest(0, 0).state->traffic.inpkts.get(), 2u);
  EXPECT_EQ(dest(0, 0).state->traffic.outpkts.get(), 1u);
  EXPECT_EQ(dest(0, 0).state->traffic.conns.get(), 1u);
}

TEST_F(EngineTest, WrrSplitsNewConnectionsAndKeepsEstablishedOnes) {
  std::map<std::string, int> seen;
  for (std::uint16_t port = 1000; port < 1030; ++port) {
    auto syn = PacketSpec{}.from("198.51.100.2", port).flags(SYN).build();
    run(syn);
    PacketView v;
    parse_packet(syn.data(), syn.size(), v);
    ++seen[v.dst.to_string()];
    const std::string first = v.dst.to_string();
    // The same flow again goes to the same server.
    auto again = PacketSpec{}.from("198.51.100.2", port).flags(ACK).build();
    run(again);
    parse_packet(again.data(), again.size(), v);
    EXPECT_EQ(v.dst.to_string(), first);
  }
  EXPECT_EQ(seen["203.0.113.11"], 20);
  EXPECT_EQ(seen["203.0.113.12"], 10);
}

TEST_F(EngineTest, UdpIpv6WithPortFromServiceAndPartialChecksum) {
  auto q = PacketSpec{}.udp().from("2001:db8:1::2", 5353).to("2001:db8::10", 53).data("query").build();
  test::make_checksum_partial(q);
  auto r = run(q, ChecksumState::not_ready);
  EXPECT_TRUE(r.modified);
  EXPECT_EQ(q, PacketSpec{}.udp().from("2001:db8:1::2", 5353).to("2001:db8:2::11", 53).data("query").build());
  auto a = PacketSpec{}.udp().from("2001:db8:2::11", 53).to("2001:db8:1::2", 5353).data("answer").build();
  run(a);
  EXPECT_EQ(a, PacketSpec{}.udp().from("2001:db8::10", 53).to("2001:db8:1::2", 5353).data("answer").build());
}

TEST_F(EngineTest, VerdictsForWhatIsNotANewFlow) {
  // TCP data to a VIP without a connection: dropped and counted.
  auto stray = PacketSpec{}.flags(ACK).build();
  EXPECT_EQ(run(stray).verdict, Verdict::drop);
  EXPECT_EQ(engine.counters().no_connection.get(), 1u);
  // From a real server's port without a connection: accepted untouched.
  auto own = PacketSpec{}.from("203.0.113.11", 8000).to("198.51.100.9", 5555).flags(SYN).build();
  auto copy = own;
  auto r = run(own);
  EXPECT_EQ(r.verdict, Verdict::accept);
  EXPECT_FALSE(r.modified);
  EXPECT_EQ(own, copy);
  EXPECT_EQ(engine.counters().reply_no_connection.get(), 1u);
  // Malformed: dropped, counted by reason.
  auto frag = PacketSpec{}.build();
  test::put16(frag, 6, 0x2000);
  EXPECT_EQ(run(frag).verdict, Verdict::drop);
  std::vector<std::uint8_t> junk = {0x45, 0, 0};
  EXPECT_EQ(run(junk).verdict, Verdict::drop);
  EXPECT_EQ(engine.counters().malformed[static_cast<int>(ParseStatus::fragment)].get(), 1u);
  EXPECT_EQ(engine.counters().malformed[static_cast<int>(ParseStatus::truncated_ip)].get(), 1u);
  // Other protocols pass untouched.
  auto gre = PacketSpec{}.build();
  gre[9] = 47;
  EXPECT_EQ(run(gre).verdict, Verdict::accept);
  EXPECT_EQ(engine.counters().unsupported.get(), 1u);
}

TEST_F(EngineTest, TimeoutsFollowTcpStateAndExpireWithTheClock) {
  auto syn = PacketSpec{}.from("198.51.100.2", 7).flags(SYN).build();
  run(syn);
  EXPECT_EQ(engine.connection_count(), 1u);
  clock.advance_s(59);  // SYN_RECV: 60 s
  engine.begin_batch();
  EXPECT_EQ(engine.connection_count(), 1u);
  clock.advance_s(2);
  engine.begin_batch();
  EXPECT_EQ(engine.connection_count(), 0u);
  EXPECT_EQ(dest(0, 0).state->inactive_conns.get(), 0u);

  // Established: 900 s, then FIN from the client: 120 s (IPVS tcpfin... via CLOSE_WAIT 60 s).
  auto s2 = PacketSpec{}.from("198.51.100.2", 8).flags(SYN).build();
  run(s2);
  auto sa = PacketSpec{}.from("203.0.113.11", 8000).to("198.51.100.2", 8).flags(SYN | ACK).build();
  run(sa);
  auto a2 = PacketSpec{}.from("198.51.100.2", 8).flags(ACK).build();
  run(a2);
  EXPECT_EQ(dest(0, 0).state->active_conns.get(), 1u);
  clock.advance_s(899);
  engine.begin_batch();
  EXPECT_EQ(engine.connection_count(), 1u);
  auto rst = PacketSpec{}.from("198.51.100.2", 8).flags(RST).build();
  run(rst);  // CLOSE: 10 s
  EXPECT_EQ(dest(0, 0).state->active_conns.get(), 0u);
  EXPECT_EQ(dest(0, 0).state->inactive_conns.get(), 1u);
  clock.advance_s(11);
  engine.begin_batch();
  EXPECT_EQ(engine.connection_count(), 0u);
  EXPECT_EQ(dest(0, 0).state->inactive_conns.get(), 0u);
}

TEST_F(EngineTest, ReusedSourcePortAfterCloseIsRescheduledAtOnce) {
  auto syn = PacketSpec{}.from("198.51.100.2", 9).flags(SYN).build();
  run(syn);  // -> .11
  auto synack = PacketSpec{}.from("203.0.113.11", 8000).to("198.51.100.2", 9).flags(SYN | ACK).build();
  run(synack);
  auto ack = PacketSpec{}.from("198.51.100.2", 9).flags(ACK).build();
  run(ack);  // ESTABLISHED
  auto rst = PacketSpec{}.from("198.51.100.2", 9).flags(RST).build();
  run(rst);  // CLOSE
  auto again = PacketSpec{}.from("198.51.100.2", 9).flags(SYN).build();
  auto r = run(again);
  EXPECT_TRUE(r.modified);
  EXPECT_EQ(engine.counters().conns_created.get(), 2u);
  EXPECT_EQ(engine.connection_count(), 1u);
  // The new connection went to the next server in wrr order.
  PacketView v;
  parse_packet(again.data(), again.size(), v);
  EXPECT_EQ(v.dst.to_string(), "203.0.113.11");
  EXPECT_EQ(dest(0, 0).state->inactive_conns.get(), 1u);  // the new SYN_RECV entry only
  (void)FIN;
}

TEST_F(EngineTest, TableFullRefusesNewFlowsButKeepsEstablished) {
  Engine small(2, clock);
  small.publish(build_snapshot(config, nullptr));
  small.begin_batch();
  std::uint64_t logged = 0;
  small.on_table_full = [&](std::uint64_t n) { logged += n; };
  // Two established connections (drop_entry evicts only half-open ones).
  for (std::uint16_t p = 1; p <= 2; ++p) {
    auto s = PacketSpec{}.from("198.51.100.2", p).flags(SYN).build();
    EXPECT_EQ(small.process(s.data(), s.size(), ChecksumState::complete).verdict, Verdict::accept);
    auto ack = PacketSpec{}.from("198.51.100.2", p).flags(ACK).build();
    small.process(ack.data(), ack.size(), ChecksumState::complete);
  }
  auto third = PacketSpec{}.from("198.51.100.2", 3).flags(SYN).build();
  EXPECT_EQ(small.process(third.data(), third.size(), ChecksumState::complete).verdict, Verdict::drop);
  EXPECT_EQ(small.counters().table_full.get(), 1u);
  EXPECT_EQ(logged, 1u);
  auto old = PacketSpec{}.from("198.51.100.2", 1).flags(ACK).build();
  EXPECT_TRUE(small.process(old.data(), old.size(), ChecksumState::complete).modified);
}

TEST_F(EngineTest, QuiescedServersGetNoNewFlowsButKeepTheirs) {
  auto syn = PacketSpec{}.from("198.51.100.2", 20).flags(SYN).build();
  run(syn);  // .11
  SnapshotSpec q = config;
  q.services[0].dests[0].weight = 0;
  q.services[0].dests[1].weight = 0;
  engine.publish(build_snapshot(q, engine.published().get()));
  engine.begin_batch();
  auto cont = PacketSpec{}.from("198.51.100.2", 20).flags(ACK).build();
  EXPECT_TRUE(run(cont).modified);
  auto fresh = PacketSpec{}.from("198.51.100.2", 21).flags(SYN).build();
  EXPECT_EQ(run(fresh).verdict, Verdict::drop);
  EXPECT_EQ(engine.counters().no_destination.get(), 1u);
  // Counters survived the new snapshot.
  EXPECT_EQ(dest(0, 0).state->traffic.conns.get(), 1u);
}

}  // namespace
}  // namespace vsd
