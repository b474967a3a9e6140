// The kernel fast path's tables against the kernel, each test in a private
// network namespace of its own: what `nft list` shows, and an in-place
// update that keeps the flow maps' elements, the counters and the ct
// timeout objects while it replaces the static maps.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
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

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

DivertMatch dmatch(const char* addr, std::uint8_t proto, std::uint16_t port, Path path, std::string comment) {
  DivertMatch m;
  m.addr = ip(addr);
  m.l4proto = proto;
  m.port = port;
  m.path = path;
  m.comment = std::move(comment);
  return m;
}

// One service per path and family; DR real servers on the veth vsd-t0.
RulesetSpec fast_spec() {
  RulesetSpec s;
  s.table = "vsdtest";
  s.fast.bits = {0xffff0000, 0x80000000, 0x40000000, 0x20000000, 0x1fff0000};
  s.matches.push_back(dmatch("192.0.2.10", IPPROTO_TCP, 80, Path::userspace, "vsd service TCP 192.0.2.10:80"));
  s.matches.push_back(dmatch("198.51.100.100", IPPROTO_TCP, 80, Path::direct_kernel, "vsd service DR"));
  s.matches.push_back(dmatch("192.0.2.20", IPPROTO_TCP, 80, Path::nat_kernel, "vsd service NAT"));
  s.matches.push_back(dmatch("2001:db8:5::100", IPPROTO_UDP, 53, Path::direct_kernel, "vsd service DR6"));
  s.matches.push_back(dmatch("2001:db8::20", IPPROTO_TCP, 80, Path::nat_kernel, "vsd service NAT6"));
  MarkGroup g;
  g.mark = 7;
  g.members = {{ip("192.0.2.30"), 443}};
  g.comment = "vsd service FWM 7";
  s.mark_groups.push_back(g);
  s.fast.nat = {{0x00010000, {ip("203.0.113.11"), 8000}},
                {0x00020000, {ip("203.0.113.12"), 0}},
                {0x00010000, {ip("2001:db8:2::11"), 8000}}};
  s.fast.direct = {{0x00030000, ip("198.51.100.21"), "vsd-t0", 0}, {0x00030000, ip("2001:db8:5::21"), "vsd-t0", 0}};
  s.fast.counted = {0x00010000};
  return s;
}

class RulesetFastPathKernel : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(geteuid(), 0u) << "kernel ruleset tests need root";
    ASSERT_EQ(unshare(CLONE_NEWNET), 0) << "unshare(CLONE_NEWNET) failed";
    sh("ip link set lo up; ip link add vsd-t0 type veth peer name vsd-t1");
    form_ = probe_queue_form();
  }
  std::string table(const char* family) { return sh(std::string("nft list table ") + family + " vsdtest 2>/dev/null"); }
  QueueForm form_ = QueueForm::native;
};

