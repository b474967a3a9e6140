// Which services the kernel fast path carries, and the numbers their
// decisions keep across reloads and restarts.
#include "appliance/daemon/fast_path_plan.hpp"

#include <gtest/gtest.h>

#include "appliance/daemon/ruleset_spec.hpp"
#include "appliance/daemon/snapshot_spec.hpp"

namespace vsd {
namespace {

Config parse(const std::string& text) {
  auto r = parse_config(text, "t.toml");
  EXPECT_TRUE(r.config) << (r.errors.empty() ? "" : r.errors[0].to_string());
  return r.config.value_or(Config{});
}

const char* kMixed = R"(
[[service]]
address = "192.0.2.10:80"
sorry_server = "203.0.113.99:8000"
[[service.real]]
address = "203.0.113.11:8000"
[[service.real]]
address = "203.0.113.12"
[[service]]
address = "198.51.100.100:80"
[[service.real]]
address = "198.51.100.21"
forward = "dr"
[[service.real]]
address = "198.51.100.22"
forward = "dr"
[[service]]
address = "192.0.2.30:53"
protocol = "udp"
ops = true
[[service.real]]
address = "203.0.113.31"
[[service]]
address = "192.0.2.40:80"
[[service.real]]
address = "203.0.113.41"
[[service.real]]
address = "198.51.100.23"
forward = "dr"
[[service]]
fwmark = 7
persistent = 60
[[service.real]]
address = "203.0.113.51"
)";

TEST(DecisionNumbers, StableAcrossChangesAndRestarts) {
  Config c = parse(kMixed);
  DecisionNumbers n(100);
  ASSERT_TRUE(n.assign(c));
  const auto a = n.number("TCP 192.0.2.10:80 -> 203.0.113.11:8000");
  const auto sorry = n.number("TCP 192.0.2.10:80 -> 203.0.113.99:8000");
  ASSERT_TRUE(a && sorry);
  EXPECT_NE(*a, *sorry);
  // Remove the first real server, add another: the others keep theirs and
  // the removed one's number is not reused while others are free.
  Config d = c;
  d.services[0].reals.erase(d.services[0].reals.begin());
  RealServerConfig extra;
  extra.address = *Endpoint::parse("203.0.113.13:8000");
  d.services[0].reals.push_back(extra);
  ASSERT_TRUE(n.assign(d));
  EXPECT_EQ(n.number("TCP 192.0.2.10:80 -> 203.0.113.99:8000"), sorry);
  EXPECT_NE(n.number("TCP 192.0.2.10:80 -> 203.0.113.13:8000"), a);
  // A restarted vsd reads the same numbers back.
  DecisionNumbers again(100);
  again.from_text(n.to_text() + "garbage line\n0 zero is not a number\n");
  EXPECT_EQ(again.to_text(), n.to_text());
}

// A director pair compares fingerprints: same file, same numbers, same
// fingerprint; a real server added by vsadm on one side alone differs.
TEST(DecisionNumbers, TheFingerprintTellsWhetherTwoDirectorsAgree) {
  Config c = parse(kMixed);
  DecisionNumbers a(100), b(100);
  ASSERT_TRUE(a.assign(c));
  ASSERT_TRUE(b.assign(c));
  EXPECT_EQ(a.fingerprint(c), b.fingerprint(c));
  EXPECT_NE(a.fingerprint(c), 0u);
  // b had an extra real server once (vsadm -a on it alone, then -d):
  // its numbers moved on, and so does its fingerprint.
  DecisionNumbers moved(100);
  Config d = c;
  RealServerConfig extra;
  extra.address = *Endpoint::parse("203.0.113.13:8000");
  d.services[0].reals.insert(d.services[0].reals.begin(), extra);
  ASSERT_TRUE(moved.assign(d));
  ASSERT_TRUE(moved.assign(c));
  EXPECT_NE(moved.fingerprint(c), a.fingerprint(c));
}

TEST(DecisionNumbers, RunningOutFreesNumbersOfPairsNoLongerConfigured) {
  Config c = parse(kMixed);
  DecisionNumbers n(9);  // exactly the 9 pairs of kMixed
  ASSERT_TRUE(n.assign(c));
  Config d = c;
  d.services[0].reals[0].address = *Endpoint::parse("203.0.113.14:8000");
  EXPECT_TRUE(n.assign(d)) << "the replaced pair's number is free again";
  Config e = d;
  RealServerConfig extra;
  extra.address = *Endpoint::parse("203.0.113.15:8000");
  e.services[0].reals.push_back(extra);
  std::size_t missing = 0;
  EXPECT_FALSE(n.assign(e, &missing));
  EXPECT_EQ(missing, 1u);
}

TEST(FastPathPlan, PathsByForwardingMethod) {
  Config c = parse(kMixed);
  DecisionNumbers n(8191);
  ASSERT_TRUE(n.assign(c));
  NodeOffers node;
  node.dr_devices[*IpAddress::parse("198.51.100.21")] = "eth0";  // .22: no route yet
  FastPathPlan plan = plan_fast_path(c, n, node);
  EXPECT_EQ(plan.path(c.services[0]), nfq::Path::nat_kernel) << "NAT with a NAT sorry server";
  EXPECT_EQ(plan.path(c.services[1]), nfq::Path::direct_kernel);
  EXPECT_EQ(plan.path(c.services[2]), nfq::Path::userspace) << "one-packet scheduling";
  EXPECT_EQ(plan.path(c.services[3]), nfq::Path::userspace) << "NAT and DR in one service";
  EXPECT_EQ(plan.path(c.services[4]), nfq::Path::nat_kernel) << "fwmark, NAT";
  const MarkLayout& m = plan.marks;
  EXPECT_EQ(m.mask, 0xffff0000u);
  auto mark_of = [&](const char* key) { return plan.kernel.count(key) ? plan.kernel.at(key) : 0u; };
  EXPECT_EQ(mark_of("TCP 192.0.2.10:80 -> 203.0.113.12:80"),
            m.decision_mark(*n.number("TCP 192.0.2.10:80 -> 203.0.113.12:80")));
  EXPECT_NE(mark_of("TCP 198.51.100.100:80 -> 198.51.100.21:80"), 0u);
  EXPECT_EQ(mark_of("TCP 198.51.100.100:80 -> 198.51.100.22:80"), 0u) << "no device yet: vsd forwards";
  EXPECT_EQ(mark_of("TCP 192.0.2.40:80 -> 203.0.113.41:80"), 0u) << "userspace service";
  // The ruleset's objects: NAT destinations with their ports (port 0 for
  // the fwmark service: the packet keeps its port), DR by device.
  bool fwmark_port0 = false, sorry = false;
  for (const auto& d : plan.spec.nat) {
    fwmark_port0 |= d.rip.to_string() == "203.0.113.51:0";
    sorry |= d.rip.to_string() == "203.0.113.99:8000";
  }
  EXPECT_TRUE(fwmark_port0);
  EXPECT_TRUE(sorry);
  ASSERT_EQ(plan.spec.direct.size(), 1u);
  EXPECT_EQ(plan.spec.direct[0].device, "eth0");
  EXPECT_EQ(plan.spec.counted.size(), plan.kernel.size());
  EXPECT_EQ(plan.spec.timeouts.tcp_established, 900u);
  // The snapshot gives the same marks to its real servers.
  SnapshotSpec snap = snapshot_spec(c, nullptr, &plan);
  EXPECT_EQ(snap.marks, plan.marks);
  EXPECT_EQ(snap.services[0].dests[0].kernel_mark, mark_of("TCP 192.0.2.10:80 -> 203.0.113.11:8000"));
}

TEST(FastPathPlan, OffAndSharedReplyEndpointsStayInUserspace) {
  Config c = parse(kMixed);
  DecisionNumbers n(8191);
  n.assign(c);
  Config off = c;
  off.director.fast_path = false;
  FastPathPlan none = plan_fast_path(off, n, {});
  EXPECT_FALSE(none.marks.enabled());
  EXPECT_TRUE(none.kernel.empty());
  EXPECT_EQ(none.path(c.services[0]), nfq::Path::userspace);
  // 203.0.113.41:80 is a NAT real server of the userspace service 4; a
  // kernel NAT service using it too would lose its replies to notrack.
  Config shared = c;
  RealServerConfig r;
  r.address = *Endpoint::parse("203.0.113.41:80");
  shared.services[0].reals.push_back(r);
  n.assign(shared);
  EXPECT_EQ(plan_fast_path(shared, n, {}).path(shared.services[0]), nfq::Path::userspace);
}

TEST(FastPathPlan, AServiceWithoutRealServersKeepsItsPath) {
  Config c = parse(kMixed);
  DecisionNumbers n(8191);
  n.assign(c);
  NodeOffers node;
  node.dr_devices = {{*IpAddress::parse("198.51.100.21"), "eth0"}, {*IpAddress::parse("198.51.100.22"), "eth0"}};
  const FastPathPlan before = plan_fast_path(c, n, node);
  ASSERT_EQ(before.path(c.services[1]), nfq::Path::direct_kernel);
  // Its last DR server removed: its running flows stay in the flow table.
  Config emptied = c;
  emptied.services[1].reals.clear();
  EXPECT_EQ(plan_fast_path(emptied, n, node, &before).path(emptied.services[1]), nfq::Path::direct_kernel);
  // Without a plan before it (a start), an empty service is planned as NAT.
  EXPECT_EQ(plan_fast_path(emptied, n, node).path(emptied.services[1]), nfq::Path::nat_kernel);
}

TEST(FastPathPlan, AMethodTheKernelRefusedGoesThroughVsd) {
  Config c = parse(kMixed);
  DecisionNumbers n(8191);
  n.assign(c);
  NodeOffers no_nat;
  no_nat.nat_kernel = false;
  FastPathPlan plan = plan_fast_path(c, n, no_nat);
  EXPECT_EQ(plan.path(c.services[0]), nfq::Path::userspace);
  EXPECT_EQ(plan.path(c.services[1]), nfq::Path::direct_kernel);
  EXPECT_TRUE(plan.spec.nat.empty());
  NodeOffers no_direct;
  no_direct.direct_kernel = false;
  plan = plan_fast_path(c, n, no_direct);
  EXPECT_EQ(plan.path(c.services[0]), nfq::Path::nat_kernel);
  EXPECT_EQ(plan.path(c.services[1]), nfq::Path::userspace);
  EXPECT_TRUE(plan.spec.direct.empty());
}

// TUN real servers with a kernel tunnel device (tunnel_devices.hpp) are
// planned as DR ones on that device; the dup's next hop is of the
// service's family. Without a device, vsd encapsulates (no kernel mark).
TEST(FastPathPlan, TunRealServersLeaveByTheirTunnelDevice) {
  Config c = parse(R"(
[[service]]
address = "192.0.2.10:80"
[[service.real]]
address = "198.51.100.21"
forward = "tun"
[[service.real]]
address = "198.51.100.22"
forward = "tun"
[[service.real]]
address = "[2001:db8:7::31]"
forward = "tun"
[[service]]
address = "[2001:db8:64::100]:443"
[[service.real]]
address = "[2001:db8:7::31]"
forward = "tun"
[[service.real]]
address = "198.51.100.21"
forward = "tun"
)");
  DecisionNumbers n(8191);
  ASSERT_TRUE(n.assign(c));
  auto mark_of = [](const FastPathPlan& p, const char* key) { return p.kernel.count(key) ? p.kernel.at(key) : 0u; };

  // No tunnel devices (a kernel without ipip): the services are still on
  // the flow table, every TUN flow through vsd.
  FastPathPlan none = plan_fast_path(c, n, {});
  EXPECT_EQ(none.path(c.services[0]), nfq::Path::direct_kernel);
  EXPECT_TRUE(none.kernel.empty());
  EXPECT_TRUE(none.spec.direct.empty());

  NodeOffers node;
  node.tun_devices = {{*IpAddress::parse("198.51.100.21"), "vsdt0000aaaa"},
                      {*IpAddress::parse("2001:db8:7::31"), "vsdt0000bbbb"}};  // .22: none (no route yet)
  const FastPathPlan plan = plan_fast_path(c, n, node);
  const std::uint32_t m21 = mark_of(plan, "TCP 192.0.2.10:80 -> 198.51.100.21:80");
  const std::uint32_t m31v4 = mark_of(plan, "TCP 192.0.2.10:80 -> [2001:db8:7::31]:80");
  const std::uint32_t m31v6 = mark_of(plan, "TCP [2001:db8:64::100]:443 -> [2001:db8:7::31]:443");
  EXPECT_NE(m21, 0u);
  EXPECT_NE(m31v4, 0u) << "IPv4 inside the ip6tnl device";
  EXPECT_NE(m31v6, 0u);
  EXPECT_EQ(mark_of(plan, "TCP 192.0.2.10:80 -> 198.51.100.22:80"), 0u) << "no device: vsd encapsulates";
  EXPECT_EQ(mark_of(plan, "TCP [2001:db8:64::100]:443 -> 198.51.100.21:443"), 0u)
      << "IPv6 inside ipip would need sit: vsd encapsulates";
  std::map<std::uint32_t, std::pair<std::string, std::string>> direct;  // mark -> next hop, device
  for (const auto& d : plan.spec.direct) direct[d.mark] = {d.rip.to_string(), d.device};
  EXPECT_EQ(direct.size(), 3u);
  EXPECT_EQ(direct[m21], (std::pair<std::string, std::string>{"198.51.100.21", "vsdt0000aaaa"}));
  EXPECT_EQ(direct[m31v4], (std::pair<std::string, std::string>{"192.0.0.8", "vsdt0000bbbb"}));
  EXPECT_EQ(direct[m31v6], (std::pair<std::string, std::string>{"fe80::1", "vsdt0000bbbb"}));
  EXPECT_EQ(plan.spec.counted.size(), 3u);
  // The snapshot gives the engine the same marks: their flows get the
  // direct bits instead of vsd's encapsulation.
  const SnapshotSpec snap = snapshot_spec(c, nullptr, &plan);
  EXPECT_EQ(snap.services[0].dests[0].kernel_mark, m21);
  EXPECT_EQ(snap.services[0].dests[1].kernel_mark, 0u);
  EXPECT_EQ(snap.services[1].dests[1].kernel_mark, 0u);
  // The ruleset takes them: one device with a map in both families' tables.
  nfq::RulesetSpec rs = make_ruleset_spec(c, "vsd", plan);
  for (auto& d : rs.fast.direct) d.ifindex = 7;  // no such devices here
  EXPECT_NO_THROW(nfq::build_install_batch(rs, nfq::QueueForm::native, 1));
}

}  // namespace
}  // namespace vsd

