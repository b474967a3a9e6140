// A director pair's sync in the engine, two engines and no network: what
// the master queues and walks, and the backup enters — connections with
// their states, persistence templates (so the backup sends a client where
// the master did), fwmark services, ended flows, refusals.
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "appliance/core/engine.hpp"
#include "appliance/core/kernel_marks.hpp"
#include "packet_builder.hpp"
#include "spec_builder.hpp"

namespace vsd {
namespace {

using test::PacketSpec;
constexpr std::uint8_t SYN = 0x02, ACK = 0x10;

struct EngineSyncTest : ::testing::Test {
  FakeClock clock;
  SnapshotSpec spec;
  Engine master{1024, clock}, backup{1024, clock};
  void SetUp() override {
    spec = test::snapshot(
        {test::service("192.0.2.10:80").scheduler("rr").real("203.0.113.11:8000").real("203.0.113.12:8000"),
         test::service("192.0.2.20:443").scheduler("rr").persistent(300)
             .real("203.0.113.31:443").real("203.0.113.32:443"),
         test::service("198.51.100.10:80").scheduler("rr")
             .real("198.51.100.21", 1, ForwardMethod::dr).real("198.51.100.22", 1, ForwardMethod::dr),
         test::fwmark_service(7).scheduler("rr").real("203.0.113.41").real("203.0.113.42")});
    for (Engine* e : {&master, &backup}) {
      e->publish(build_snapshot(spec, nullptr));
      e->begin_batch();
    }
    master.set_sync_master(true);
  }
  void send(PacketSpec p, std::uint32_t mark = 0) {
    auto bytes = p.build();
    master.process(bytes.data(), bytes.size(), ChecksumState::complete, mark);
  }
  // What the master queued, entered at the backup; how many.
  std::size_t ship() {
    std::vector<SyncEntry> out(256);
    std::size_t n = master.take_sync(out);
    for (std::size_t i = 0; i < n; ++i) backup.sync_apply(out[i]);
    return n;
  }
  const ConnEntry* at(Engine& e, const char* client, std::uint16_t cport, const char* vip, std::uint16_t vport,
                      std::uint8_t proto = IPPROTO_TCP) {
    auto hit = e.connections().find(proto, *IpAddress::parse(client), cport, *IpAddress::parse(vip), vport);
    return hit.entry;
  }
  const DestState& dest(Engine& e, std::size_t s, std::size_t d) {
    return *e.published()->services[s].dests[d].state;
  }
};

TEST_F(EngineSyncTest, ConnectionsAndTheirStatesReachTheBackup) {
  send(PacketSpec{}.from("198.51.100.2", 40000).to("192.0.2.10", 80).flags(SYN));
  send(PacketSpec{}.from("198.51.100.2", 40000).to("192.0.2.10", 80).flags(ACK));
  EXPECT_GE(ship(), 1u);
  const ConnEntry* e = at(backup, "198.51.100.2", 40000, "192.0.2.10", 80);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->daddr, *IpAddress::parse("203.0.113.11"));
  EXPECT_EQ(e->dport, 8000);
  EXPECT_EQ(e->state, TcpState::established);
  EXPECT_TRUE(e->flags & ConnEntry::kSynced);
  EXPECT_EQ(dest(backup, 0, 0).active_conns.get(), 1u) << "the backup's counts schedule with it";
  // Nothing new: nothing queued (a state change is what is sent).
  send(PacketSpec{}.from("198.51.100.2", 40000).to("192.0.2.10", 80).flags(ACK));
  EXPECT_EQ(ship(), 0u);
  // The backup's copy ends by its own timer when the master stops refreshing it.
  clock.advance_s(901);
  backup.begin_batch();
  EXPECT_EQ(at(backup, "198.51.100.2", 40000, "192.0.2.10", 80), nullptr);
}

TEST_F(EngineSyncTest, TemplatesMakeTheBackupPickTheSameServer) {
  // Two clients; rr gives them .31 and .32 at the master.
  send(PacketSpec{}.from("198.51.100.2", 40000).to("192.0.2.20", 443).flags(SYN));
  send(PacketSpec{}.from("198.51.100.3", 40000).to("192.0.2.20", 443).flags(SYN));
  ship();
  EXPECT_EQ(backup.counters().sync_applied.get(), 4u) << "two templates, two connections";
  EXPECT_EQ(dest(backup, 1, 0).persistent_conns.get(), 1u);
  EXPECT_EQ(dest(backup, 1, 1).persistent_conns.get(), 1u);
  // At the backup a new connection of the second client goes to its server,
  // whatever the backup's own rr would say.
  auto bytes = PacketSpec{}.from("198.51.100.3", 40001).to("192.0.2.20", 443).flags(SYN).build();
  backup.process(bytes.data(), bytes.size(), ChecksumState::complete);
  const ConnEntry* e = at(backup, "198.51.100.3", 40001, "192.0.2.20", 443);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->daddr, *IpAddress::parse("203.0.113.32"));
  // The synced connection holds its template: it outlives its own timeout.
  clock.advance_s(400);
  backup.begin_batch();
  EXPECT_EQ(at(backup, "198.51.100.2", 40000, "192.0.2.20", 443), nullptr) << "SYN_RECV copy expired";
}

