// Inputs the fuzzer (tests/fuzz/engine_fuzz) found, kept as regressions.
#include <gtest/gtest.h>

#include "appliance/core/engine.hpp"
#include "packet_builder.hpp"
#include "spec_builder.hpp"

namespace vsd {
namespace {

// A persistent service's new client: its template took the table's last
// slot and the connection itself was refused. The template stays (as
// designed), but the connection count did not count it until the next
// connection or expiry (issue 15: "the connection count lags after a
// refused persistent flow").
TEST(EngineFuzzRegression, ConnectionCountIncludesATemplateWhoseConnectionWasRefused) {
  FakeClock clock;
  Engine engine(3, clock);
  SnapshotSpec spec =
      test::snapshot({test::service("192.0.2.20:443").scheduler("rr").persistent(300).real("203.0.113.31:443")});
  spec.defence.drop_entry = 0;  // a full table refuses (drop_entry would evict the half-open connections)
  engine.publish(build_snapshot(spec, nullptr));
  engine.begin_batch();
  auto syn = [&](const char* client) {
    auto p = test::PacketSpec{}.from(client, 40000).to("192.0.2.20", 443).flags(0x02).build();
    return engine.process(p.data(), p.size(), ChecksumState::complete);
  };
  EXPECT_EQ(syn("198.51.100.2").verdict, Verdict::accept);  // template + connection
  const auto capacity = engine.connections().capacity();
  for (int i = 3; engine.connections().size() < capacity && i < 250; ++i)
    syn(("198.51.100." + std::to_string(i)).c_str());
  ASSERT_EQ(engine.connections().size(), capacity);
  EXPECT_GT(engine.counters().table_full.get(), 0u);
  EXPECT_EQ(engine.connection_count(), engine.connections().size());
}

}  // namespace
}  // namespace vsd
