// vsd's nftables batch, decoded back with libnftnl: both queue encodings,
// the matches, notrack, comments, and the atomic replace sequence. The
// kernel tests at the end run in a private network namespace.
#include "nfq/ruleset.hpp"

#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <libnftnl/rule.h>
#include <libnftnl/udata.h>
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

namespace vsd::nfq {
namespace {

IpAddress ip(const char* s) { return *IpAddress::parse(s); }

RulesetSpec sample() {
  RulesetSpec s;
  s.table = "vsdtest";
  s.queue_first = 4;
  s.queue_count = 2;
  s.bypass = true;
  s.matches.push_back({DivertMatch::Side::destination, ip("192.0.2.10"), IPPROTO_TCP, 80, "vsd service TCP 192.0.2.10:80"});
  s.matches.push_back({DivertMatch::Side::source, ip("203.0.113.11"), IPPROTO_TCP, 8000, "vsd NAT replies 203.0.113.11:8000"});
  s.matches.push_back({DivertMatch::Side::destination, ip("2001:db8::10"), IPPROTO_UDP, 0, "vsd service UDP [2001:db8::10]:0"});
  return s;
}

struct Decoded {
  std::vector<std::string> messages;  // "NEWTABLE ip vsdtest", ...
  std::vector<std::string> rules;     // libnftnl's debug rendering
  std::vector<std::string> comments;
};

Decoded decode(const std::vector<std::uint8_t>& batch) {
  Decoded d;
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(batch.data());
  int len = static_cast<int>(batch.size());
  while (mnl_nlmsg_ok(nlh, len)) {
    int type = nlh->nlmsg_type & 0xff;
    const auto* nfg = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh));
    std::string fam = nfg->nfgen_family == NFPROTO_IPV4 ? "ip" : nfg->nfgen_family == NFPROTO_IPV6 ? "ip6" : "?";
    if (nlh->nlmsg_type == NFNL_MSG_BATCH_BEGIN) d.messages.push_back("BEGIN");
    else if (nlh->nlmsg_type == NFNL_MSG_BATCH_END) d.messages.push_back("END");
    else if (type == NFT_MSG_NEWTABLE) d.messages.push_back("NEWTABLE " + fam);
    else if (type == NFT_MSG_DELTABLE) d.messages.push_back("DELTABLE " + fam);
    else if (type == NFT_MSG_NEWCHAIN) d.messages.push_back("NEWCHAIN " + fam);
    else if (type == NFT_MSG_NEWRULE) {
      d.messages.push_back("NEWRULE " + fam);
      std::unique_ptr<nftnl_rule, void (*)(const nftnl_rule*)> r(nftnl_rule_alloc(), nftnl_rule_free);
      EXPECT_EQ(nftnl_rule_nlmsg_parse(nlh, r.get()), 0);
      char buf[4096];
      nftnl_rule_snprintf(buf, sizeof buf, r.get(), NFTNL_OUTPUT_DEFAULT, 0);
      d.rules.push_back(buf);
      std::uint32_t ulen = 0;
      if (const void* ud = nftnl_rule_get_data(r.get(), NFTNL_RULE_USERDATA, &ulen)) {
        // TLV: type, length, value (NUL-terminated string).
        const auto* p = static_cast<const std::uint8_t*>(ud);
        if (ulen > 2 && p[0] == NFTNL_UDATA_RULE_COMMENT) d.comments.emplace_back(reinterpret_cast<const char*>(p + 2));
      }
    }
    nlh = mnl_nlmsg_next(nlh, &len);
  }
  return d;
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(Ruleset, AtomicReplaceSequenceForBothFamilies) {
  auto d = decode(build_install_batch(sample(), QueueForm::native, 100));
  const std::vector<std::string> expected = {
      "BEGIN",
      "NEWTABLE ip", "DELTABLE ip", "NEWTABLE ip", "NEWCHAIN ip", "NEWCHAIN ip",
      "NEWTABLE ip6", "DELTABLE ip6", "NEWTABLE ip6", "NEWCHAIN ip6", "NEWCHAIN ip6",
      "NEWRULE ip", "NEWRULE ip", "NEWRULE ip", "NEWRULE ip6",
      "END"};
  EXPECT_EQ(d.messages, expected);
}

TEST(Ruleset, NativeQueueEncoding) {
  auto d = decode(build_install_batch(sample(), QueueForm::native, 1));
  ASSERT_EQ(d.rules.size(), 4u);
  const std::string& vip = d.rules[0];
  EXPECT_TRUE(has(vip, "prerouting")) << vip;
  EXPECT_TRUE(has(vip, "[ payload load 4b @ network header + 16 => reg 1 ]")) << vip;
  EXPECT_TRUE(has(vip, "[ cmp eq reg 1 0x0a0200c0 ]")) << vip;  // 192.0.2.10
  EXPECT_TRUE(has(vip, "[ payload load 2b @ transport header + 2 => reg 1 ]")) << vip;
  EXPECT_TRUE(has(vip, "[ cmp eq reg 1 0x00005000 ]")) << vip;  // port 80
  EXPECT_TRUE(has(vip, "[ notrack ]")) << vip;
  EXPECT_TRUE(has(vip, "[ counter pkts 0 bytes 0 ]")) << vip;
  EXPECT_TRUE(has(vip, "[ queue num 4-5 bypass ]")) << vip;
  EXPECT_FALSE(has(vip, "target")) << vip;
}

TEST(Ruleset, XtCompatEncoding) {
  auto d = decode(build_install_batch(sample(), QueueForm::xt_compat, 1));
  ASSERT_EQ(d.rules.size(), 4u);
  EXPECT_TRUE(has(d.rules[0], "[ target name NFQUEUE rev 3 ]")) << d.rules[0];
  EXPECT_FALSE(has(d.rules[0], "[ queue")) << d.rules[0];
}

TEST(Ruleset, RepliesAreNotrackedBeforeRoutingAndQueuedInForward) {
  auto d = decode(build_install_batch(sample(), QueueForm::native, 1));
  const std::string& notrack = d.rules[1];
  const std::string& queue = d.rules[2];
  EXPECT_TRUE(has(notrack, "prerouting")) << notrack;
  EXPECT_TRUE(has(notrack, "[ payload load 4b @ network header + 12 => reg 1 ]")) << notrack;  // saddr
  EXPECT_TRUE(has(notrack, "[ payload load 2b @ transport header + 0 => reg 1 ]")) << notrack;  // sport
  EXPECT_TRUE(has(notrack, "[ notrack ]"));
  EXPECT_FALSE(has(notrack, "queue"));
  EXPECT_TRUE(has(queue, "forward")) << queue;
  EXPECT_FALSE(has(queue, "notrack")) << queue;
  EXPECT_TRUE(has(queue, "[ queue num 4-5 bypass ]")) << queue;
}

TEST(Ruleset, TrackedQueueForTheRealServersDecapsulation) {
  RulesetSpec spec = sample();
  spec.notrack = false;
  auto d = decode(build_install_batch(spec, QueueForm::native, 1));
  const std::string& vip = d.rules[0];
  EXPECT_TRUE(has(vip, "prerouting")) << vip;
  EXPECT_TRUE(has(vip, "[ queue num 4-5 bypass ]")) << vip;
  EXPECT_FALSE(has(vip, "notrack")) << vip;
}

TEST(Ruleset, Ipv6AndAnyPortAndComments) {
  auto d = decode(build_install_batch(sample(), QueueForm::native, 1));
  const std::string& v6 = d.rules[3];
  EXPECT_TRUE(has(v6, "[ payload load 16b @ network header + 24 => reg 1 ]")) << v6;
  EXPECT_TRUE(has(v6, "[ meta load l4proto => reg 1 ]")) << v6;
  EXPECT_FALSE(has(v6, "transport header")) << v6;  // port 0: any port
  ASSERT_EQ(d.comments.size(), 4u);
  EXPECT_EQ(d.comments[0], "vsd service TCP 192.0.2.10:80");
  EXPECT_EQ(d.comments[2], "vsd NAT replies 203.0.113.11:8000");
}

TEST(Ruleset, DeleteBatchAndBadSpec) {
  auto d = decode(build_delete_batch("vsdtest", 1));
  EXPECT_EQ(d.messages, (std::vector<std::string>{"BEGIN", "NEWTABLE ip", "DELTABLE ip", "NEWTABLE ip6", "DELTABLE ip6", "END"}));
  auto bad = sample();
  bad.queue_count = 0;
  EXPECT_THROW(build_install_batch(bad, QueueForm::native, 1), std::invalid_argument);
}

// --- against the kernel, in a network namespace of this test process ---

std::string sh(const std::string& cmd) {
  std::string out;
  if (FILE* f = popen(cmd.c_str(), "r")) {
    char buf[512];
    while (fgets(buf, sizeof buf, f)) out += buf;
    pclose(f);
  }
  return out;
}

class RulesetKernel : public ::testing::Test {
 protected:
  void SetUp() override {
    // ctest runs each test case in its own process: the namespace dies with it.
    ASSERT_EQ(geteuid(), 0u) << "kernel ruleset tests need root";
    ASSERT_EQ(unshare(CLONE_NEWNET), 0) << "unshare(CLONE_NEWNET) failed";
  }
};

TEST_F(RulesetKernel, ProbeInstallReplaceRemove) {
  QueueForm form = probe_queue_form();
  // The probe leaves nothing behind.
  EXPECT_EQ(sh("nft list tables 2>&1"), "");
  install(sample(), form);
  std::string listing = sh("nft list ruleset 2>/dev/null");
  EXPECT_TRUE(has(listing, "table ip vsdtest")) << listing;
  EXPECT_TRUE(has(listing, "table ip6 vsdtest")) << listing;
  EXPECT_TRUE(has(listing, "ip daddr 192.0.2.10 tcp dport 80 notrack counter")) << listing;
  EXPECT_TRUE(has(listing, "queue num 4-5 bypass")) << listing;
  EXPECT_TRUE(has(listing, "comment \"vsd service TCP 192.0.2.10:80\"")) << listing;
  EXPECT_TRUE(has(listing, "ip6 daddr 2001:db8::10 meta l4proto udp notrack")) << listing;

  auto changed = sample();
  changed.matches.resize(1);
  changed.matches[0].port = 443;
  install(changed, form);
  listing = sh("nft list ruleset 2>/dev/null");
  EXPECT_TRUE(has(listing, "tcp dport 443")) << listing;
  EXPECT_FALSE(has(listing, "tcp dport 80 ")) << listing;
  EXPECT_FALSE(has(listing, "203.0.113.11")) << listing;

  remove("vsdtest");
  EXPECT_EQ(sh("nft list tables 2>&1"), "");
  EXPECT_NO_THROW(remove("vsdtest"));  // absent: fine
}

TEST_F(RulesetKernel, RefusedInstallLeavesTheOldTable) {
  QueueForm form = probe_queue_form();
  install(sample(), form);
  auto bad = sample();
  bad.queue_first = 65535;  // 65535 + 2 - 1 is out of range for the kernel
  bad.queue_count = 2;
  EXPECT_ANY_THROW(install(bad, form));
  std::string listing = sh("nft list ruleset 2>/dev/null");
  EXPECT_TRUE(has(listing, "tcp dport 80")) << listing;
}

TEST_F(RulesetKernel, FwmarkGroupIsANamedSetThatMarksAndQueues) {
  QueueForm form = probe_queue_form();
  RulesetSpec spec;
  spec.table = "vsdtest";
  MarkGroup g;
  g.mark = 7;
  g.members = {{ip("192.0.2.10"), 80}, {ip("192.0.2.10"), 443}, {ip("2001:db8::10"), 443}};
  g.comment = "vsd service FWM 7";
  spec.mark_groups.push_back(g);
  install(spec, form);
  std::string listing = sh("nft list ruleset 2>/dev/null");
  EXPECT_TRUE(has(listing, "set fwmark_7 {")) << listing;
  EXPECT_TRUE(has(listing, "type ipv4_addr . inet_service")) << listing;
  EXPECT_TRUE(has(listing, "192.0.2.10 . 80")) << listing;
  EXPECT_TRUE(has(listing, "192.0.2.10 . 443")) << listing;
  EXPECT_TRUE(has(listing, "type ipv6_addr . inet_service")) << listing;
  EXPECT_TRUE(has(listing, "2001:db8::10 . 443")) << listing;
  EXPECT_TRUE(has(listing, "ip daddr . th dport @fwmark_7 meta mark set 0x00000007")) << listing;
  EXPECT_TRUE(has(listing, "meta mark 0x00000007 notrack counter")) << listing;
  EXPECT_TRUE(has(listing, "comment \"vsd service FWM 7\"")) << listing;
  remove("vsdtest");
}

}  // namespace
}  // namespace vsd::nfq