TEST_F(EngineSyncTest, TheWalkSendsTheWholeTable) {
  for (std::uint16_t p = 1; p <= 50; ++p)
    send(PacketSpec{}.from("198.51.100.2", static_cast<std::uint16_t>(41000 + p)).to("198.51.100.10", 80).flags(SYN));
  std::vector<SyncEntry> all;
  std::uint32_t cursor = 0;
  int slices = 0;
  do {
    cursor = master.sync_walk(cursor, 100, all);
    ++slices;
  } while (cursor != 0 && slices < 100);
  EXPECT_EQ(slices, 11) << "1024 entries, 100 per slice";
  EXPECT_EQ(all.size(), 50u);
  for (const auto& s : all) backup.sync_apply(s);
  EXPECT_EQ(backup.connection_count(), 50u);
  EXPECT_EQ(dest(backup, 2, 0).inactive_conns.get() + dest(backup, 2, 1).inactive_conns.get(), 50u);
}

TEST_F(EngineSyncTest, FwmarkServicesAreFoundByTheirMark) {
  send(PacketSpec{}.from("198.51.100.2", 40000).to("192.0.2.99", 5000).flags(SYN), 7);
  ship();
  const ConnEntry* e = at(backup, "198.51.100.2", 40000, "192.0.2.99", 5000);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->daddr, *IpAddress::parse("203.0.113.41"));
  EXPECT_EQ(e->dport, 5000);
}

TEST_F(EngineSyncTest, AnEntryForAServiceTheBackupLacksIsRefused) {
  SyncEntry s;
  s.proto = IPPROTO_TCP;
  s.caddr = *IpAddress::parse("198.51.100.2");
  s.cport = 1;
  s.vaddr = *IpAddress::parse("192.0.2.77");
  s.vport = 80;
  s.daddr = *IpAddress::parse("203.0.113.11");
  s.dport = 8000;
  s.timeout_s = 60;
  EXPECT_FALSE(backup.sync_apply(s));
  s.vaddr = *IpAddress::parse("192.0.2.10");
  s.daddr = *IpAddress::parse("203.0.113.99");  // not a real server of it
  EXPECT_FALSE(backup.sync_apply(s));
  EXPECT_EQ(backup.counters().sync_refused.get(), 2u);
  EXPECT_EQ(backup.connection_count(), 0u);
}

TEST_F(EngineSyncTest, EveryNewEntryIsQueuedAndStoppingTheMasterEmptiesTheOutbox) {
  for (std::uint32_t i = 0; i < 17000 && master.connection_count() < 1024; ++i)
    send(PacketSpec{}.from("198.51.100.2", static_cast<std::uint16_t>(1000 + i)).to("192.0.2.10", 80).flags(SYN));
  EXPECT_EQ(master.counters().sync_queued.get(), 1024u);
  EXPECT_EQ(master.counters().sync_overflow.get(), 0u);
  master.set_sync_master(false);
  std::vector<SyncEntry> out(8);
  EXPECT_EQ(master.take_sync(out), 0u) << "stopping the master empties its outbox";
}

}  // namespace
}  // namespace vsd
