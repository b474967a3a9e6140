// The kernel fast path in the engine, without a kernel: the first packet of
// a flow is decided and answered with a mark, its state then follows the
// kernel's reports (conntrack for NAT) or the few packets the DR/TUN flow
// table still queues; flows vsd does not know are adopted.
#include <gtest/gtest.h>

#include "appliance/core/engine.hpp"
#include "appliance/core/kernel_marks.hpp"
#include "packet_builder.hpp"
#include "spec_builder.hpp"

namespace vsd {
namespace {

using test::PacketSpec;
constexpr std::uint8_t SYN = 0x02, ACK = 0x10, FIN = 0x01;

TEST(MarkLayout, BitsFromTheMask) {
  auto m = MarkLayout::from_mask(0xffff0000);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->queue, 0x80000000u);
  EXPECT_EQ(m->pending, 0x40000000u);
  EXPECT_EQ(m->direct, 0x20000000u);
  EXPECT_EQ(m->id, 0x1fff0000u);
  EXPECT_EQ(m->capacity(), 8191u);
  EXPECT_EQ(m->decision_mark(3), 0x00030000u);
  EXPECT_EQ(m->decision_of(0xa0030005u), 3u);
  EXPECT_EQ(m->with(0x00000005u, 0x00030000u), 0x00030005u) << "the operator's bits stay";
  std::string why;
  EXPECT_FALSE(MarkLayout::from_mask(0xff00ff00, &why));
  EXPECT_NE(why.find("one run of bits"), std::string::npos) << why;
  EXPECT_FALSE(MarkLayout::from_mask(0x7, &why));
  EXPECT_FALSE(MarkLayout::from_mask(0)->enabled());
}

TEST(KernelFlowState, ConntrackStatesAsIpvsNamesThem) {
  EXPECT_EQ(ipvs_state(ConntrackTcpState::syn_sent), TcpState::syn_recv);
  EXPECT_EQ(ipvs_state(ConntrackTcpState::syn_recv), TcpState::syn_recv);
  EXPECT_EQ(ipvs_state(ConntrackTcpState::established), TcpState::established);
  EXPECT_EQ(ipvs_state(ConntrackTcpState::fin_wait), TcpState::fin_wait);
  EXPECT_EQ(ipvs_state(ConntrackTcpState::close_wait), TcpState::close_wait);
  EXPECT_EQ(ipvs_state(ConntrackTcpState::last_ack), TcpState::last_ack);
  EXPECT_EQ(ipvs_state(ConntrackTcpState::time_wait), TcpState::time_wait);
  EXPECT_EQ(ipvs_state(ConntrackTcpState::close), TcpState::close);
  EXPECT_EQ(ipvs_state(ConntrackTcpState::none), TcpState::none);
}

constexpr std::uint32_t kRs1 = 0x00010000, kRs2 = 0x00020000, kDr = 0x00030000;

struct EngineKernelTest : ::testing::Test {
  FakeClock clock;
  MarkLayout marks = *MarkLayout::from_mask(0xffff0000);
  SnapshotSpec spec;
  Engine engine{1024, clock};
  void SetUp() override {
    spec = test::snapshot(
        {test::service("192.0.2.10:80").scheduler("rr")
             .real("203.0.113.11:8000").kernel(kRs1).real("203.0.113.12:8000").kernel(kRs2),
         test::service("198.51.100.10:80").scheduler("rr")
             .real("198.51.100.21", 1, ForwardMethod::dr).kernel(kDr),
         test::service("192.0.2.20:443").scheduler("rr").persistent(300)
             .real("203.0.113.31:443").kernel(0x00040000).real("203.0.113.32:443").kernel(0x00050000)});
    spec.marks = marks;
    publish();
  }
  void publish() {
    engine.publish(build_snapshot(spec, engine.published().get()));
    engine.begin_batch();
  }
  PacketResult send(PacketSpec p, std::uint32_t mark = 0) {
    auto bytes = p.build();
    const auto original = bytes;
    auto r = engine.process(bytes.data(), bytes.size(), ChecksumState::complete, mark);
    EXPECT_EQ(bytes, original) << "the kernel rewrites, not vsd";
    return r;
  }
  const DestState& dest(std::size_t s, std::size_t d) {
    return *engine.published()->services[s].dests[d].state;
  }
  const ConnEntry* entry(const char* client, std::uint16_t cport, const char* vip, std::uint16_t vport,
                         std::uint8_t proto = 6) {
    return engine.connections()
        .find(proto, *IpAddress::parse(client), cport, *IpAddress::parse(vip), vport)
        .entry;
  }
  KernelFlow flow(const char* client, std::uint16_t cport, const char* vip, std::uint16_t vport,
                  std::uint32_t mark, TcpState state) {
    KernelFlow f;
    f.l4proto = 6;
    f.client = *IpAddress::parse(client);
    f.cport = cport;
    f.vip = *IpAddress::parse(vip);
    f.vport = vport;
    f.mark = mark;
    f.state = state;
    return f;
  }
};

TEST_F(EngineKernelTest, NatFirstPacketIsDecidedByMarkAndTheKernelReportsTheRest) {
  auto syn = PacketSpec{}.from("198.51.100.2", 40000).to("192.0.2.10", 80).flags(SYN);
  auto r = send(syn, 0x5);
  EXPECT_EQ(r.verdict, Verdict::accept);
  EXPECT_FALSE(r.modified);
  EXPECT_EQ(r.transmit, Transmit::none);
  EXPECT_EQ(r.mark, kRs1 | 0x5) << "decision in vsd's bits, the operator's bit kept";
  EXPECT_EQ(dest(0, 0).inactive_conns.get(), 1u);
  EXPECT_EQ(dest(0, 0).traffic.conns.get(), 1u);
  EXPECT_EQ(dest(0, 0).traffic.inpkts.get(), 0u) << "the kernel's counters count it";
  // A retransmitted SYN before the kernel confirmed the flow: the same answer.
  EXPECT_EQ(send(syn).mark, kRs1);
  EXPECT_EQ(engine.connection_count(), 1u);
  // Conntrack: established, then the flow ends.
  engine.kernel_flow(KernelFlowEvent::changed, flow("198.51.100.2", 40000, "192.0.2.10", 80, kRs1, TcpState::established));
  EXPECT_EQ(dest(0, 0).active_conns.get(), 1u);
  EXPECT_EQ(dest(0, 0).inactive_conns.get(), 0u);
  // A NAT flow's entry stays as long as the kernel holds it, whatever the time.
  clock.advance_s(5000);
  engine.begin_batch();
  ASSERT_NE(entry("198.51.100.2", 40000, "192.0.2.10", 80), nullptr);
  engine.kernel_flow(KernelFlowEvent::changed, flow("198.51.100.2", 40000, "192.0.2.10", 80, kRs1, TcpState::time_wait));
  EXPECT_EQ(dest(0, 0).active_conns.get(), 0u);
  EXPECT_EQ(dest(0, 0).inactive_conns.get(), 1u);
  engine.kernel_flow(KernelFlowEvent::gone, flow("198.51.100.2", 40000, "192.0.2.10", 80, kRs1, TcpState::time_wait));
  EXPECT_EQ(entry("198.51.100.2", 40000, "192.0.2.10", 80), nullptr);
  EXPECT_EQ(dest(0, 0).inactive_conns.get(), 0u);
  EXPECT_EQ(engine.connection_count(), 0u);
}

TEST_F(EngineKernelTest, AReusedPortsNewFlowIsNotEndedByTheOldFlowsLateDestroy) {
  send(PacketSpec{}.from("198.51.100.2", 40001).to("192.0.2.10", 80).flags(SYN));
  engine.kernel_flow(KernelFlowEvent::changed, flow("198.51.100.2", 40001, "192.0.2.10", 80, kRs1, TcpState::time_wait));
  // The client reuses the port: conntrack replaces the flow, vsd reschedules.
  auto r = send(PacketSpec{}.from("198.51.100.2", 40001).to("192.0.2.10", 80).flags(SYN));
  EXPECT_EQ(r.mark, kRs2) << "rr: rescheduled";
  engine.kernel_flow(KernelFlowEvent::gone, flow("198.51.100.2", 40001, "192.0.2.10", 80, kRs1, TcpState::time_wait));
  ASSERT_NE(entry("198.51.100.2", 40001, "192.0.2.10", 80), nullptr) << "the old flow's end is not the new one's";
}

TEST_F(EngineKernelTest, DrFlowTableAsksForTheSecondPacketAndFinAndFollowsIpvsInputOnlyStates) {
  auto r = send(PacketSpec{}.from("198.51.100.2", 40002).to("198.51.100.10", 80).flags(SYN), marks.queue);
  EXPECT_EQ(r.verdict, Verdict::accept);
  EXPECT_EQ(r.transmit, Transmit::none) << "the kernel's flow table forwards it";
  EXPECT_EQ(r.mark, marks.direct | marks.pending | kDr) << "pending: vsd wants the next packet";
  // The kernel queues the next packet (pending): the client's ACK.
  r = send(PacketSpec{}.from("198.51.100.2", 40002).to("198.51.100.10", 80).flags(ACK),
           marks.direct | marks.pending | kDr | marks.queue);
  EXPECT_EQ(r.mark, marks.direct | kDr);
  EXPECT_EQ(dest(1, 0).active_conns.get(), 1u);
  // FIN from the client (queued by the flow table): FIN_WAIT, then IPVS's tcpfin timeout.
  r = send(PacketSpec{}.from("198.51.100.2", 40002).to("198.51.100.10", 80).flags(FIN | ACK),
           marks.direct | kDr | marks.queue);
  EXPECT_EQ(r.mark, marks.direct | kDr);
  EXPECT_EQ(entry("198.51.100.2", 40002, "198.51.100.10", 80)->state, TcpState::fin_wait);
  clock.advance_s(121);
  engine.begin_batch();
  EXPECT_EQ(entry("198.51.100.2", 40002, "198.51.100.10", 80), nullptr);
  EXPECT_EQ(dest(1, 0).active_conns.get() + dest(1, 0).inactive_conns.get(), 0u);
}

TEST_F(EngineKernelTest, ADrFlowTheKernelFoundNoDestinationForIsForwardedByVsd) {
  // The flow's real server was removed and the ruleset committed before
  // this engine saw the new snapshot: direct_forward's last rule queues
  // the packet with its decision but without the queue bit.
  DestEgress eg;
  eg.ifindex = 7;
  eg.mac_known = true;
  eg.mac = {0x02, 0, 0, 0, 0, 0x21};
  spec.services[1].dests[0].egress = eg;
  publish();
  send(PacketSpec{}.from("198.51.100.2", 40009).to("198.51.100.10", 80).flags(SYN), marks.queue);
  send(PacketSpec{}.from("198.51.100.2", 40009).to("198.51.100.10", 80).flags(ACK),
       marks.direct | marks.pending | kDr | marks.queue);
  auto r = send(PacketSpec{}.from("198.51.100.2", 40009).to("198.51.100.10", 80).flags(ACK),
                marks.direct | kDr);
  EXPECT_EQ(r.verdict, Verdict::drop) << "never accepted: the local stack would reset the flow";
  EXPECT_EQ(r.transmit, Transmit::frame) << "vsd forwards it to the real server's MAC";
  EXPECT_EQ(r.tx_ifindex, 7);
}

TEST_F(EngineKernelTest, BusyDrFlowsStayWhileTheKernelTableKeepsThem) {
  send(PacketSpec{}.from("198.51.100.2", 40003).to("198.51.100.10", 80).flags(SYN), marks.queue);
  send(PacketSpec{}.from("198.51.100.2", 40003).to("198.51.100.10", 80).flags(ACK), marks.queue);
  for (int i = 0; i < 4; ++i) {  // 4 x 800 s: beyond IPVS's 900 s, refreshed by sweeps
    clock.advance_s(800);
    auto f = flow("198.51.100.2", 40003, "198.51.100.10", 80, marks.direct | kDr, TcpState::none);
    f.expires_s = 899;  // the flow table's entry was refreshed by traffic
    engine.kernel_flow(KernelFlowEvent::seen, f);
    engine.begin_batch();
  }
  ASSERT_NE(entry("198.51.100.2", 40003, "198.51.100.10", 80), nullptr);
  EXPECT_EQ(dest(1, 0).active_conns.get(), 1u);
}

TEST_F(EngineKernelTest, UnknownFlowsAreAdoptedWithTheirPersistenceTemplate) {
  // A restart: conntrack holds a NAT flow to .32 of the persistent service.
  engine.kernel_flow(KernelFlowEvent::seen,
                     flow("198.51.100.7", 50000, "192.0.2.20", 443, 0x00050000, TcpState::established));
  const ConnEntry* e = entry("198.51.100.7", 50000, "192.0.2.20", 443);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->daddr, *IpAddress::parse("203.0.113.32"));
  EXPECT_EQ(dest(2, 1).active_conns.get(), 1u);
  EXPECT_EQ(dest(2, 1).persistent_conns.get(), 1u) << "a template was made";
  EXPECT_EQ(engine.counters().kernel_adopted.get(), 1u);
  // The client's next connection follows the template (rr would pick .31).
  auto r = send(PacketSpec{}.from("198.51.100.7", 50001).to("192.0.2.20", 443).flags(SYN));
  EXPECT_EQ(r.mark, 0x00050000u);
  // Unknown decision marks are ignored.
  engine.kernel_flow(KernelFlowEvent::seen, flow("198.51.100.8", 1, "192.0.2.20", 443, 0x0fff0000, TcpState::established));
  EXPECT_EQ(entry("198.51.100.8", 1, "192.0.2.20", 443), nullptr);
}