TEST_F(RulesetFastPathKernel, ListsAsTheDesignSays) {
  install(fast_spec(), form_);
  const std::string t4 = table("ip");
  for (const char* line : {
           "ct timeout tcp_900_120 {", "established : 900", "ct timeout udp_300 {",
           "policy = { unreplied : 300, replied : 300 }", "counter in_1 {", "counter out_1 {",
           "map nat_dests {", "type mark : ipv4_addr . inet_service",
           "elements = { 0x00010000 : 203.0.113.11 . 8000 }", "map nat_hosts {",
           "elements = { 0x00020000 : 203.0.113.12 }", "map in_counters {", "type mark : counter",
           "elements = { 0x00010000 : \"in_1\" }", "elements = { 0x00010000 : \"out_1\" }",
           "map direct_vsd-t0 {", "elements = { 0x00030000 : 198.51.100.21 }", "map tcp_flows {",
           "type ipv4_addr . inet_service . ipv4_addr . inet_service : mark", "size 65536",
           "flags dynamic,timeout", "timeout 15m", "timeout 5m", "set fwmark_7 {",
           // prerouting
           "ip daddr 198.51.100.100 tcp dport 80 jump direct_flows comment \"vsd service DR\"",
           "meta mark 0x80000000/1 counter packets 0 bytes 0 queue num 0 comment \"vsd: DR/TUN packets",
           // direct_flows
           "chain direct_flows {\n\t\tnotrack\n",
           "tcp flags syn / syn,ack delete @tcp_flows { ip saddr . tcp sport . ip daddr . tcp dport : meta mark }",
           "meta mark set ip saddr . tcp sport . ip daddr . tcp dport map @tcp_flows",
           "meta mark set ip saddr . udp sport . ip daddr . udp dport map @udp_flows",
           "meta mark & 0x1fff0000 == 0x00000000 meta mark set meta mark | 0x80000000",
           "meta mark & 0x40000000 == 0x40000000 delete @tcp_flows { ip saddr . tcp sport . ip daddr . tcp dport : meta mark } meta mark set meta mark | 0x80000000",
           "tcp flags fin,rst meta mark set meta mark | 0x80000000",
           // direct_forward
           "type filter hook prerouting priority raw + 10; policy accept;",
           "meta mark & 0xa0000000 == 0x20000000 update @tcp_flows { ip saddr . tcp sport . ip daddr . tcp dport : meta mark }",
           "meta mark & 0xa0000000 == 0x20000000 update @udp_flows { ip saddr . udp sport . ip daddr . udp dport : meta mark }",
           "meta mark & 0xa0000000 == 0x20000000 counter name meta mark & 0x1fff0000 map @in_counters",
           "meta mark & 0xa0000000 == 0x20000000 dup to meta mark & 0x1fff0000 map @direct_vsd-t0 device \"vsd-t0\" drop "
           "comment \"vsd: DR real servers on vsd-t0\"",
           // nat_queue, nat_decide, nat
           "ip daddr 192.0.2.20 tcp dport 80 ct direction original ct mark & 0x1fff0000 == 0x00000000 counter packets 0 "
           "bytes 0 queue num 0 comment \"vsd service NAT\"",
           "type filter hook prerouting priority mangle + 10; policy accept;",
           "ct mark & 0x1fff0000 == 0x00000000 meta mark & 0x1fff0000 != 0x00000000 meta l4proto tcp ct mark set meta "
           "mark & 0x1fff0000 ct timeout set \"tcp_900_120\"",
           "meta l4proto udp ct mark set meta mark & 0x1fff0000 ct timeout set \"udp_300\"",
           "ct direction original counter name ct mark & 0x1fff0000 map @in_counters",
           "ct direction reply counter name ct mark & 0x1fff0000 map @out_counters",
           "type nat hook prerouting priority dstnat; policy accept;",
           "meta l4proto { tcp, udp } ct mark & 0x1fff0000 != 0x00000000 dnat ip to ct mark & 0x1fff0000 map @nat_dests",
           "meta l4proto { tcp, udp } ct mark & 0x1fff0000 != 0x00000000 dnat to ct mark & 0x1fff0000 map @nat_hosts"})
    EXPECT_TRUE(has(t4, line)) << line << "\n" << t4;
  // The NAT service's flows must be tracked: nothing of it in prerouting.
  EXPECT_FALSE(has(t4, "ip daddr 192.0.2.20 tcp dport 80 notrack")) << t4;

  const std::string t6 = table("ip6");
  for (const char* line : {
           "l3proto ip6", "type ipv6_addr . inet_service . ipv6_addr . inet_service : mark",
           "elements = { 0x00010000 : 2001:db8:2::11 . 8000 }", "elements = { 0x00030000 : 2001:db8:5::21 }",
           "ip6 daddr 2001:db8:5::100 udp dport 53 jump direct_flows",
           "delete @tcp_flows { ip6 saddr . tcp sport . ip6 daddr . tcp dport : meta mark }",
           "update @udp_flows { ip6 saddr . udp sport . ip6 daddr . udp dport : meta mark }",
           "dnat ip6 to ct mark & 0x1fff0000 map @nat_dests"})
    EXPECT_TRUE(has(t6, line)) << line << "\n" << t6;
  EXPECT_FALSE(has(t6, "nat_hosts")) << t6;  // no IPv6 port-0 real server

  // What an update reads back.
  InstalledTables now = read_installed("vsdtest");
  EXPECT_TRUE(now.ip.exists && now.ip6.exists);
  EXPECT_TRUE(contains(now.ip.chains, "direct_flows"));
  EXPECT_TRUE(contains(now.ip.sets, "tcp_flows"));
  EXPECT_TRUE(contains(now.ip.constant_sets, "fwmark_7"));
  EXPECT_FALSE(contains(now.ip.sets, "__set0"));  // anonymous: goes with its rule
  EXPECT_TRUE(contains(now.ip.counters, "in_1"));
  EXPECT_TRUE(contains(now.ip6.ct_timeouts, "tcp_900_120"));
  EXPECT_FALSE(read_installed("vsd-none").ip.exists);
  remove("vsdtest");
  EXPECT_EQ(sh("nft list tables 2>&1"), "");
}

