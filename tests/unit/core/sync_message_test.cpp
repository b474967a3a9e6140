#include "appliance/core/sync_message.hpp"

#include <gtest/gtest.h>

#include <array>

namespace vsd {
namespace {

SyncEntry conn() {
  SyncEntry e;
  e.proto = 6;
  e.caddr = *IpAddress::parse("198.51.100.2");
  e.cport = 40000;
  e.vaddr = *IpAddress::parse("198.51.100.100");
  e.vport = 80;
  e.daddr = *IpAddress::parse("203.0.113.11");
  e.dport = 8000;
  e.state = 3;
  e.timeout_s = 899;
  return e;
}

SyncEntry tmpl() {
  SyncEntry e;
  e.proto = 0x80 | 6;
  e.fwmark = 0;
  e.caddr = *IpAddress::parse("2001:db8:1::");
  e.vaddr = *IpAddress::parse("2001:db8:1::100");
  e.vport = 443;
  e.daddr = *IpAddress::parse("2001:db8:2::12");
  e.dport = 443;
  e.is_template = true;
  e.timeout_s = 360;
  return e;
}

TEST(SyncMessage, RoundTrip) {
  std::array<std::uint8_t, 1500> buf{};
  const std::vector<SyncEntry> in{conn(), tmpl()};
  const std::size_t n = encode_sync(buf, 7, in);
  EXPECT_EQ(n, kSyncHeaderSize + 2 * kSyncEntrySize);
  auto out = decode_sync({buf.data(), n});
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.sync_id, 7);
  EXPECT_EQ(out.entries, in);
  EXPECT_TRUE(out.entries[0].caddr.is_v4());
  EXPECT_EQ(out.decisions, 0u) << "none given";
  const std::size_t hello = encode_sync(buf, 7, {}, 0x0123456789abcdefULL);
  EXPECT_EQ(hello, kSyncHeaderSize);
  auto h = decode_sync({buf.data(), hello});
  ASSERT_TRUE(h.ok) << h.error;
  EXPECT_EQ(h.decisions, 0x0123456789abcdefULL);
  EXPECT_TRUE(h.entries.empty());
}

TEST(SyncMessage, AFullDatagramFitsOneFrame) {
  EXPECT_GE(kSyncMaxEntries, 20u);
  EXPECT_LE(kSyncHeaderSize + kSyncMaxEntries * kSyncEntrySize + 48, 1500u);
}

TEST(SyncMessage, RefusesWhatIsNotOne) {
  std::array<std::uint8_t, 1500> buf{};
  const std::vector<SyncEntry> in{conn()};
  const std::size_t n = encode_sync(buf, 0, in);
  EXPECT_NE(decode_sync({buf.data(), 10}).error.find("shorter than a header"), std::string::npos);
  EXPECT_NE(decode_sync({buf.data(), n - 1}).error.find("says 1 entries but holds"), std::string::npos);
  auto bad = buf;
  bad[0] = 'X';
  EXPECT_NE(decode_sync({bad.data(), n}).error.find("not a vsd sync message"), std::string::npos);
  bad = buf;
  bad[4] = 9;
  EXPECT_NE(decode_sync({bad.data(), n}).error.find("version 9"), std::string::npos);
  bad = buf;
  bad[kSyncHeaderSize + kSyncEntrySize - 5] = 4;  // the flags byte
  auto r = decode_sync({bad.data(), n});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("unknown flags"), std::string::npos);
  EXPECT_TRUE(r.entries.empty());
}

}  // namespace
}  // namespace vsd
