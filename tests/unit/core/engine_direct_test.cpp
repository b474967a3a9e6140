// The engine's VS-TUN and VS-DR paths and its ICMP handling, without a
// kernel: what it asks the data plane to send, byte for byte.
#include <gtest/gtest.h>

#include <stdexcept>

#include "appliance/core/engine.hpp"
#include "forwarders/tun_rewriter.hpp"
#include "packet_builder.hpp"
#include "spec_builder.hpp"

namespace vsd {
namespace {

using test::PacketSpec;
constexpr std::uint8_t SYN = 0x02, ACK = 0x10;

IpAddress ip(const char* s) { return *IpAddress::parse(s); }

SnapshotSpec direct_config() {
  DestEgress tun;
  tun.tunnel_source = ip("192.0.2.1");
  tun.mtu = 1500;
  DestEgress dr;
  dr.ifindex = 7;
  dr.mac = {0x02, 0, 0, 0, 0, 0x21};
  dr.mac_known = true;
  // The IPv6 service's tunnel_source (2001:db8:9::1) with no route learned.
  DestEgress tun6;
  tun6.tunnel_source = ip("2001:db8:9::1");
  return test::snapshot(
      {test::service("192.0.2.10:80").scheduler("rr")
           .real("203.0.113.11:80", 1, ForwardMethod::tun).egress(tun),
       test::service("198.51.100.10:80").scheduler("rr")
           .real("198.51.100.21", 1, ForwardMethod::dr).egress(dr),
       test::service("[2001:db8::10]:80").scheduler("rr")
           .real("[2001:db8:2::11]:80", 1, ForwardMethod::tun).egress(tun6),
       test::service("192.0.2.20:53").udp().scheduler("rr").real("203.0.113.31:5353")});
}


struct EngineDirectTest : ::testing::Test {
  FakeClock clock;
  SnapshotSpec config = direct_config();
  Engine engine{1024, clock};
  void SetUp() override { publish(); }
  // The way out of the real server at `rip`, as the egress watch would set it.
  DestEgress& egress(const char* rip) {
    for (auto& s : config.services)
      for (auto& d : s.dests)
        if (d.addr.addr == ip(rip)) return d.egress;
    throw std::invalid_argument(rip);
  }
  void publish() {
    engine.publish(build_snapshot(config, engine.published().get()));
    engine.begin_batch();
  }
  PacketResult run(std::vector<std::uint8_t>& p, ChecksumState cs = ChecksumState::complete) {
    return engine.process(p.data(), p.size(), cs);
  }
  static std::vector<std::uint8_t> sent(const PacketResult& r) {
    return {r.tx_data, r.tx_data + r.tx_len};
  }
};

TEST_F(EngineDirectTest, TunnelEncapsulatesFromTheDirectorsAddressWithInnerTtlDecremented) {
  auto syn = PacketSpec{}.from("198.51.100.2", 40000).to("192.0.2.10", 80).flags(SYN).build();
  const auto original = syn;
  auto r = run(syn);
  EXPECT_EQ(r.verdict, Verdict::drop);  // the queued copy goes nowhere
  ASSERT_EQ(r.transmit, Transmit::ip);
  EXPECT_EQ(r.tx_dst, ip("203.0.113.11"));
  EXPECT_FALSE(r.tx_v6);
  auto out = sent(r);
  ASSERT_EQ(out.size(), original.size() + 20);
  EXPECT_EQ(out[9], 4);  // IPPROTO_IPIP
  EXPECT_TRUE(test::ipv4_header_checksum_ok(out));
  EXPECT_EQ(std::vector<std::uint8_t>(out.begin() + 12, out.begin() + 16), test::addr_bytes("192.0.2.1"));
  EXPECT_EQ(std::vector<std::uint8_t>(out.begin() + 16, out.begin() + 20), test::addr_bytes("203.0.113.11"));
  // The inner packet: the client's, one hop older.
  std::vector<std::uint8_t> inner(out.begin() + 20, out.end());
  EXPECT_EQ(inner[8], original[8] - 1);
  EXPECT_TRUE(test::ipv4_header_checksum_ok(inner));
  EXPECT_TRUE(test::l4_checksum_ok(inner));
  EXPECT_EQ(std::vector<std::uint8_t>(inner.begin() + 12, inner.end()),
            std::vector<std::uint8_t>(original.begin() + 12, original.end()));
  // Later packets of the connection follow; the state table is input-only.
  auto ack = PacketSpec{}.from("198.51.100.2", 40000).to("192.0.2.10", 80).flags(ACK).data("GET /").build();
  r = run(ack);
  EXPECT_EQ(r.transmit, Transmit::ip);
  EXPECT_EQ(engine.counters().tunneled.get(), 2u);
  const auto& d = engine.published()->services[0].dests[0];
  EXPECT_EQ(d.state->active_conns.get(), 1u);  // ESTABLISHED without seeing a reply
}

TEST_F(EngineDirectTest, TunnelTooBigWithDfAnswersFragNeededFromTheVip) {
  egress("203.0.113.11").mtu = 1000;
  publish();
  auto syn = PacketSpec{}.from("198.51.100.2", 40001).to("192.0.2.10", 80).flags(SYN).build();
  ASSERT_EQ(run(syn).transmit, Transmit::ip);  // a SYN fits
  auto big = PacketSpec{}.from("198.51.100.2", 40001).to("192.0.2.10", 80).flags(ACK)
                 .data(std::string(1000, 'x')).build();
  big[6] |= 0x40;  // DF
  test::fill_ipv4_header_checksum(big);
  auto r = run(big);
  EXPECT_EQ(r.verdict, Verdict::drop);
  ASSERT_EQ(r.transmit, Transmit::ip);
  EXPECT_EQ(r.tx_dst, ip("198.51.100.2"));
  auto icmp = sent(r);
  ASSERT_GE(icmp.size(), 28u + 28u);
  EXPECT_EQ(icmp[9], 1);    // ICMP
  EXPECT_EQ(icmp[20], 3);   // destination unreachable
  EXPECT_EQ(icmp[21], 4);   // fragmentation needed
  EXPECT_EQ(test::get16(icmp, 26), 980);  // route MTU minus the outer header
  EXPECT_EQ(std::vector<std::uint8_t>(icmp.begin() + 12, icmp.begin() + 16), test::addr_bytes("192.0.2.10"));
  EXPECT_TRUE(test::icmp_checksum_ok(icmp));
  EXPECT_EQ(engine.counters().tun_too_big.get(), 1u);
}

TEST_F(EngineDirectTest, Ipv6TunnelUsesTheServicesTunnelSource) {
  auto syn = PacketSpec{}.from("2001:db8:1::2", 40000).to("2001:db8::10", 80).flags(SYN).build();
  auto r = run(syn);
  ASSERT_EQ(r.transmit, Transmit::ip);
  EXPECT_TRUE(r.tx_v6);
  auto out = sent(r);
  ASSERT_EQ(out.size(), syn.size() + 40);
  EXPECT_EQ(out[6], 41);  // IPv6 in IPv6
  EXPECT_EQ(std::vector<std::uint8_t>(out.begin() + 8, out.begin() + 24), test::addr_bytes("2001:db8:9::1"));
  EXPECT_EQ(std::vector<std::uint8_t>(out.begin() + 24, out.begin() + 40), test::addr_bytes("2001:db8:2::11"));
}

TEST_F(EngineDirectTest, TunnelWithoutSourceOrDrWithoutMacDropsAndCounts) {
  egress("203.0.113.11") = {};
  egress("198.51.100.21") = {};
  publish();
  auto a = PacketSpec{}.from("198.51.100.2", 40002).to("192.0.2.10", 80).flags(SYN).build();
  auto b = PacketSpec{}.from("198.51.100.2", 40002).to("198.51.100.10", 80).flags(SYN).build();
  EXPECT_EQ(run(a).verdict, Verdict::drop);
  EXPECT_EQ(run(b).verdict, Verdict::drop);
  EXPECT_EQ(engine.counters().no_route.get(), 2u);
}

TEST_F(EngineDirectTest, DirectRoutingSendsTheUnchangedPacketToTheMac) {
  auto syn = PacketSpec{}.from("198.51.100.2", 40000).to("198.51.100.10", 80).flags(SYN).build();
  const auto original = syn;
  auto r = run(syn);
  EXPECT_EQ(r.verdict, Verdict::drop);
  ASSERT_EQ(r.transmit, Transmit::frame);
  EXPECT_EQ(r.tx_ifindex, 7);
  EXPECT_EQ(r.tx_mac, (std::array<std::uint8_t, 6>{0x02, 0, 0, 0, 0, 0x21}));
  EXPECT_EQ(r.tx_dst, ip("198.51.100.21"));  // named in send-failure logs
  EXPECT_EQ(sent(r), original);
  EXPECT_EQ(engine.counters().direct_routed.get(), 1u);
}

TEST_F(EngineDirectTest, DirectRoutingOverTheSegmentMtuAnswersWithTheMtu) {
  egress("198.51.100.21").mtu = 1000;
  publish();
  auto syn = PacketSpec{}.from("198.51.100.2", 40010).to("198.51.100.10", 80).flags(SYN).build();
  ASSERT_EQ(run(syn).transmit, Transmit::frame);
  auto big = PacketSpec{}.from("198.51.100.2", 40010).to("198.51.100.10", 80).flags(ACK)
                 .data(std::string(1000, 'x')).build();  // DF set
  auto r = run(big);
  EXPECT_EQ(r.verdict, Verdict::drop);
  ASSERT_EQ(r.transmit, Transmit::ip);
  EXPECT_EQ(r.tx_dst, ip("198.51.100.2"));
  auto icmp = sent(r);
  EXPECT_EQ(icmp[20], 3);
  EXPECT_EQ(icmp[21], 4);
  EXPECT_EQ(test::get16(icmp, 26), 1000);  // DR adds no header: the segment's MTU
  EXPECT_EQ(std::vector<std::uint8_t>(icmp.begin() + 12, icmp.begin() + 16), test::addr_bytes("198.51.100.10"));
  EXPECT_TRUE(test::icmp_checksum_ok(icmp));
  // Without DF: dropped, no answer.
  auto loose = big;
  loose[6] &= static_cast<std::uint8_t>(~0x40);
  test::fill_ipv4_header_checksum(loose);
  r = run(loose);
  EXPECT_EQ(r.verdict, Verdict::drop);
  EXPECT_EQ(r.transmit, Transmit::none);
  EXPECT_EQ(engine.counters().dr_too_big.get(), 2u);
  EXPECT_EQ(engine.counters().direct_routed.get(), 1u);
}

TEST_F(EngineDirectTest, DirectRoutingCompletesAPartialChecksum) {
  auto syn = PacketSpec{}.from("198.51.100.2", 40003).to("198.51.100.10", 80).flags(SYN).data("x").build();
  const auto original = syn;
  test::make_checksum_partial(syn);
  auto r = run(syn, ChecksumState::not_ready);
  ASSERT_EQ(r.transmit, Transmit::frame);
  EXPECT_EQ(sent(r), original);
}

TEST_F(EngineDirectTest, PortUnreachableFromNatRealServerReachesTheClientTranslated) {
  auto q = PacketSpec{}.from("198.51.100.2", 41000).to("192.0.2.20", 53).udp().data("q").build();
  ASSERT_TRUE(run(q).modified);  // now 198.51.100.2:41000 -> 203.0.113.31:5353
  auto err = test::icmp_error_packet("203.0.113.31", "198.51.100.2", 3, 3, 0, q);
  auto r = run(err);
  EXPECT_EQ(r.verdict, Verdict::accept);
  ASSERT_TRUE(r.modified);
  auto orig = PacketSpec{}.from("198.51.100.2", 41000).to("192.0.2.20", 53).udp().data("q").build();
  EXPECT_EQ(err, test::icmp_error_packet("192.0.2.20", "198.51.100.2", 3, 3, 0, orig));
  EXPECT_EQ(engine.counters().icmp_translated.get(), 1u);
}

TEST_F(EngineDirectTest, ClientIcmpAboutATunnelConnectionGoesToItsRealServer) {
  auto syn = PacketSpec{}.from("198.51.100.2", 40004).to("192.0.2.10", 80).flags(SYN).build();
  run(syn);
  // A router on the client's path cannot pass the real server's reply.
  auto reply = PacketSpec{}.from("192.0.2.10", 80).to("198.51.100.2", 40004).flags(SYN | ACK).build();
  auto err = test::icmp_error_packet("198.51.100.254", "192.0.2.10", 3, 4, 1400, reply);
  auto r = run(err);
  ASSERT_EQ(r.transmit, Transmit::ip);
  EXPECT_EQ(r.tx_dst, ip("203.0.113.11"));
  auto out = sent(r);
  EXPECT_EQ(out[9], 4);
  EXPECT_EQ(out.size(), err.size() + 20);
}

TEST_F(EngineDirectTest, ClientIcmpAboutADrConnectionGoesUnchangedToItsMac) {
  auto syn = PacketSpec{}.from("198.51.100.2", 40005).to("198.51.100.10", 80).flags(SYN).build();
  run(syn);
  auto reply = PacketSpec{}.from("198.51.100.10", 80).to("198.51.100.2", 40005).flags(SYN | ACK).build();
  auto err = test::icmp_error_packet("198.51.100.254", "198.51.100.10", 3, 4, 1400, test::head(reply, 28));
  const auto original = err;
  auto r = run(err);
  EXPECT_EQ(r.verdict, Verdict::drop);
  ASSERT_EQ(r.transmit, Transmit::frame);
  EXPECT_EQ(r.tx_ifindex, 7);
  EXPECT_EQ(r.tx_mac, (std::array<std::uint8_t, 6>{0x02, 0, 0, 0, 0, 0x21}));
  EXPECT_EQ(sent(r), original);  // DR: the IP packet untouched
  EXPECT_EQ(engine.counters().icmp_translated.get(), 1u);
}

TEST_F(EngineDirectTest, ClientIcmpAboutANatConnectionIsRewrittenToItsRealServer) {
  auto q = PacketSpec{}.udp().from("198.51.100.2", 40006).to("192.0.2.20", 53).data("query").build();
  ASSERT_EQ(run(q).verdict, Verdict::accept);
  // The client's side quotes the reply as it saw it: VIP:53 -> client.
  auto reply = PacketSpec{}.udp().from("192.0.2.20", 53).to("198.51.100.2", 40006).data("answer").build();
  auto err = test::icmp_error_packet("198.51.100.254", "192.0.2.20", 3, 4, 576, reply);
  auto r = run(err);
  EXPECT_EQ(r.verdict, Verdict::accept);
  EXPECT_TRUE(r.modified);
  EXPECT_EQ(r.transmit, Transmit::none);
  EXPECT_EQ(std::vector<std::uint8_t>(err.begin() + 16, err.begin() + 20), test::addr_bytes("203.0.113.31"));
  EXPECT_TRUE(test::ipv4_header_checksum_ok(err));
  EXPECT_TRUE(test::icmp_checksum_ok(err));
  // The quote now reads as the real server sent it: RIP:5353 -> client.
  std::vector<std::uint8_t> quote(err.begin() + 28, err.end());
  EXPECT_EQ(std::vector<std::uint8_t>(quote.begin() + 12, quote.begin() + 16), test::addr_bytes("203.0.113.31"));
  EXPECT_EQ(test::get16(quote, 20), 5353);
  EXPECT_TRUE(test::ipv4_header_checksum_ok(quote));
  EXPECT_TRUE(test::l4_checksum_ok(quote));
  EXPECT_EQ(engine.counters().icmp_translated.get(), 1u);
}

TEST_F(EngineDirectTest, IcmpNotAboutAConnectionPassesUntouched) {
  auto err = test::icmp_error_packet("198.51.100.254", "192.0.2.10", 3, 1, 0,
                                     PacketSpec{}.from("192.0.2.10", 80).to("198.51.100.9", 1).build());
  const auto before = err;
  auto r = run(err);
  EXPECT_EQ(r.verdict, Verdict::accept);
  EXPECT_FALSE(r.modified);
  EXPECT_EQ(r.transmit, Transmit::none);
  EXPECT_EQ(err, before);
  EXPECT_EQ(engine.counters().icmp_passed.get(), 1u);
}

}  // namespace
}  // namespace vsd