// UDP datagrams to 127.0.0.1:9 that an operator rule marks as a DR flow's
// packets: they go through direct_forward as a forwarded DR packet would.
// Untracked from the start (output), so the NAT chains leave them alone
// (on lo a packet keeps the conntrack entry it got on the way out).
void send_marked_datagrams(int n) {
  sh("nft add table ip op; "
     "nft add chain ip op out '{ type filter hook output priority -400; }'; "
     "nft add rule ip op out udp dport 9 notrack; "
     "nft add chain ip op pre '{ type filter hook prerouting priority -400; }'; "
     "nft add rule ip op pre udp dport 9 meta mark set 0x20010000");
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(9);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < n; ++i) sendto(fd, "x", 1, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  close(fd);
  sh("nft delete table ip op");
}

TEST_F(RulesetFastPathKernel, UpdateKeepsFlowsCountersAndTimeoutsAndReplacesStaticMaps) {
  install(fast_spec(), form_);
  sh("nft add element ip vsdtest tcp_flows '{ 192.0.2.99 . 1234 . 198.51.100.100 . 80 : 0x20030000 }'");
  sh("nft add element ip6 vsdtest tcp_flows '{ 2001:db8::99 . 1234 . 2001:db8:5::100 . 80 : 0x20030000 }'");
  send_marked_datagrams(3);
  std::string t4 = table("ip");
  // The packet path filled udp_flows (update) and counted in_1.
  EXPECT_TRUE(has(t4, "127.0.0.1 . ")) << t4;
  EXPECT_TRUE(has(sh("nft list counter ip vsdtest in_1"), "packets 3 ")) << sh("nft list counter ip vsdtest in_1");

  RulesetSpec changed = fast_spec();
  changed.fast.nat[0].rip = {ip("203.0.113.13"), 8001};
  changed.fast.counted = {0x00010000, 0x00020000};
  changed.fast.timeouts.tcp_established = 1800;
  install(changed, form_);
  t4 = table("ip");
  const std::string t6 = table("ip6");
  // Kept: the flows (both maps, both families), the counter's value, the
  // ct timeout that conntrack entries may still use.
  EXPECT_TRUE(has(t4, "192.0.2.99 . 1234 . 198.51.100.100 . 80")) << t4;
  EXPECT_TRUE(has(t6, "2001:db8::99 . 1234 . 2001:db8:5::100 . 80")) << t6;
  EXPECT_TRUE(has(t4, "127.0.0.1 . ")) << t4;
  EXPECT_TRUE(has(sh("nft list counter ip vsdtest in_1"), "packets 3 "));
  EXPECT_TRUE(has(t4, "ct timeout tcp_900_120 {")) << t4;
  // Replaced: the static map, the counted marks, the timeouts.
  EXPECT_TRUE(has(t4, "elements = { 0x00010000 : 203.0.113.13 . 8001 }")) << t4;
  EXPECT_FALSE(has(t4, "203.0.113.11")) << t4;
  EXPECT_TRUE(has(t4, "counter in_2 {")) << t4;
  EXPECT_TRUE(has(t4, "ct timeout tcp_1800_120 {")) << t4;
  EXPECT_TRUE(has(t4, "ct timeout set \"tcp_1800_120\"")) << t4;
  EXPECT_FALSE(has(t4, "ct timeout set \"tcp_900_120\"")) << t4;
  // The flow maps' idle timeout follows (the kernel updates a set's
  // timeout in place since 6.10; older kernels keep the old one).
  EXPECT_TRUE(has(t4, "timeout 30m")) << t4;

  // A mark no longer counted loses its counters; a counted one keeps them.
  changed.fast.counted = {0x00020000};
  install(changed, form_);
  t4 = table("ip");
  EXPECT_FALSE(has(t4, "counter in_1 {")) << t4;
  EXPECT_TRUE(has(t4, "counter in_2 {")) << t4;
  EXPECT_TRUE(has(t4, "192.0.2.99 . 1234")) << t4;
}

