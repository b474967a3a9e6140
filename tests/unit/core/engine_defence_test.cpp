// The flood defences (defence.hpp) with a fake clock: drop_entry makes room
// for legitimate flows by evicting half-open entries and never established
// ones, a service's table_share holds a flood at one VIP, secure_tcp's
// state table and short timeouts, drop_packet's rate, the once-a-second
// sweep and the log lines; and the connection count after refused
// persistent flows.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "appliance/core/defence.hpp"
#include "appliance/core/engine.hpp"
#include "packet_builder.hpp"
#include "spec_builder.hpp"

namespace vsd {
namespace {

using test::PacketSpec;
constexpr std::uint8_t SYN = 0x02, ACK = 0x10, RST = 0x04;

std::vector<std::string> g_lines;
void capture(const std::string& line, bool) { g_lines.push_back(line); }

// A spoofed source for flood packet i: 192.0.2.128/25 and ports.
std::string spoofed(int i) { return "192.0.2." + std::to_string(128 + i % 127); }
std::uint16_t spoofed_port(int i) { return static_cast<std::uint16_t>(1024 + i / 127); }

struct DefenceTest : ::testing::Test {
  FakeClock clock;
  SnapshotSpec spec;
  std::unique_ptr<Engine> engine;

  // Two NAT services: the flooded VIP .10 and another one, .11.
  void make(std::uint32_t capacity, std::uint8_t drop_entry = 1) {
    spec = test::snapshot({test::service("192.0.2.10:80").scheduler("rr").real("203.0.113.11:8000"),
                           test::service("192.0.2.11:80").scheduler("rr").real("203.0.113.12:8000")});
    spec.defence.drop_entry = drop_entry;
    spec.defence.log = capture;
    g_lines.clear();
    engine = std::make_unique<Engine>(capacity, clock);
    publish();
  }
  void publish() {
    engine->publish(build_snapshot(spec, engine->published().get()));
    engine->begin_batch();
  }
  PacketResult send(const PacketSpec& p) {
    auto b = p.build();
    return engine->process(b.data(), b.size(), ChecksumState::complete);
  }
  // A spoofed SYN: no handshake ever follows.
  PacketResult flood(int i, const char* vip = "192.0.2.10") {
    return send(PacketSpec{}.from(spoofed(i), spoofed_port(i)).to(vip, 80).flags(SYN));
  }
  // A legitimate client: SYN, the server's SYN-ACK, the client's ACK.
  bool connect(const char* client, std::uint16_t port, const char* vip, const char* rip) {
    if (send(PacketSpec{}.from(client, port).to(vip, 80).flags(SYN)).verdict != Verdict::accept) return false;
    send(PacketSpec{}.from(rip, 8000).to(client, port).flags(SYN | ACK));
    return send(PacketSpec{}.from(client, port).to(vip, 80).flags(ACK)).verdict == Verdict::accept;
  }
  const ConnEntry* entry(const std::string& client, std::uint16_t port, const char* vip,
                         std::uint8_t proto = IPPROTO_TCP) {
    return engine->connections().find(proto, *IpAddress::parse(client), port, *IpAddress::parse(vip), 80).entry;
  }
  ServiceState& service(std::size_t i) { return *engine->published()->services[i].state; }
  const EngineCounters& counters() { return engine->counters(); }
};

TEST_F(DefenceTest, AFullTableOfHalfOpenEntriesMakesRoomForALegitimateSyn) {
  make(100);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(flood(i).verdict, Verdict::accept);
  EXPECT_EQ(engine->connections().size(), 100u);
  EXPECT_EQ(service(0).embryonic.get(), 100u);
  // The other VIP and the flooded one both still take new clients.
  EXPECT_TRUE(connect("198.51.100.2", 5000, "192.0.2.11", "203.0.113.12"));
  EXPECT_TRUE(connect("198.51.100.3", 5000, "192.0.2.10", "203.0.113.11"));
  EXPECT_EQ(counters().drop_entry.get(), 2u);
  EXPECT_EQ(counters().table_full.get(), 0u);
  EXPECT_EQ(engine->connections().size(), 100u);
  EXPECT_EQ(engine->connection_count(), 100u);
  // The oldest half-open entries went first.
  EXPECT_EQ(entry(spoofed(0), spoofed_port(0), "192.0.2.10"), nullptr);
  EXPECT_EQ(entry(spoofed(1), spoofed_port(1), "192.0.2.10"), nullptr);
  EXPECT_NE(entry(spoofed(2), spoofed_port(2), "192.0.2.10"), nullptr);
  const auto* legit = entry("198.51.100.2", 5000, "192.0.2.11");
  ASSERT_NE(legit, nullptr);
  EXPECT_EQ(legit->state, TcpState::established);
  EXPECT_EQ(service(1).embryonic.get(), 0u) << "a completed handshake is not embryonic";
  EXPECT_EQ(service(1).table_entries.get(), 1u);
  EXPECT_EQ(service(0).table_entries.get(), 99u);
}

TEST_F(DefenceTest, WithoutDropEntryAFullTableRefusesNewFlows) {
  make(100, 0);
  for (int i = 0; i < 100; ++i) flood(i);
  EXPECT_FALSE(connect("198.51.100.2", 5000, "192.0.2.11", "203.0.113.12"));
  EXPECT_EQ(counters().table_full.get(), 1u);
  EXPECT_EQ(counters().drop_entry.get(), 0u);
}

TEST_F(DefenceTest, EstablishedEntriesAreNeverEvicted) {
  make(50);
  for (std::uint16_t p = 1; p <= 30; ++p) ASSERT_TRUE(connect("198.51.100.2", p, "192.0.2.10", "203.0.113.11"));
  for (int i = 0; i < 20; ++i) flood(i);
  // A flood ten times the table: only the half-open entries turn over.
  for (int i = 20; i < 520; ++i) EXPECT_EQ(flood(i).verdict, Verdict::accept);
  EXPECT_EQ(counters().drop_entry.get(), 500u);
  for (std::uint16_t p = 1; p <= 30; ++p) {
    const auto* e = entry("198.51.100.2", p, "192.0.2.10");
    ASSERT_NE(e, nullptr) << p;
    EXPECT_EQ(e->state, TcpState::established);
  }
  // All established: nothing to evict, the table refuses.
  make(10);
  for (std::uint16_t p = 1; p <= 10; ++p) ASSERT_TRUE(connect("198.51.100.2", p, "192.0.2.10", "203.0.113.11"));
  EXPECT_EQ(flood(0).verdict, Verdict::drop);
  EXPECT_EQ(counters().table_full.get(), 1u);
  EXPECT_EQ(counters().drop_entry.get(), 0u);
  // Closing (once established) is not embryonic either.
  send(PacketSpec{}.from("198.51.100.2", 1).to("192.0.2.10", 80).flags(RST));
  EXPECT_EQ(entry("198.51.100.2", 1, "192.0.2.10")->state, TcpState::close);
  EXPECT_EQ(flood(1).verdict, Verdict::drop);
}

TEST_F(DefenceTest, ATableShareHoldsAFloodAtOneVip) {
  make(100);
  spec.services[0].table_share = 0.3;
  publish();
  for (int i = 0; i < 200; ++i) EXPECT_EQ(flood(i).verdict, Verdict::accept);
  EXPECT_EQ(service(0).table_entries.get(), 30u) << "the flood turns over its own 30 entries";
  EXPECT_EQ(counters().drop_entry.get(), 170u);
  // The other service gets the rest of the table, all of it established.
  for (std::uint16_t p = 1; p <= 70; ++p)
    EXPECT_TRUE(connect("198.51.100.2", p, "192.0.2.11", "203.0.113.12")) << p;
  EXPECT_EQ(engine->connections().size(), 100u);
  EXPECT_EQ(counters().table_full.get(), 0u);
  // A legitimate client of the flooded VIP still gets in (its share's oldest
  // half-open entry goes), and stays once established.
  EXPECT_TRUE(connect("198.51.100.3", 9000, "192.0.2.10", "203.0.113.11"));
  for (int i = 200; i < 300; ++i) flood(i);
  ASSERT_NE(entry("198.51.100.3", 9000, "192.0.2.10"), nullptr);
}

TEST_F(DefenceTest, AShareWithNothingToEvictRefuses) {
  make(100);
  spec.services[0].table_share = 0.05;
  publish();
  for (std::uint16_t p = 1; p <= 5; ++p) ASSERT_TRUE(connect("198.51.100.2", p, "192.0.2.10", "203.0.113.11"));
  EXPECT_EQ(flood(0).verdict, Verdict::drop);
  EXPECT_EQ(counters().share_full.get(), 1u);
  ASSERT_EQ(g_lines.size(), 1u);
  EXPECT_NE(g_lines[0].find("TCP 192.0.2.10:80"), std::string::npos) << g_lines[0];
  EXPECT_NE(g_lines[0].find("table_share (5 of 100 entries)"), std::string::npos) << g_lines[0];
  // Rate-limited: one line per 10 s.
  flood(1);
  EXPECT_EQ(g_lines.size(), 1u);
  clock.advance_s(10);
  flood(2);
  EXPECT_EQ(g_lines.size(), 2u);
  EXPECT_NE(g_lines[1].find("refused 2 new flow(s)"), std::string::npos) << g_lines[1];
  // drop_entry 0: the share refuses at once too.
  make(100, 0);
  spec.services[0].table_share = 0.05;
  publish();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(flood(i).verdict, Verdict::accept);
  EXPECT_EQ(flood(5).verdict, Verdict::drop);
  EXPECT_EQ(counters().share_full.get(), 1u);
}

TEST_F(DefenceTest, SecureTcpShortensHalfOpenTimeouts) {
  make(1000);
  spec.defence.secure_tcp = kDefenceAlways;
  publish();
  ASSERT_TRUE(engine->defence().secure_tcp);
  flood(0);
  const auto* e = entry(spoofed(0), spoofed_port(0), "192.0.2.10");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->state, TcpState::syn_recv);
  EXPECT_EQ(e->timeout, kSecureEmbryonicTimeout);
  clock.advance_s(kSecureEmbryonicTimeout + 1);
  engine->begin_batch();
  EXPECT_EQ(entry(spoofed(0), spoofed_port(0), "192.0.2.10"), nullptr);
  EXPECT_EQ(counters().secure_tcp_expired.get(), 1u);
  // Off: IPVS's 60 s.
  spec.defence.secure_tcp = 0;
  publish();
  flood(1);
  EXPECT_EQ(entry(spoofed(1), spoofed_port(1), "192.0.2.10")->timeout, 60u);
}

TEST_F(DefenceTest, SecureTcpAutomaticFollowsThePressure) {
  make(20);
  spec.defence.secure_tcp = 1;
  spec.defence.pressure_threshold = 0.5;
  publish();
  for (int i = 0; i < 9; ++i) flood(i);
  engine->begin_batch();
  EXPECT_FALSE(engine->defence().pressure);
  flood(9);
  EXPECT_EQ(entry(spoofed(9), spoofed_port(9), "192.0.2.10")->timeout, 60u);
  engine->begin_batch();
  EXPECT_TRUE(engine->defence().pressure);
  EXPECT_TRUE(engine->defence().secure_tcp);
  flood(10);
  EXPECT_EQ(entry(spoofed(10), spoofed_port(10), "192.0.2.10")->timeout, kSecureEmbryonicTimeout);
  // The half-open entries run out: under the threshold, off.
  clock.advance_s(61);
  engine->begin_batch();
  EXPECT_EQ(engine->connections().size(), 0u);
  EXPECT_FALSE(engine->defence().pressure);
  EXPECT_FALSE(engine->defence().secure_tcp);
}

TEST_F(DefenceTest, SecureTcpNatEstablishesOnlyOnceTheRealServerSpeaks) {
  make(100);
  spec.defence.secure_tcp = kDefenceAlways;
  publish();
  send(PacketSpec{}.from("198.51.100.2", 7000).to("192.0.2.10", 80).flags(SYN));
  send(PacketSpec{}.from("203.0.113.11", 8000).to("198.51.100.2", 7000).flags(SYN | ACK));
  EXPECT_EQ(entry("198.51.100.2", 7000, "192.0.2.10")->state, TcpState::synack);
  send(PacketSpec{}.from("198.51.100.2", 7000).to("192.0.2.10", 80).flags(ACK));
  EXPECT_EQ(entry("198.51.100.2", 7000, "192.0.2.10")->state, TcpState::synack)
      << "a spoofed SYN then ACK does not make an established entry";
  EXPECT_EQ(entry("198.51.100.2", 7000, "192.0.2.10")->timeout, kSecureEmbryonicTimeout);
  send(PacketSpec{}.from("203.0.113.11", 8000).to("198.51.100.2", 7000).flags(ACK).data("hello"));
  EXPECT_EQ(entry("198.51.100.2", 7000, "192.0.2.10")->state, TcpState::established);
  EXPECT_EQ(service(0).embryonic.get(), 0u);
}

TEST_F(DefenceTest, DropPacketAlwaysDropsOneInAmDroprate) {
  make(1000);
  spec.defence.drop_packet = kDefenceAlways;
  spec.defence.am_droprate = 4;
  publish();
  int dropped = 0;
  for (int i = 0; i < 40; ++i) dropped += flood(i).verdict == Verdict::drop;
  EXPECT_EQ(dropped, 10);
  EXPECT_EQ(counters().drop_packet.get(), 10u);
  // The 40th was dropped: the next three go through. Packets of a flow
  // that has its entry are never new flows.
  ASSERT_TRUE(connect("198.51.100.2", 1, "192.0.2.11", "203.0.113.12"));
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(send(PacketSpec{}.from("198.51.100.2", 1).to("192.0.2.11", 80).flags(ACK)).verdict, Verdict::accept);
  EXPECT_EQ(counters().drop_packet.get(), 10u);
}

TEST(DefenceLevel, IpvsModesAndTheDropRate) {
  DefenceSpec s;
  s.drop_entry = 1;
  s.drop_packet = 2;  // IPVS's "automatic, on now": automatic too
  s.secure_tcp = 0;
  s.pressure_threshold = 0.9;
  EXPECT_EQ(pressure_entries(s, 1000), 900u);
  DefenceLevel l = defence_level(s, 899, 1000, false);
  EXPECT_FALSE(l.pressure);
  EXPECT_FALSE(l.drop_entry);
  EXPECT_EQ(l.drop_rate, 0u);
  l = defence_level(s, 900, 1000, false);
  EXPECT_TRUE(l.pressure);
  EXPECT_TRUE(l.drop_entry);
  EXPECT_FALSE(l.secure_tcp);
  EXPECT_EQ(l.drop_rate, 0u) << "free 100 = the threshold's 100: not yet";
  // IPVS: amemthresh / (amemthresh - availmem), free entries for memory.
  EXPECT_EQ(defence_level(s, 950, 1000, true).drop_rate, 2u);
  EXPECT_EQ(defence_level(s, 990, 1000, true).drop_rate, 1u);
  EXPECT_EQ(defence_level(s, 910, 1000, true).drop_rate, 10u) << "just over: 1 in 100 / (100 - 90)";
  EXPECT_EQ(defence_level(s, 1000, 1000, true).drop_rate, 1u) << "full: every new flow";
  // Hysteresis: on until 5 points under the threshold.
  EXPECT_TRUE(defence_level(s, 860, 1000, true).pressure);
  EXPECT_FALSE(defence_level(s, 849, 1000, true).pressure);
  EXPECT_FALSE(defence_level(s, 860, 1000, false).pressure);
  // 3: always; 0: never.
  s.drop_entry = 0;
  s.secure_tcp = 3;
  s.drop_packet = 3;
  s.am_droprate = 7;
  l = defence_level(s, 0, 1000, false);
  EXPECT_FALSE(l.drop_entry);
  EXPECT_TRUE(l.secure_tcp);
  EXPECT_EQ(l.drop_rate, 7u);
  EXPECT_FALSE(defence_level(s, 1000, 1000, true).drop_entry);
}

TEST_F(DefenceTest, TheSweepEvictsIdleHalfOpenEntriesUnderPressure) {
  make(320);
  spec.defence.pressure_threshold = 0.5;
  publish();
  for (int i = 0; i < 300; ++i) flood(i);
  engine->begin_batch();  // same second: no sweep yet
  EXPECT_EQ(counters().drop_entry.get(), 0u);
  clock.advance_s(1);
  engine->begin_batch();
  // 1/32 of the table a second (10), oldest first.
  EXPECT_EQ(counters().drop_entry.get(), 10u);
  EXPECT_EQ(entry(spoofed(9), spoofed_port(9), "192.0.2.10"), nullptr);
  EXPECT_NE(entry(spoofed(10), spoofed_port(10), "192.0.2.10"), nullptr);
  for (int s = 0; s < 30; ++s) {
    clock.advance_s(1);
    engine->begin_batch();
  }
  // Down to the threshold (160), not below.
  EXPECT_EQ(engine->connections().size(), 159u);
  // The log said when drop_entry went on, with what to do.
  ASSERT_FALSE(g_lines.empty());
  EXPECT_NE(g_lines[0].find("defence: table 93% full (300 of 320 entries, 300 embryonic): drop_entry on"),
            std::string::npos)
      << g_lines[0];
  EXPECT_NE(g_lines[0].find("vsadm -L -n -c"), std::string::npos) << g_lines[0];
}

TEST_F(DefenceTest, TheLogSaysWhenTheDefencesGoOnAndOffAtMostEveryTenSeconds) {
  make(100);
  for (int i = 0; i < 95; ++i) flood(i);
  engine->begin_batch();
  EXPECT_TRUE(engine->defence().drop_entry);
  EXPECT_TRUE(g_lines.empty()) << "logged on the second's tick";
  clock.advance_s(1);
  engine->begin_batch();
  ASSERT_EQ(g_lines.size(), 1u);
  EXPECT_NE(g_lines[0].find("table 95% full"), std::string::npos) << g_lines[0];
  EXPECT_NE(g_lines[0].find("drop_entry on"), std::string::npos) << g_lines[0];
  // The flood ends: its entries expire after SYN_RECV's 60 s.
  clock.advance_s(61);
  engine->begin_batch();
  ASSERT_EQ(g_lines.size(), 2u);
  EXPECT_NE(g_lines[1].find("table 0% full"), std::string::npos) << g_lines[1];
  EXPECT_NE(g_lines[1].find("drop_entry off"), std::string::npos) << g_lines[1];
  EXPECT_NE(g_lines[1].find("3 embryonic entries evicted"), std::string::npos) << g_lines[1];
  // On again within 10 s of the last line: the line waits for the 10 s.
  for (int i = 0; i < 95; ++i) flood(i);
  clock.advance_s(1);
  engine->begin_batch();
  EXPECT_EQ(g_lines.size(), 2u);
  clock.advance_s(9);
  engine->begin_batch();
  EXPECT_EQ(g_lines.size(), 3u);
  EXPECT_NE(g_lines[2].find("drop_entry on"), std::string::npos) << g_lines[2];
}

TEST_F(DefenceTest, UdpIsEmbryonicUntilAReply) {
  spec = test::snapshot({test::service("192.0.2.10:53").udp().scheduler("rr").real("203.0.113.11"),
                         test::service("192.0.2.12:53").udp().scheduler("rr").real("203.0.113.12", 1,
                                                                                   ForwardMethod::dr)});
  spec.services[1].dests[0].egress.mac_known = true;
  spec.services[1].dests[0].egress.ifindex = 2;
  engine = std::make_unique<Engine>(4, clock);
  publish();
  auto dns = [&](const char* client, std::uint16_t port, const char* vip) {
    return send(PacketSpec{}.from(client, port).to(vip, 53).udp().data("q"));
  };
  dns("198.51.100.2", 1000, "192.0.2.10");
  send(PacketSpec{}.from("203.0.113.11", 53).to("198.51.100.2", 1000).udp().data("a"));  // its reply
  dns("198.51.100.2", 1001, "192.0.2.12");
  dns("198.51.100.2", 1001, "192.0.2.12");  // DR: a second datagram
  dns("198.51.100.2", 1002, "192.0.2.10");  // no reply
  dns("198.51.100.2", 1003, "192.0.2.12");  // one datagram
  clock.advance_s(1);
  EXPECT_EQ(engine->connections().size(), 4u);
  EXPECT_EQ(service(0).embryonic.get(), 1u);
  EXPECT_EQ(service(1).embryonic.get(), 1u);
  // Two more flows: the two unanswered ones go, the others stay.
  EXPECT_EQ(dns("198.51.100.3", 1, "192.0.2.10").verdict, Verdict::accept);
  EXPECT_EQ(dns("198.51.100.3", 2, "192.0.2.10").verdict, Verdict::accept);
  auto udp = [&](const char* client, std::uint16_t port, const char* vip) {
    return engine->connections().find(IPPROTO_UDP, *IpAddress::parse(client), port, *IpAddress::parse(vip), 53).entry;
  };
  EXPECT_NE(udp("198.51.100.2", 1000, "192.0.2.10"), nullptr) << "NAT, answered";
  EXPECT_NE(udp("198.51.100.2", 1001, "192.0.2.12"), nullptr) << "DR, two datagrams";
  EXPECT_EQ(udp("198.51.100.2", 1002, "192.0.2.10"), nullptr);
  EXPECT_EQ(udp("198.51.100.2", 1003, "192.0.2.12"), nullptr);
  EXPECT_EQ(counters().drop_entry.get(), 2u);
}

TEST_F(DefenceTest, AnEvictedConnectionTakesItsTemplateButNotOneStillInUse) {
  spec = test::snapshot({test::service("192.0.2.10:80").scheduler("rr").persistent(300)
                             .real("203.0.113.11:8000").real("203.0.113.12:8000")});
  engine = std::make_unique<Engine>(6, clock);
  publish();
  // Three spoofed clients: a template and a half-open connection each.
  for (int i = 0; i < 3; ++i) flood(i);
  EXPECT_EQ(engine->connections().size(), 6u);
  // A fourth: its template evicts client 0's connection, and client 0's
  // template with it; room for both of client 3's entries.
  EXPECT_EQ(flood(3).verdict, Verdict::accept);
  EXPECT_EQ(engine->connections().size(), 6u);
  EXPECT_EQ(engine->connection_count(), 6u);
  EXPECT_EQ(counters().drop_entry.get(), 1u);
  // A client's second connection under its own template: the evicted
  // half-open one was its first, and the template it uses stays.
  const std::string c3 = spoofed(3);
  auto r = send(PacketSpec{}.from(c3, 9999).to("192.0.2.10", 80).flags(SYN));
  EXPECT_EQ(r.verdict, Verdict::accept);
  EXPECT_NE(entry(c3, 9999, "192.0.2.10"), nullptr);
  EXPECT_EQ(engine->connections().size(), engine->connection_count());
  std::size_t templates = 0;
  engine->connections().for_each([&](const ConnEntry& e) {
    if (e.is_template()) {
      ++templates;
      if (e.caddr == *IpAddress::parse(c3)) {
        EXPECT_GE(e.control, 1u);
      }
    }
  });
  EXPECT_EQ(templates, 2u);  // clients 2 and 3
}

TEST_F(DefenceTest, TheTemplateANewConnectionUsesStaysWhenItsOnlyConnectionIsEvicted) {
  spec = test::snapshot({test::service("192.0.2.10:80").scheduler("rr").persistent(300)
                             .real("203.0.113.11:8000").real("203.0.113.12:8000")});
  engine = std::make_unique<Engine>(2, clock);
  publish();
  auto first = PacketSpec{}.from("198.51.100.2", 1).to("192.0.2.10", 80).flags(SYN).build();
  engine->process(first.data(), first.size(), ChecksumState::complete);
  ASSERT_EQ(engine->connections().size(), 2u);  // template + half-open connection
  // The client's next connection: the table is full, its own first one is
  // the one to evict, and its template (now controlling nothing) stays.
  auto second = PacketSpec{}.from("198.51.100.2", 2).to("192.0.2.10", 80).flags(SYN).build();
  EXPECT_EQ(engine->process(second.data(), second.size(), ChecksumState::complete).verdict, Verdict::accept);
  EXPECT_EQ(second, PacketSpec{}.from("198.51.100.2", 2).to("203.0.113.11", 8000).flags(SYN).build())
      << "the same real server: persistence holds";
  EXPECT_EQ(counters().drop_entry.get(), 1u);
  EXPECT_EQ(entry("198.51.100.2", 1, "192.0.2.10"), nullptr);
  const ConnEntry* e = entry("198.51.100.2", 2, "192.0.2.10");
  ASSERT_NE(e, nullptr);
  ASSERT_NE(e->control, ConnEntry::kNoControl);
  const ConnEntry& t = engine->connections().at(e->control);
  EXPECT_TRUE(t.is_template());
  EXPECT_EQ(t.control, 1u);
  EXPECT_EQ(engine->connection_count(), 2u);
}

// Issue 15: "The connection count lags after a refused persistent flow".
TEST_F(DefenceTest, TheConnectionCountFollowsARefusedPersistentFlow) {
  spec = test::snapshot({test::service("192.0.2.10:80").scheduler("rr").persistent(300)
                             .real("203.0.113.11:8000")});
  spec.expire_quiescent_template = true;
  engine = std::make_unique<Engine>(100, clock);
  publish();
  ASSERT_TRUE(connect("198.51.100.2", 1, "192.0.2.10", "203.0.113.11"));
  send(PacketSpec{}.from("198.51.100.2", 1).to("192.0.2.10", 80).flags(RST));
  clock.advance_s(11);  // the connection's CLOSE expires, its template stays
  engine->begin_batch();
  ASSERT_EQ(engine->connections().size(), 1u);
  ASSERT_EQ(engine->connection_count(), 1u);
  // The only real server quiesced: the template is no longer valid and
  // goes; no server takes the flow.
  spec.services[0].dests[0].weight = 0;
  publish();
  EXPECT_EQ(send(PacketSpec{}.from("198.51.100.2", 2).to("192.0.2.10", 80).flags(SYN)).verdict, Verdict::drop);
  EXPECT_EQ(counters().no_destination.get(), 1u);
  EXPECT_EQ(engine->connections().size(), 0u);
  EXPECT_EQ(engine->connection_count(), 0u) << "was 1 until the next expiry";
}

// As IPVS (ip_vs_sched_persist): a template made for a flow that is then
// refused stays, and the connection count counts it at once.
TEST_F(DefenceTest, ARefusedPersistentFlowKeepsItsTemplateAsIpvsDoes) {
  spec = test::snapshot({test::service("192.0.2.10:80").scheduler("rr").persistent(300)
                             .real("203.0.113.11:8000")});
  spec.defence.drop_entry = 0;
  engine = std::make_unique<Engine>(3, clock);
  publish();
  ASSERT_TRUE(connect("198.51.100.2", 1, "192.0.2.10", "203.0.113.11"));  // template + connection
  // Another client: its template takes the last entry, its connection finds
  // the table full.
  EXPECT_EQ(send(PacketSpec{}.from("198.51.100.3", 1).to("192.0.2.10", 80).flags(SYN)).verdict, Verdict::drop);
  EXPECT_EQ(counters().table_full.get(), 1u);
  EXPECT_EQ(engine->connections().size(), 3u);
  EXPECT_EQ(engine->connection_count(), 3u);
  EXPECT_EQ(engine->published()->services[0].dests[0].state->persistent_conns.get(), 2u);
  EXPECT_EQ(service(0).table_entries.get(), 3u);
}

// The fast path's flows: a half-open flow vsd evicted is not taken back
// from the kernel's reports while drop_entry is on; an established one is.
TEST_F(DefenceTest, KernelFlowsAreEvictedLikeOthersAndHalfOpenOnesNotReadopted) {
  const MarkLayout marks = *MarkLayout::from_mask(0xffff0000);
  spec = test::snapshot({test::service("192.0.2.10:80").scheduler("rr").real("203.0.113.11:8000").kernel(0x10000)});
  spec.marks = marks;
  engine = std::make_unique<Engine>(10, clock);
  publish();
  for (int i = 0; i < 10; ++i) EXPECT_EQ(flood(i).kernel_bits, 0x10000u);
  EXPECT_EQ(flood(10).kernel_bits, 0x10000u) << "a kernel-held half-open entry is evicted too";
  EXPECT_EQ(counters().drop_entry.get(), 1u);
  engine->begin_batch();
  ASSERT_TRUE(engine->defence().drop_entry);
  KernelFlow f;
  f.l4proto = IPPROTO_TCP;
  f.client = *IpAddress::parse(spoofed(0));
  f.cport = spoofed_port(0);
  f.vip = *IpAddress::parse("192.0.2.10");
  f.vport = 80;
  f.mark = 0x10000;
  f.state = TcpState::syn_recv;
  engine->kernel_flow(KernelFlowEvent::changed, f);
  EXPECT_EQ(entry(spoofed(0), spoofed_port(0), "192.0.2.10"), nullptr);
  f.state = TcpState::established;  // its handshake completed after all
  engine->kernel_flow(KernelFlowEvent::changed, f);
  ASSERT_NE(entry(spoofed(0), spoofed_port(0), "192.0.2.10"), nullptr);
  EXPECT_EQ(entry(spoofed(0), spoofed_port(0), "192.0.2.10")->state, TcpState::established);
  EXPECT_EQ(engine->connection_count(), 10u);
}

// A NAT flow the kernel carries is judged by conntrack: a spoofed client's
// ACK that vsd sees (conntrack found it INVALID, so it came up without the
// flow's mark) does not make it established in the defences' eyes, as
// IPVS's table alone would; conntrack's ESTABLISHED does. And a flow vsd
// evicted that conntrack then reports closing is not taken back in.
TEST_F(DefenceTest, ASpoofedAckOnAKernelNatFlowLeavesItEvictable) {
  const MarkLayout marks = *MarkLayout::from_mask(0xffff0000);
  spec = test::snapshot({test::service("192.0.2.10:80").scheduler("rr").real("203.0.113.11:8000").kernel(0x10000)});
  spec.marks = marks;
  engine = std::make_unique<Engine>(2, clock);
  publish();
  auto ack = [&](int i) { return send(PacketSpec{}.from(spoofed(i), spoofed_port(i)).to("192.0.2.10", 80).flags(ACK)); };
  flood(0);
  EXPECT_EQ(ack(0).kernel_bits, 0x10000u);
  flood(1);
  ack(1);
  EXPECT_EQ(service(0).embryonic.get(), 2u) << "the pairs are still half-open";
  EXPECT_EQ(flood(2).kernel_bits, 0x10000u);
  EXPECT_EQ(counters().drop_entry.get(), 1u);
  EXPECT_EQ(counters().table_full.get(), 0u);
  EXPECT_EQ(entry(spoofed(0), spoofed_port(0), "192.0.2.10"), nullptr);
  engine->begin_batch();
  ASSERT_TRUE(engine->defence().drop_entry);
  KernelFlow f;
  f.l4proto = IPPROTO_TCP;
  f.client = *IpAddress::parse(spoofed(0));
  f.cport = spoofed_port(0);
  f.vip = *IpAddress::parse("192.0.2.10");
  f.vport = 80;
  f.mark = 0x10000;
  f.state = TcpState::close;  // the real server reset the evicted pair
  engine->kernel_flow(KernelFlowEvent::changed, f);
  EXPECT_EQ(entry(spoofed(0), spoofed_port(0), "192.0.2.10"), nullptr);
  // Flow 1's handshake completes after all: conntrack says so.
  f.client = *IpAddress::parse(spoofed(1));
  f.cport = spoofed_port(1);
  f.state = TcpState::established;
  engine->kernel_flow(KernelFlowEvent::changed, f);
  EXPECT_EQ(service(0).embryonic.get(), 1u);
  EXPECT_EQ(entry(spoofed(1), spoofed_port(1), "192.0.2.10")->state, TcpState::established);
  flood(3);
  EXPECT_NE(entry(spoofed(1), spoofed_port(1), "192.0.2.10"), nullptr) << "established: never evicted";
  EXPECT_EQ(entry(spoofed(2), spoofed_port(2), "192.0.2.10"), nullptr);
}

}  // namespace
}  // namespace vsd
