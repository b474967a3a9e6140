// IPVS connection semantics in the engine, without a kernel: persistence
// templates (with netmask, expiry, and control of connections), port-0 and
// firewall-mark services, one-packet scheduling, thresholds, quiescing and
// expire_nodest_conn. Time from a fake clock, packets from the builder.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "appliance/core/engine.hpp"
#include "packet_builder.hpp"
#include "spec_builder.hpp"

namespace vsd {
namespace {

using test::PacketSpec;
constexpr std::uint8_t SYN = 0x02, ACK = 0x10, FIN = 0x01;

// The destination address:port a rewritten packet now carries.
std::string dst_of(const std::vector<std::uint8_t>& p) {
  char buf[INET6_ADDRSTRLEN] = {};
  std::size_t l4 = test::l4_offset_of(p);
  if (test::is_v6_packet(p))
    inet_ntop(AF_INET6, p.data() + 24, buf, sizeof buf);
  else
    inet_ntop(AF_INET, p.data() + 16, buf, sizeof buf);
  return std::string(buf) + ":" + std::to_string(test::get16(p, l4 + 2));
}

struct Director {
  FakeClock clock;
  Engine engine{4096, clock};
  SnapshotSpec config;
  explicit Director(SnapshotSpec spec) : config(std::move(spec)) { apply(); }
  explicit Director(ServiceSpec one) : Director(test::snapshot({std::move(one)})) {}
  void apply() {
    engine.publish(build_snapshot(config, engine.published().get(), &clock));
    engine.begin_batch();
  }
  // Sends a packet; returns where it went ("-" when dropped).
  std::string send(PacketSpec spec, std::uint32_t mark = 0) {
    auto p = spec.build();
    auto r = engine.process(p.data(), p.size(), ChecksumState::complete, mark);
    if (r.verdict == Verdict::drop) return "-";
    return dst_of(p);
  }
  std::string syn(const std::string& client, std::uint16_t cport, const std::string& vip,
                  std::uint16_t vport, std::uint32_t mark = 0) {
    return send(PacketSpec{}.from(client, cport).to(vip, vport).flags(SYN), mark);
  }
  void tick(std::uint64_t s) {
    clock.advance_s(s);
    engine.begin_batch();
  }
  const DestState& dest(std::size_t svc, std::size_t i) {
    return *engine.published()->services[svc].dests[i].state;
  }
  std::size_t templates() {
    std::size_t n = 0;
    engine.connections().for_each([&](const ConnEntry& e) { n += e.is_template(); });
    return n;
  }
};

// persistent = 300, persistence_netmask = "255.255.255.0"
ServiceSpec kPersistent() {
  return test::service("192.0.2.10:80").scheduler("rr").persistent(300, 24)
      .real("203.0.113.11:8000").real("203.0.113.12:8000");
}

TEST(Persistence, OneClientNetworkStaysOnOneServerOthersSpread) {
  Director d(kPersistent());
  std::string first = d.syn("198.51.100.2", 1000, "192.0.2.10", 80);
  ASSERT_NE(first, "-");
  for (std::uint16_t port = 1001; port < 1011; ++port)
    EXPECT_EQ(d.syn("198.51.100.2", port, "192.0.2.10", 80), first);
  // Same /24 (the netmask): same template, same server.
  EXPECT_EQ(d.syn("198.51.100.77", 2000, "192.0.2.10", 80), first);
  // Another network gets the next server by rr.
  std::string other = d.syn("203.0.113.200", 3000, "192.0.2.10", 80);
  EXPECT_NE(other, first);
  EXPECT_EQ(d.syn("203.0.113.200", 3001, "192.0.2.10", 80), other);
  EXPECT_EQ(d.templates(), 2u);
  EXPECT_EQ(d.dest(0, 0).persistent_conns.get() + d.dest(0, 1).persistent_conns.get(), 2u);
}

TEST(Persistence, TemplateOutlivesItsTimeoutWhileItControlsConnections) {
  Director d(kPersistent());
  std::string first = d.syn("198.51.100.2", 1000, "192.0.2.10", 80);
  // Establish it: ESTABLISHED lasts 900 s, longer than the 300 s template.
  d.send(PacketSpec{}.from("198.51.100.2", 1000).to("192.0.2.10", 80).flags(ACK));
  d.tick(400);
  EXPECT_EQ(d.templates(), 1u) << "a template with a live connection must not expire";
  // Another server would be next by rr, but the template still holds.
  EXPECT_EQ(d.syn("198.51.100.2", 1001, "192.0.2.10", 80), first);
  // Close both connections; the template then times out 300 s after last use.
  for (std::uint16_t port : {1000, 1001}) {
    d.send(PacketSpec{}.from("198.51.100.2", port).to("192.0.2.10", 80).flags(FIN | ACK));
  }
  d.tick(130);  // FIN_WAIT 120 s: connections gone
  d.tick(299);
  EXPECT_EQ(d.templates(), 0u);
  EXPECT_EQ(d.dest(0, 0).persistent_conns.get() + d.dest(0, 1).persistent_conns.get(), 0u);
}

TEST(Persistence, TemplateExpiresAfterPersistentSecondsWhenIdle) {
  Director d(kPersistent());
  auto p = PacketSpec{}.from("198.51.100.2", 1000).to("192.0.2.10", 80).flags(SYN).build();
  d.engine.process(p.data(), p.size(), ChecksumState::complete);
  d.tick(70);  // SYN_RECV 60 s: connection gone, template left
  EXPECT_EQ(d.templates(), 1u);
  d.tick(225);
  EXPECT_EQ(d.templates(), 1u);
  d.tick(10);  // 305 s after its last use
  EXPECT_EQ(d.templates(), 0u);
}

TEST(Persistence, Ipv6PrefixLength) {
  Director d(test::service("[2001:db8::10]:443").scheduler("rr").persistent(60, 64)
                 .real("[2001:db8:2::11]").real("[2001:db8:2::12]"));
  std::string a = d.syn("2001:db8:1::2", 1000, "2001:db8::10", 443);
  EXPECT_EQ(d.syn("2001:db8:1::ffff", 1000, "2001:db8::10", 443), a);
  EXPECT_NE(d.syn("2001:db8:1:1::2", 1000, "2001:db8::10", 443), a);
  EXPECT_EQ(a.rfind("2001:db8:2::1", 0), 0u);
  EXPECT_EQ(a.substr(a.size() - 4), ":443");
}

TEST(Persistence, PortZeroServiceSendsEveryPortOfAClientToOneServer) {
  Director d(test::service("192.0.2.10:0").scheduler("wrr").persistent(1800)
                 .real("203.0.113.11").real("203.0.113.12"));
  std::string http = d.syn("198.51.100.2", 1000, "192.0.2.10", 80);
  std::string https = d.syn("198.51.100.2", 1001, "192.0.2.10", 443);
  ASSERT_NE(http, "-");
  EXPECT_EQ(http.substr(0, http.find(':')), https.substr(0, https.find(':')));
  EXPECT_EQ(http.substr(http.find(':')), ":80") << "real port 0 keeps the packet's port";
  EXPECT_EQ(https.substr(https.find(':')), ":443");
  EXPECT_EQ(d.templates(), 1u) << "one template for all ports";
  // The reply from port 443 of the real server goes back as the VIP's 443.
  auto reply = PacketSpec{}.from(https.substr(0, https.find(':')), 443).to("198.51.100.2", 1001)
                   .flags(SYN | ACK).build();
  auto r = d.engine.process(reply.data(), reply.size(), ChecksumState::complete);
  EXPECT_TRUE(r.modified);
  EXPECT_EQ(reply, PacketSpec{}.from("192.0.2.10", 443).to("198.51.100.2", 1001).flags(SYN | ACK).build());
}

TEST(Fwmark, MarkSelectsTheServiceAndOneTemplateSpansTcpAndUdp) {
  // members = ["192.0.2.10:80", "192.0.2.10:443", "192.0.2.11:53"]: the
  // daemon marks them (nft); the engine sees the mark.
  Director d(test::fwmark_service(7).scheduler("rr").persistent(600)
                 .real("203.0.113.11").real("203.0.113.12"));
  std::string a = d.syn("198.51.100.2", 1000, "192.0.2.10", 80, 7);
  ASSERT_NE(a, "-");
  std::string rs = a.substr(0, a.find(':'));
  EXPECT_EQ(d.syn("198.51.100.2", 1001, "192.0.2.10", 443, 7), rs + ":443");
  EXPECT_EQ(d.send(PacketSpec{}.udp().from("198.51.100.2", 5000).to("192.0.2.11", 53).data("q"), 7),
            rs + ":53");
  EXPECT_EQ(d.templates(), 1u);
  // Without the mark nothing matches: the packet passes untouched.
  EXPECT_EQ(d.syn("198.51.100.2", 1002, "192.0.2.10", 80, 0), "192.0.2.10:80");
}

TEST(Ops, EveryDatagramScheduledAloneAndRepliesTranslatedWithoutAnEntry) {
  Director d(test::service("192.0.2.10:53").udp().scheduler("rr").ops()
                 .real("203.0.113.11:5353").real("203.0.113.12:5353"));
  auto q = [&] { return d.send(PacketSpec{}.udp().from("198.51.100.2", 4000).to("192.0.2.10", 53).data("q")); };
  EXPECT_EQ(q(), "203.0.113.11:5353");
  EXPECT_EQ(q(), "203.0.113.12:5353");
  EXPECT_EQ(q(), "203.0.113.11:5353");
  EXPECT_EQ(d.engine.connections().size(), 0u);
  auto a = PacketSpec{}.udp().from("203.0.113.12", 5353).to("198.51.100.2", 4000).data("a").build();
  auto r = d.engine.process(a.data(), a.size(), ChecksumState::complete);
  EXPECT_TRUE(r.modified);
  EXPECT_EQ(a, PacketSpec{}.udp().from("192.0.2.10", 53).to("198.51.100.2", 4000).data("a").build());
  EXPECT_EQ(d.engine.counters().ops_datagrams.get(), 3u);
}

TEST(Thresholds, OverUpperSkippedUntilUnderLower) {
  Director d(test::service("192.0.2.10:80").scheduler("fo")
                 .real("203.0.113.11:80", 100).thresholds(2, 1).real("203.0.113.12:80", 1));
  // fo always takes .11 (the highest weight) until it is overloaded at 2.
  EXPECT_EQ(d.syn("198.51.100.2", 1, "192.0.2.10", 80), "203.0.113.11:80");
  EXPECT_EQ(d.syn("198.51.100.2", 2, "192.0.2.10", 80), "203.0.113.11:80");
  EXPECT_TRUE(d.dest(0, 0).overloaded.load());
  EXPECT_EQ(d.syn("198.51.100.2", 3, "192.0.2.10", 80), "203.0.113.12:80");
  // One connection expires (SYN_RECV 60 s): 1 left, not under lower=1 yet.
  d.send(PacketSpec{}.from("198.51.100.2", 2).to("192.0.2.10", 80).flags(ACK));  // 2 ESTABLISHED
  d.tick(61);
  EXPECT_TRUE(d.dest(0, 0).overloaded.load());
  EXPECT_EQ(d.syn("198.51.100.2", 4, "192.0.2.10", 80), "203.0.113.12:80");
  // A snapshot change that leaves the thresholds alone keeps the overload.
  d.config.services[0].dests[1].weight = 2;
  d.apply();
  EXPECT_TRUE(d.dest(0, 0).overloaded.load()) << "a weight change elsewhere must not reset the hysteresis";
  d.send(PacketSpec{}.from("198.51.100.2", 2).to("192.0.2.10", 80).flags(0x04));  // RST: CLOSE 10 s
  d.tick(11);
  EXPECT_FALSE(d.dest(0, 0).overloaded.load());
  EXPECT_EQ(d.syn("198.51.100.2", 5, "192.0.2.10", 80), "203.0.113.11:80");
}

TEST(Quiesce, WeightZeroKeepsExistingConnectionsAndTakesNoNewOnes) {
  Director d(test::service("192.0.2.10:80").scheduler("rr").real("203.0.113.11:80").real("203.0.113.12:80"));
  EXPECT_EQ(d.syn("198.51.100.2", 1, "192.0.2.10", 80), "203.0.113.11:80");
  d.send(PacketSpec{}.from("198.51.100.2", 1).to("192.0.2.10", 80).flags(ACK));
  d.config.services[0].dests[0].weight = 0;
  d.apply();
  EXPECT_EQ(d.send(PacketSpec{}.from("198.51.100.2", 1).to("192.0.2.10", 80).flags(ACK).data("more")),
            "203.0.113.11:80");
  for (std::uint16_t p = 2; p < 6; ++p) EXPECT_EQ(d.syn("198.51.100.2", p, "192.0.2.10", 80), "203.0.113.12:80");
}

TEST(Quiesce, ExpireQuiescentTemplateAndReusedPortsAvoidTheQuiescedServer) {
  Director d(kPersistent());
  std::string first = d.syn("198.51.100.2", 1000, "192.0.2.10", 80);
  std::size_t qi = first.rfind("203.0.113.11", 0) == 0 ? 0 : 1;
  d.config.services[0].dests[qi].weight = 0;
  d.apply();
  // IPVS default: the template still sends the client to the quiesced server.
  EXPECT_EQ(d.syn("198.51.100.2", 1001, "192.0.2.10", 80), first);
  // A reused source port (SYN on a closing entry) is never sent there.
  d.send(PacketSpec{}.from("198.51.100.2", 1001).to("192.0.2.10", 80).flags(ACK));   // ESTABLISHED
  d.send(PacketSpec{}.from("198.51.100.2", 1001).to("192.0.2.10", 80).flags(0x04));  // RST: CLOSE
  EXPECT_NE(d.syn("198.51.100.2", 1001, "192.0.2.10", 80), first);
  // With expire_quiescent_template every new connection leaves it.
  SnapshotSpec quiescent = test::snapshot({kPersistent()});
  quiescent.expire_quiescent_template = true;
  Director e(quiescent);
  std::string f = e.syn("198.51.100.2", 1000, "192.0.2.10", 80);
  e.config.services[0].dests[f.rfind("203.0.113.11", 0) == 0 ? 0 : 1].weight = 0;
  e.apply();
  EXPECT_NE(e.syn("198.51.100.2", 1001, "192.0.2.10", 80), f);
}

TEST(NoDest, ExpireNodestConnFlushesARemovedServersEntriesAtOnce) {
  for (bool flush : {false, true}) {
    SnapshotSpec spec = test::snapshot(
        {test::service("192.0.2.10:53").udp().scheduler("rr").real("203.0.113.11:53").real("203.0.113.12:53")});
    spec.expire_nodest_conn = flush;
    Director d(spec);
    for (std::uint16_t p = 1; p <= 4; ++p)
      d.send(PacketSpec{}.udp().from("198.51.100.2", p).to("192.0.2.10", 53).data("q"));
    EXPECT_EQ(d.engine.connections().size(), 4u);
    d.config.services[0].dests.erase(d.config.services[0].dests.begin());
    d.apply();
    EXPECT_EQ(d.engine.connections().size(), flush ? 2u : 4u) << "expire_nodest_conn=" << flush;
    // Without the flush the old entries keep going to the removed server.
    std::string again = d.send(PacketSpec{}.udp().from("198.51.100.2", 1).to("192.0.2.10", 53).data("q"));
    EXPECT_EQ(again, flush ? "203.0.113.12:53" : "203.0.113.11:53");
  }
}

}  // namespace
}  // namespace vsd