TEST_F(RulesetFastPathKernel, WithoutDirectMatchesTheDirectObjectsGo) {
  install(fast_spec(), form_);
  RulesetSpec nat_only = fast_spec();
  nat_only.matches.erase(std::remove_if(nat_only.matches.begin(), nat_only.matches.end(),
                                        [](const DivertMatch& m) { return m.path == Path::direct_kernel; }),
                         nat_only.matches.end());
  install(nat_only, form_);
  for (const char* family : {"ip", "ip6"}) {
    const std::string t = table(family);
    for (const char* gone : {"direct_", "tcp_flows", "udp_flows", "jump", "0x80000000"})
      EXPECT_FALSE(has(t, gone)) << gone << "\n" << t;
    EXPECT_TRUE(has(t, "map nat_dests {")) << t;
    EXPECT_TRUE(has(t, "chain nat_decide {")) << t;
  }
}

TEST_F(RulesetFastPathKernel, FastPathOffIsExactlyTodaysTables) {
  RulesetSpec off = fast_spec();
  off.fast = FastPathSpec{};
  for (auto& m : off.matches) m.path = Path::userspace;
  install(off, form_);
  const std::string fresh = sh("nft list ruleset 2>/dev/null");
  install(fast_spec(), form_);
  install(off, form_);
  EXPECT_EQ(sh("nft list ruleset 2>/dev/null"), fresh);
  EXPECT_FALSE(has(fresh, "ct timeout") || has(fresh, "counter in_") || has(fresh, "map ")) << fresh;
}

TEST_F(RulesetFastPathKernel, RefusedUpdateLeavesTheTableAsItWas) {
  install(fast_spec(), form_);
  sh("nft add element ip vsdtest tcp_flows '{ 192.0.2.99 . 1234 . 198.51.100.100 . 80 : 0x20030000 }'");
  const std::string before = sh("nft list ruleset 2>/dev/null");
  RulesetSpec bad = fast_spec();
  bad.fast.nat[0].rip = {ip("203.0.113.13"), 8001};
  bad.queue_first = 65535;  // 65535 + 2 - 1 is out of range for the kernel
  bad.queue_count = 2;
  EXPECT_ANY_THROW(install(bad, form_));
  const std::string after = sh("nft list ruleset 2>/dev/null");
  EXPECT_TRUE(has(after, "192.0.2.99 . 1234 . 198.51.100.100 . 80")) << after;
  EXPECT_TRUE(has(after, "203.0.113.11 . 8000")) << after;
  EXPECT_FALSE(has(after, "203.0.113.13")) << after;
}

TEST_F(RulesetFastPathKernel, AnIncompatibleOldTableIsReplacedWhole) {
  // A table an older layout left: a set of the same name with another
  // type, a chain of the same name at another priority.
  sh("nft -f - <<'EOF'\n"
     "table ip vsdtest {\n"
     "  set tcp_flows { type ipv4_addr; elements = { 192.0.2.1 } }\n"
     "  chain direct_forward { type filter hook prerouting priority 0; policy accept; }\n"
     "}\n"
     "EOF");
  ASSERT_TRUE(has(table("ip"), "type ipv4_addr\n")) << table("ip");
  EXPECT_NO_THROW(install(fast_spec(), form_));
  const std::string t4 = table("ip");
  EXPECT_TRUE(has(t4, "type ipv4_addr . inet_service . ipv4_addr . inet_service : mark")) << t4;
  EXPECT_TRUE(has(t4, "priority raw + 10")) << t4;
  EXPECT_FALSE(has(t4, "192.0.2.1 ")) << t4;
  // And the next install updates it in place again.
  sh("nft add element ip vsdtest tcp_flows '{ 192.0.2.99 . 1234 . 198.51.100.100 . 80 : 0x20030000 }'");
  install(fast_spec(), form_);
  EXPECT_TRUE(has(table("ip"), "192.0.2.99 . 1234")) << table("ip");
}

// This kernel has conntrack, ct timeouts, nft maps and dup: both paths
// probe fine, and the probe leaves no table behind.
TEST_F(RulesetFastPathKernel, ProbesBothPathsAndLeavesNothing) {
  const QueueForm form = probe_queue_form();
  EXPECT_EQ(probe_fast_path(Path::nat_kernel, form), "");
  EXPECT_EQ(probe_fast_path(Path::direct_kernel, form), "");
  EXPECT_FALSE(has(sh("nft list tables 2>&1"), "vsd-probe")) << sh("nft list tables 2>&1");
}

}  // namespace
}  // namespace vsd::nfq
