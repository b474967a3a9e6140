// The SYN proxy's objects against the kernel, each test in a private
// network namespace of its own: the kernel takes them (nft_synproxy,
// conntrack's output-hook NAT), `nft list` shows them as the design says,
// and an in-place update adds and removes them without touching the rest.
// (The proxy at work, with vsd deciding the proxy's SYN, is the integration
// test tests/integration/synflood_test.sh.)
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "nfq/ruleset.hpp"

namespace vsd::nfq {
namespace {

IpAddress ip(const char* s) { return *IpAddress::parse(s); }

std::string sh(const std::string& cmd) {
  std::string out;
  if (FILE* f = popen(cmd.c_str(), "r")) {
    char buf[512];
    while (fgets(buf, sizeof buf, f)) out += buf;
    pclose(f);
  }
  return out;
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

DivertMatch nat_match(const char* addr, std::string comment, bool synproxy) {
  DivertMatch m;
  m.addr = ip(addr);
  m.l4proto = IPPROTO_TCP;
  m.port = 80;
  m.path = Path::nat_kernel;
  m.comment = std::move(comment);
  m.synproxy.on = synproxy;
  return m;
}

RulesetSpec spec(bool synproxy) {
  RulesetSpec s;
  s.table = "vsdtest";
  s.fast.bits = {0xffff0000, 0x80000000, 0x40000000, 0x20000000, 0x1fff0000};
  s.matches.push_back(nat_match("192.0.2.20", "vsd service TCP 192.0.2.20:80", synproxy));
  s.matches.push_back(nat_match("192.0.2.21", "vsd service TCP 192.0.2.21:80", false));
  s.matches.push_back(nat_match("2001:db8::20", "vsd service TCP [2001:db8::20]:80", synproxy));
  s.fast.nat = {{0x00010000, {ip("203.0.113.11"), 8000}}, {0x00010000, {ip("2001:db8:2::11"), 8000}}};
  s.fast.counted = {0x00010000};
  return s;
}

class RulesetSynproxyKernel : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(geteuid(), 0u) << "kernel ruleset tests need root";
    ASSERT_EQ(unshare(CLONE_NEWNET), 0) << "unshare(CLONE_NEWNET) failed";
    sh("ip link set lo up");
    form_ = probe_queue_form();
  }
  std::string table(const char* family) { return sh(std::string("nft list table ") + family + " vsdtest 2>/dev/null"); }
  QueueForm form_ = QueueForm::native;
};

TEST_F(RulesetSynproxyKernel, TheKernelTakesItAndListsItAsTheDesignSays) {
  ASSERT_NO_THROW(install(spec(true), form_));
  const std::string t4 = table("ip");
  for (const char* line : {
           // prerouting: the client's SYN untracked
           "ip daddr 192.0.2.20 tcp dport 80 tcp flags syn / syn,ack notrack comment \"vsd service TCP "
           "192.0.2.20:80 (SYN proxy): client SYNs untracked, answered with cookies\"",
           // input and forward: the proxy, then what it refused
           "type filter hook input priority filter; policy accept;",
           "ip daddr 192.0.2.20 tcp dport 80 ct state invalid,untracked counter packets 0 bytes 0 synproxy mss "
           "1460 wscale 7 timestamp sack-perm comment \"vsd service TCP 192.0.2.20:80 (SYN proxy)\"",
           "ip daddr 192.0.2.20 tcp dport 80 ct state invalid counter packets 0 bytes 0 drop",
           // the proxy's own SYN: queued, decided and DNATed in the output hook
           "type filter hook output priority mangle; policy accept;",
           "ip daddr 192.0.2.20 tcp dport 80 ct direction original ct mark & 0x1fff0000 == 0x00000000 counter "
           "packets 0 bytes 0 queue num 0 comment \"vsd service TCP 192.0.2.20:80 (SYN proxy): the proxy's SYN, "
           "decided by vsd\"",
           "type filter hook output priority mangle + 10; policy accept;",
           "type nat hook output priority -100; policy accept;",
           "meta l4proto { tcp, udp } ct mark & 0x1fff0000 != 0x00000000 dnat ip to ct mark & 0x1fff0000 map "
           "@nat_dests"})
    EXPECT_TRUE(has(t4, line)) << line << "\n" << t4;
  // The other NAT service has none of it.
  EXPECT_FALSE(has(t4, "ip daddr 192.0.2.21 tcp dport 80 tcp flags")) << t4;
  EXPECT_FALSE(has(t4, "ip daddr 192.0.2.21 tcp dport 80 ct state")) << t4;
  const std::string t6 = table("ip6");
  EXPECT_TRUE(has(t6, "ip6 daddr 2001:db8::20 tcp dport 80 ct state invalid,untracked counter packets 0 bytes 0 "
                      "synproxy mss 1440 wscale 7 timestamp sack-perm"))
      << t6;
  EXPECT_TRUE(has(t6, "chain nat_out {")) << t6;
}

TEST_F(RulesetSynproxyKernel, AnInPlaceUpdateAddsAndRemovesIt) {
  install(spec(false), form_);
  EXPECT_FALSE(has(table("ip"), "synproxy"));
  const std::string before = sh("nft -a list chain ip vsdtest nat_queue");
  install(spec(true), form_);
  EXPECT_TRUE(has(table("ip"), "synproxy mss 1460")) << table("ip");
  EXPECT_TRUE(has(table("ip"), "chain nat_out_queue {"));
  install(spec(false), form_);
  const std::string t4 = table("ip");
  EXPECT_FALSE(has(t4, "synproxy")) << t4;
  EXPECT_FALSE(has(t4, "nat_out")) << t4;
  EXPECT_TRUE(has(t4, "ct timeout tcp_900_120 {")) << "the NAT path's objects stay";
  remove("vsdtest");
  EXPECT_EQ(table("ip"), "");
}

}  // namespace
}  // namespace vsd::nfq
