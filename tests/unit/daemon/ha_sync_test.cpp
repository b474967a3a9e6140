// The pair's sync over real UDP sockets on loopback (127.0.0.1 and
// 127.0.0.2 are both this host's): a backup that says hello gets the
// master's whole table within about a second; new entries follow on the
// next tick; a datagram from anyone but the peer, or of another sync id,
// is counted and never entered.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>

#include "appliance/daemon/ha_sync.hpp"
#include "core/spec_builder.hpp"
#include "packet_builder.hpp"

namespace vsd {
namespace {

using test::PacketSpec;
constexpr std::uint8_t SYN = 0x02;

struct HaSyncTest : ::testing::Test {
  FakeClock clock;
  Engine master_engine{1024, clock}, backup_engine{1024, clock};
  boost::asio::io_context io;
  // A port per test process: parallel test runs do not collide.
  std::uint16_t port = static_cast<std::uint16_t>(20000 + getpid() % 20000);
  void SetUp() override {
    auto spec = test::snapshot({test::service("192.0.2.10:80").scheduler("rr")
                                    .real("203.0.113.11:8000").real("203.0.113.12:8000")});
    for (Engine* e : {&master_engine, &backup_engine}) {
      e->publish(build_snapshot(spec, nullptr));
      e->begin_batch();
    }
  }
  static HaSync::EngineAccess access(Engine& e) {
    return [&e](const std::function<void(Engine&)>& fn) { fn(e); };
  }
  void syn(std::uint16_t cport) {
    auto bytes = PacketSpec{}.from("198.51.100.2", cport).to("192.0.2.10", 80).flags(SYN).build();
    master_engine.process(bytes.data(), bytes.size(), ChecksumState::complete, 0);
  }
  // Runs the sockets until `done` or 5 s.
  template <class Pred>
  bool run_until(Pred done) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done() && std::chrono::steady_clock::now() < end) {
      io.run_for(std::chrono::milliseconds(20));
      io.restart();
    }
    return done();
  }
};

TEST_F(HaSyncTest, ABackupGetsTheWholeTableThenEveryNewEntry) {
  const IpAddress a = *IpAddress::parse("127.0.0.1"), b = *IpAddress::parse("127.0.0.2");
  HaSync master(io, access(master_engine), a, b, port, 7);
  HaSync backup(io, access(backup_engine), b, a, port, 7);
  for (std::uint16_t p = 40000; p < 40050; ++p) syn(p);  // before either role: no outbox yet
  master.start_master();
  backup.start_backup();  // hello: the master walks its table fast
  ASSERT_TRUE(run_until([&] { return backup_engine.connection_count() == 50; }))
      << backup_engine.connection_count() << " of 50";
  EXPECT_EQ(master.stats().full_copies, 1u);
  syn(41000);  // a new one rides the next tick
  ASSERT_TRUE(run_until([&] { return backup_engine.connection_count() == 51; }));
  auto hit = backup_engine.connections().find(IPPROTO_TCP, *IpAddress::parse("198.51.100.2"), 41000,
                                              *IpAddress::parse("192.0.2.10"), 80);
  ASSERT_NE(hit.entry, nullptr);
  EXPECT_EQ(backup.stats().foreign_datagrams, 0u);
  EXPECT_EQ(backup_engine.counters().sync_refused.get(), 0u);
}

TEST_F(HaSyncTest, OnlyThePeerWithThePairsSyncIdIsHeard) {
  const IpAddress a = *IpAddress::parse("127.0.0.1"), b = *IpAddress::parse("127.0.0.2"),
                  c = *IpAddress::parse("127.0.0.3");
  HaSync backup(io, access(backup_engine), b, a, port, 7);
  backup.start_backup();
  // Another pair's master (sync id 8) at the peer's address, and a
  // stranger with the right id: neither is entered.
  HaSync other_pair(io, access(master_engine), a, b, port, 8);
  HaSync stranger(io, access(master_engine), c, b, port, 7);
  syn(40000);
  other_pair.start_master();
  stranger.start_master();
  ASSERT_TRUE(run_until([&] { return backup.stats().foreign_datagrams >= 2; }));
  EXPECT_EQ(backup_engine.connection_count(), 0u);
  EXPECT_EQ(backup.stats().received_entries, 0u);
}

// Both directors send their decision fingerprints; a pair that numbers its
// pairs apart is counted (and logged), one that agrees is not, and the
// entries are still entered either way (listings and DR flows need them).
TEST_F(HaSyncTest, DifferentDecisionNumbersAreNoticed) {
  const IpAddress a = *IpAddress::parse("127.0.0.1"), b = *IpAddress::parse("127.0.0.2");
  std::uint64_t theirs = 0x1111, ours = 0x2222;
  HaSync master(io, access(master_engine), a, b, port, 7, [&] { return theirs; });
  HaSync backup(io, access(backup_engine), b, a, port, 7, [&] { return ours; });
  syn(40000);
  master.start_master();
  backup.start_backup();
  ASSERT_TRUE(run_until([&] { return backup.stats().decision_mismatches > 0 && backup_engine.connection_count() == 1; }));
  EXPECT_GT(master.stats().decision_mismatches, 0u) << "the backup's hello carries its fingerprint too";
  ours = theirs;  // reloaded alike
  const std::uint64_t seen = backup.stats().decision_mismatches;
  syn(40001);
  ASSERT_TRUE(run_until([&] { return backup_engine.connection_count() == 2; }));
  io.run_for(std::chrono::milliseconds(250));
  EXPECT_EQ(backup.stats().decision_mismatches, seen) << "agreeing now";
}

TEST(HaSyncBind, AnAddressNotOnThisNodeIsNamed) {
  boost::asio::io_context io;
  try {
    HaSync s(io, [](const std::function<void(Engine&)>&) {}, *IpAddress::parse("192.0.2.77"),
             *IpAddress::parse("192.0.2.78"), 8848, 0);
    FAIL() << "bound an address this node does not have";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find("192.0.2.77 port 8848"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace vsd