TEST_F(EngineKernelTest, AResyncDropsTheNatFlowsTheKernelNoLongerHas) {
  send(PacketSpec{}.from("198.51.100.2", 1).to("192.0.2.10", 80).flags(SYN));
  send(PacketSpec{}.from("198.51.100.2", 2).to("192.0.2.10", 80).flags(SYN));
  engine.kernel_resync_begin();
  engine.kernel_flow(KernelFlowEvent::seen, flow("198.51.100.2", 1, "192.0.2.10", 80, kRs1, TcpState::established));
  EXPECT_EQ(engine.kernel_resync_end(), 1u);
  EXPECT_NE(entry("198.51.100.2", 1, "192.0.2.10", 80), nullptr);
  EXPECT_EQ(entry("198.51.100.2", 2, "192.0.2.10", 80), nullptr);
}

TEST_F(EngineKernelTest, WithoutAKernelMarkVsdForwardsAsBefore) {
  spec.services[0].dests[0].kernel_mark = 0;
  spec.services[0].dests[1].kernel_mark = 0;
  publish();
  auto bytes = PacketSpec{}.from("198.51.100.2", 40009).to("192.0.2.10", 80).flags(SYN).build();
  auto r = engine.process(bytes.data(), bytes.size(), ChecksumState::complete, 0x5);
  EXPECT_TRUE(r.modified) << "NAT in userspace";
  EXPECT_EQ(r.mark, 0x5u);
  EXPECT_EQ(dest(0, 0).traffic.inpkts.get() + dest(0, 1).traffic.inpkts.get(), 1u);
}

}  // namespace
}  // namespace vsd