namespace vsd {
namespace {

// A DR sorry server (keepalived's default under lvs_method DR) keeps a DR
// service on the flow table, with its own kernel mark by its device; a NAT
// one beside DR real servers mixes the methods (through vsd).
TEST(FastPathPlan, ADrSorryServerIsOneMoreDrDestination) {
  Config c = parse(R"(
[[service]]
address = "198.51.100.100:80"
forward = "dr"
sorry_server = "198.51.100.99"
[[service.real]]
address = "198.51.100.21"
[[service]]
address = "198.51.100.101:80"
forward = "dr"
sorry_server = "203.0.113.99:8000"
sorry_server_forward = "nat"
[[service.real]]
address = "198.51.100.21"
)");
  DecisionNumbers n(8191);
  ASSERT_TRUE(n.assign(c));
  NodeOffers node;
  node.dr_devices[*IpAddress::parse("198.51.100.21")] = "eth0";
  node.dr_devices[*IpAddress::parse("198.51.100.99")] = "eth1";
  FastPathPlan plan = plan_fast_path(c, n, node);
  EXPECT_EQ(plan.path(c.services[0]), nfq::Path::direct_kernel);
  EXPECT_EQ(plan.path(c.services[1]), nfq::Path::userspace) << "DR real servers with a NAT sorry server";
  ASSERT_EQ(plan.kernel.count("TCP 198.51.100.100:80 -> 198.51.100.99:80"), 1u);
  const std::uint32_t sorry = plan.kernel.at("TCP 198.51.100.100:80 -> 198.51.100.99:80");
  bool found = false;
  for (const auto& d : plan.spec.direct)
    if (d.mark == sorry) found = d.device == "eth1" && d.rip.to_string() == "198.51.100.99";
  EXPECT_TRUE(found) << "the sorry server leaves by its own device";
  EXPECT_TRUE(plan.spec.nat.empty());
}

}  // namespace
}  // namespace vsd