namespace vsd {
namespace {

// vsd's own ICMP answers are rate-limited as the kernel's (1000/s, burst
// 50): a flood of oversized DF packets must not make vsd an amplifier.
TEST_F(EngineDirectTest, IcmpAnswersAreRateLimited) {
  egress("203.0.113.11").mtu = 1000;
  publish();
  auto syn = PacketSpec{}.from("198.51.100.2", 40002).to("192.0.2.10", 80).flags(SYN).build();
  ASSERT_EQ(run(syn).transmit, Transmit::ip);
  auto big = PacketSpec{}.from("198.51.100.2", 40002).to("192.0.2.10", 80).flags(ACK)
                 .data(std::string(1000, 'x')).build();
  big[6] |= 0x40;  // DF
  test::fill_ipv4_header_checksum(big);
  int answered = 0;
  for (int i = 0; i < 80; ++i) {
    auto p = big;
    answered += run(p).transmit == Transmit::ip;
  }
  EXPECT_EQ(answered, 50) << "the burst, at one instant";
  EXPECT_EQ(engine.counters().icmp_rate_limited.get(), 30u);
  clock.advance_ms(10);  // ten more are due
  answered = 0;
  for (int i = 0; i < 20; ++i) {
    auto p = big;
    answered += run(p).transmit == Transmit::ip;
  }
  EXPECT_EQ(answered, 10);
  EXPECT_EQ(engine.counters().tun_too_big.get(), 100u) << "every packet counted, answered or not";
}

}  // namespace
}  // namespace vsd