namespace vsd {
namespace {

// sloppy_tcp (scale-out): a flow that ECMP moved here from another director
// arrives mid-stream; an mh service schedules it where every director
// would, and the kernel's flow table takes it from there.
TEST(EngineSloppyTcp, AMidStreamFlowIsScheduledOnlyWhereTheServiceIsSloppy) {
  FakeClock clock;
  Engine engine{1024, clock};
  auto spec = test::snapshot(
      {test::service("198.51.100.10:80").scheduler("mh").sloppy_tcp()
           .real("198.51.100.21", 1, ForwardMethod::dr).kernel(0x00030000)
           .real("198.51.100.22", 1, ForwardMethod::dr).kernel(0x00040000),
       test::service("198.51.100.10:81").scheduler("mh")
           .real("198.51.100.21", 1, ForwardMethod::dr).kernel(0x00050000)});
  spec.marks = *MarkLayout::from_mask(0xffff0000);
  engine.publish(build_snapshot(spec, nullptr));
  engine.begin_batch();
  const MarkLayout& m = spec.marks;
  auto send = [&](std::uint16_t vport, std::uint8_t flags) {
    auto bytes = test::PacketSpec{}.from("198.51.100.2", 40000).to("198.51.100.10", vport).flags(flags).build();
    return engine.process(bytes.data(), bytes.size(), ChecksumState::complete, m.queue);
  };
  auto r = send(80, 0x10);  // ACK, no connection here
  EXPECT_EQ(r.verdict, Verdict::accept);
  const std::uint32_t id = r.mark & m.id;
  EXPECT_TRUE(id == 0x00030000u || id == 0x00040000u) << std::hex << r.mark;
  EXPECT_EQ(r.mark & m.pending, 0u) << "established at once: the kernel forwards the rest";
  auto hit = engine.connections().find(IPPROTO_TCP, *IpAddress::parse("198.51.100.2"), 40000,
                                       *IpAddress::parse("198.51.100.10"), 80);
  ASSERT_NE(hit.entry, nullptr);
  EXPECT_EQ(hit.entry->state, TcpState::established);
  EXPECT_EQ(engine.counters().sloppy_adopted.get(), 1u);
  // The same flow's next packet, and a second director's choice for it
  // (same table: scheduler_maglev_test), name the same real server.
  EXPECT_EQ(send(80, 0x10).mark & m.id, id);
  // A RST never makes an entry; without sloppy_tcp an ACK is dropped (IPVS).
  EXPECT_EQ(send(80, 0x04 | 0x10).verdict, Verdict::accept) << "a RST of the flow it has";
  auto rst = test::PacketSpec{}.from("198.51.100.3", 40000).to("198.51.100.10", 80).flags(0x04).build();
  EXPECT_EQ(engine.process(rst.data(), rst.size(), ChecksumState::complete, m.queue).verdict, Verdict::drop);
  EXPECT_EQ(send(81, 0x10).verdict, Verdict::drop);
  EXPECT_EQ(engine.counters().sloppy_adopted.get(), 1u);
}

}  // namespace
}  // namespace vsd
