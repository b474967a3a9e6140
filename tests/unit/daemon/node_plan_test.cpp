#include "appliance/daemon/node_plan.hpp"

#include <gtest/gtest.h>

#include <map>

namespace vsd {
namespace {

IpAddress ip(const char* s) { return *IpAddress::parse(s); }

// The cluster file as an operator writes it; every location is the parser's.
Config cluster(const std::string& text) {
  auto r = parse_config(text, "cluster.toml");
  if (!r.config) {
    ADD_FAILURE() << r.errors.front().to_string();
    return {};
  }
  return *r.config;
}

// Routes by destination address; an address not listed has no route.
// Sysctls by key; a key not listed is unreadable.
struct FakeNode {
  std::vector<NodeAddress> addresses;
  std::map<std::string, RouteFact> routes;
  std::map<std::string, std::string> sysctls;

  explicit FakeNode(std::vector<NodeAddress> a, std::map<std::string, RouteFact> r = {},
                    std::map<std::string, std::string> s = {})
      : addresses(std::move(a)), routes(std::move(r)), sysctls(std::move(s)) {}

  NodeFacts facts() const {
    NodeFacts f;
    f.addresses = addresses;
    f.route = [routes = routes](const IpAddress& a) {
      auto it = routes.find(a.to_string());
      return it == routes.end() ? RouteFact{} : it->second;
    };
    f.sysctl = [sysctls = sysctls](const std::string& key) -> std::optional<std::string> {
      auto it = sysctls.find(key);
      if (it == sysctls.end()) return std::nullopt;
      return it->second;
    };
    return f;
  }
};

NodeAddress addr(const char* ifname, const char* a, std::uint8_t prefix) { return {ifname, ip(a), prefix}; }
NodeAddress loopback() { return addr("lo", "127.0.0.1", 8); }

RouteFact direct(const char* ifname) {
  RouteFact r;
  r.found = true;
  r.ifname = ifname;
  return r;
}
RouteFact via(const char* gateway, const char* ifname) {
  RouteFact r = direct(ifname);
  r.gateway = ip(gateway);
  return r;
}
RouteFact local() {
  RouteFact r = direct("lo");
  r.local = true;
  return r;
}

std::string dump(const std::vector<SysctlChange>& changes) {
  std::string text;
  for (const auto& c : changes) text += c.key + "=" + c.value + " (was \"" + c.current + "\")\n";
  return text;
}

std::vector<std::string> texts(const std::vector<Finding>& findings) {
  std::vector<std::string> out;
  for (const auto& f : findings) out.push_back(to_string(f));
  return out;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Line 2: a DR service with two real servers (lines 4 and 7), line 9: an
// IPv4 NAT service whose real server (line 11) is a third host.
const char* kMixed = R"(
[[service]]
address = "192.0.2.10:80"
[[service.real]]
address = "198.51.100.11:80"
forward = "dr"
[[service.real]]
address = "198.51.100.12:80"
forward = "dr"
[[service]]
address = "192.0.2.20:443"
[[service.real]]
address = "203.0.113.21:8443"
)";

// --- roles -----------------------------------------------------------------

TEST(NodePlanRole, AutoRealServerWhenItHoldsARealServerAddress) {
  FakeNode n{{loopback(), addr("eth0", "198.51.100.12", 24), addr("lo", "192.0.2.10", 32)}};
  auto d = decide_role(cluster(kMixed), n.facts(), std::nullopt);
  EXPECT_TRUE(d.ok);
  EXPECT_EQ(d.role, Role::realserver);  // the VIP on lo is how a DR real server holds it
  EXPECT_EQ(d.reason,
            "realserver: 198.51.100.12 (eth0) is real server 198.51.100.12:80 of TCP "
            "192.0.2.10:80 at cluster.toml:7");
}

TEST(NodePlanRole, AutoDirectorWhenItHoldsAVip) {
  FakeNode n{{loopback(), addr("eth0", "192.0.2.1", 24), addr("eth0", "192.0.2.10", 32)}};
  auto d = decide_role(cluster(kMixed), n.facts(), std::nullopt);
  EXPECT_TRUE(d.ok);
  EXPECT_EQ(d.role, Role::director);
  EXPECT_EQ(d.reason, "director: it holds VIP 192.0.2.10 on eth0");
}

TEST(NodePlanRole, AutoDirectorWhenNoAddressMatches) {
  FakeNode n{{loopback(), addr("eth0", "192.0.2.1", 24), addr("eth1", "2001:db8::1", 64)}};
  auto d = decide_role(cluster(kMixed), n.facts(), std::nullopt);
  EXPECT_TRUE(d.ok);
  EXPECT_EQ(d.role, Role::director);
  EXPECT_EQ(d.reason,
            "director: none of this node's addresses (192.0.2.1, 2001:db8::1) is a real server "
            "address in cluster.toml");
}

TEST(NodePlanRole, LoopbackAndVipAddressesOfRealServersIdentifyNoNode) {
  // A real server at 127.0.0.1 (the director serving itself) and one at a
  // VIP's address: every node has the first, a director holds the second.
  Config c = cluster(R"(
[[service]]
address = "192.0.2.10:80"
[[service.real]]
address = "127.0.0.1:8080"
[[service]]
address = "192.0.2.30:80"
[[service.real]]
address = "192.0.2.10:8080"
)");
  FakeNode n{{loopback(), addr("eth0", "192.0.2.10", 24)}};
  auto d = decide_role(c, n.facts(), std::nullopt);
  EXPECT_TRUE(d.ok);
  EXPECT_EQ(d.role, Role::director);
}

TEST(NodePlanRole, AutoRefusesANodeHoldingARealServerAddressAndAVipOffLo) {
  FakeNode n{{loopback(), addr("eth0", "198.51.100.11", 24), addr("eth0", "192.0.2.10", 32)}};
  auto d = decide_role(cluster(kMixed), n.facts(), std::nullopt);
  EXPECT_FALSE(d.ok);
  EXPECT_TRUE(has(d.reason, "198.51.100.11 (eth0) is real server 198.51.100.11:80")) << d.reason;
  EXPECT_TRUE(has(d.reason, "cluster.toml:4")) << d.reason;
  EXPECT_TRUE(has(d.reason, "VIP 192.0.2.10 on eth0")) << d.reason;
  EXPECT_TRUE(has(d.reason, "--role director or --role realserver")) << d.reason;
}

TEST(NodePlanRole, ExplicitRealServerOnANodeThatIsNoneIsRefusedNamingTheAddresses) {
  FakeNode n{{loopback(), addr("eth0", "192.0.2.1", 24)}};
  auto d = decide_role(cluster(kMixed), n.facts(), Role::realserver);
  EXPECT_FALSE(d.ok);
  EXPECT_EQ(d.role, Role::realserver);
  EXPECT_EQ(d.reason,
            "--role realserver, but none of this node's addresses (192.0.2.1) is a real server "
            "address in cluster.toml (198.51.100.11, 198.51.100.12, 203.0.113.21): add this node "
            "as a [[service.real]], or run it with --role director");
}

TEST(NodePlanRole, ExplicitRolesOnMatchingNodes) {
  FakeNode rs{{loopback(), addr("eth0", "203.0.113.21", 24)}};
  auto d = decide_role(cluster(kMixed), rs.facts(), Role::realserver);
  EXPECT_TRUE(d.ok);
  EXPECT_EQ(d.role, Role::realserver);
  EXPECT_TRUE(has(d.reason, "203.0.113.21 (eth0) is real server 203.0.113.21:8443 of TCP 192.0.2.20:443"));
  // An explicit director role stands (a director may serve too), with a note.
  d = decide_role(cluster(kMixed), rs.facts(), Role::director);
  EXPECT_TRUE(d.ok);
  EXPECT_EQ(d.role, Role::director);
  EXPECT_TRUE(has(d.reason, "also listed as a real server: 203.0.113.21")) << d.reason;
  FakeNode empty{{loopback()}};
  d = decide_role(cluster(kMixed), empty.facts(), Role::director);
  EXPECT_TRUE(d.ok);
  EXPECT_EQ(d.reason, "--role director");
}

// --- what a real server holds ------------------------------------------------

const char* kRealServerServices = R"(
[[service]]
address = "192.0.2.10:80"
[[service.real]]
address = "198.51.100.11:80"
forward = "dr"
[[service]]
address = "192.0.2.10:443"
[[service.real]]
address = "198.51.100.11:443"
forward = "tun"
[[service]]
address = "192.0.2.20:80"
[[service.real]]
address = "198.51.100.11:8080"
[[service]]
address = "[2001:db8::10]:80"
[[service.real]]
address = "[2001:db8:1::11]:80"
forward = "dr"
[[service]]
fwmark = 7
members = ["192.0.2.40:80", "192.0.2.41:80", "192.0.2.40:443"]
[[service.real]]
address = "198.51.100.11:80"
forward = "dr"
[[service]]
address = "192.0.2.50:80"
[[service.real]]
address = "198.51.100.99:80"
forward = "dr"
)";

TEST(NodePlanRealServer, VipsOfItsDrAndTunServicesOnceEachNotNatNorOthers) {
  FakeNode n{{loopback(), addr("eth0", "198.51.100.11", 24), addr("eth1", "2001:db8:1::11", 64)}};
  auto vips = realserver_vips(cluster(kRealServerServices), n.facts());
  std::vector<IpAddress> expected = {ip("192.0.2.10"), ip("2001:db8::10"), ip("192.0.2.40"), ip("192.0.2.41")};
  EXPECT_EQ(vips, expected);  // not the NAT VIP 192.0.2.20, not the other host's 192.0.2.50
  EXPECT_TRUE(realserver_needs_decap(cluster(kRealServerServices), n.facts()));
}

TEST(NodePlanRealServer, DecapOnlyForTun) {
  FakeNode v6{{loopback(), addr("eth1", "2001:db8:1::11", 64)}};
  EXPECT_FALSE(realserver_needs_decap(cluster(kRealServerServices), v6.facts()));
  EXPECT_EQ(realserver_vips(cluster(kRealServerServices), v6.facts()),
            std::vector<IpAddress>{ip("2001:db8::10")});
  FakeNode nat{{loopback(), addr("eth0", "203.0.113.21", 24)}};
  EXPECT_TRUE(realserver_vips(cluster(kMixed), nat.facts()).empty());
  EXPECT_FALSE(realserver_needs_decap(cluster(kMixed), nat.facts()));
}

TEST(NodePlanRealServer, ADrOrTunSorryServerIsARealServerOfItsService) {
  const char* kSorry = R"(
[[service]]
address = "192.0.2.10:80"
forward = "dr"
sorry_server = "198.51.100.99"
[[service.real]]
address = "198.51.100.11"
[[service]]
address = "192.0.2.11:80"
forward = "tun"
sorry_server = "203.0.113.99"
[[service.real]]
address = "198.51.100.11"
)";
  FakeNode dr{{loopback(), addr("eth0", "198.51.100.99", 24)}};
  auto d = decide_role(cluster(kSorry), dr.facts(), std::nullopt);
  EXPECT_TRUE(d.ok);
  EXPECT_EQ(d.role, Role::realserver);
  EXPECT_EQ(d.reason,
            "realserver: 198.51.100.99 (eth0) is real server 198.51.100.99:80 of TCP 192.0.2.10:80 at "
            "cluster.toml:5");
  EXPECT_EQ(realserver_vips(cluster(kSorry), dr.facts()), std::vector<IpAddress>{ip("192.0.2.10")});
  EXPECT_FALSE(realserver_needs_decap(cluster(kSorry), dr.facts()));
  FakeNode tun{{loopback(), addr("eth0", "203.0.113.99", 24)}};
  EXPECT_EQ(realserver_vips(cluster(kSorry), tun.facts()), std::vector<IpAddress>{ip("192.0.2.11")});
  EXPECT_EQ(realserver_tunnel_addresses(cluster(kSorry), tun.facts()), std::vector<IpAddress>{ip("203.0.113.99")});
}

// --- sysctls -------------------------------------------------------------------

TEST(NodePlanSysctls, DirectorForwardsForNatOnlyWhatIsNotSetYet) {
  Config c = cluster(R"(
[[service]]
address = "192.0.2.10:80"
[[service.real]]
address = "203.0.113.11:80"
[[service]]
address = "[2001:db8::10]:80"
[[service.real]]
address = "[2001:db8:1::11]:80"
)");
  FakeNode n{{loopback()}, {}, {{"net.ipv4.ip_forward", "0\n"}, {"net.ipv6.conf.all.forwarding", "0"}}};
  auto changes = plan_sysctls(c, Role::director, n.facts());
  EXPECT_EQ(dump(changes),
            "net.ipv4.ip_forward=1 (was \"0\")\n"
            "net.ipv6.conf.all.forwarding=1 (was \"0\")\n");
  EXPECT_EQ(changes[0].proc_path, "net/ipv4/ip_forward");
  EXPECT_TRUE(has(changes[0].why, "NAT"));
  n.sysctls["net.ipv4.ip_forward"] = "1\n";
  n.sysctls["net.ipv6.conf.all.forwarding"] = "1";
  EXPECT_EQ(dump(plan_sysctls(c, Role::director, n.facts())), "");
}

TEST(NodePlanSysctls, DirectorWithASynProxyTurnsConntrackPickupOff) {
  const char* text = R"(
[[service]]
address = "192.0.2.10:80"
synproxy = true
[[service.real]]
address = "203.0.113.11:80"
)";
  FakeNode n{{loopback()}, {}, {{"net.ipv4.ip_forward", "1"}, {"net.netfilter.nf_conntrack_tcp_loose", "1"}}};
  auto changes = plan_sysctls(cluster(text), Role::director, n.facts());
  EXPECT_EQ(dump(changes), "net.netfilter.nf_conntrack_tcp_loose=0 (was \"1\")\n");
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_TRUE(has(changes[0].why, "SYN proxy")) << changes[0].why;
  // Without the proxy, or before conntrack is loaded: nothing.
  EXPECT_EQ(dump(plan_sysctls(cluster(R"(
[[service]]
address = "192.0.2.10:80"
[[service.real]]
address = "203.0.113.11:80"
)"), Role::director, n.facts())), "");
  n.sysctls.erase("net.netfilter.nf_conntrack_tcp_loose");
  EXPECT_EQ(dump(plan_sysctls(cluster(text), Role::director, n.facts())), "");
}

TEST(NodePlanSysctls, DirectorNoRedirectsTowardDrAndTunRealServers) {
  Config c = cluster(R"(
[[service]]
address = "192.0.2.10:80"
[[service.real]]
address = "198.51.100.11:80"
forward = "dr"
[[service.real]]
address = "198.51.100.12:80"
forward = "dr"
[[service.real]]
address = "203.0.113.11:80"
forward = "tun"
)");
  FakeNode n{{loopback(), addr("eth0", "192.0.2.1", 24), addr("eth1", "198.51.100.1", 24)},
             {{"198.51.100.11", direct("eth1")}, {"198.51.100.12", direct("eth1")},
              {"203.0.113.11", via("192.0.2.254", "eth0.100")}},
             {{"net.ipv4.conf.all.send_redirects", "1"}, {"net.ipv4.conf.default.send_redirects", "0"},
              {"net.ipv4.conf.eth1.send_redirects", "1"}, {"net.ipv4.ip_forward", "0"}}};
  auto changes = plan_sysctls(c, Role::director, n.facts());
  // No ip_forward (no NAT); default is 0 already; eth0.100 is unreadable.
  EXPECT_EQ(dump(changes),
            "net.ipv4.conf.all.send_redirects=0 (was \"1\")\n"
            "net.ipv4.conf.eth1.send_redirects=0 (was \"1\")\n"
            "net.ipv4.conf.eth0/100.send_redirects=0 (was \"\")\n");
  EXPECT_EQ(changes[2].proc_path, "net/ipv4/conf/eth0.100/send_redirects");
  EXPECT_TRUE(has(changes[1].why, "bypass the director")) << changes[1].why;
  EXPECT_TRUE(has(changes[1].why, "eth1")) << changes[1].why;
}

TEST(NodePlanSysctls, DirectorOfIpv6DrHasNoRedirectSwitch) {
  Config c = cluster(R"(
[[service]]
address = "[2001:db8::10]:80"
[[service.real]]
address = "[2001:db8::11]:80"
forward = "dr"
)");
  FakeNode n{{loopback()}, {{"2001:db8::11", direct("eth0")}}};
  EXPECT_EQ(dump(plan_sysctls(c, Role::director, n.facts())), "");
}

TEST(NodePlanSysctls, RealServerHidesArpOnItsInterfaces) {
  FakeNode n{{loopback(), addr("eth0", "198.51.100.12", 24), addr("lo", "192.0.2.10", 32),
              addr("eth1", "203.0.113.5", 24), addr("eth0", "198.51.100.13", 24)},
             {},
             {{"net.ipv4.conf.all.arp_ignore", "1"}, {"net.ipv4.conf.all.arp_announce", "0"},
              {"net.ipv4.conf.lo.arp_ignore", "0"}, {"net.ipv4.conf.lo.arp_announce", "2"},
              {"net.ipv4.conf.eth0.arp_ignore", "0"}, {"net.ipv4.conf.eth0.arp_announce", "0"},
              {"net.ipv4.conf.eth1.arp_ignore", "1"}, {"net.ipv4.conf.eth1.arp_announce", "2"},
              {"net.ipv4.conf.all.rp_filter", "1"}}};
  auto changes = plan_sysctls(cluster(kMixed), Role::realserver, n.facts());
  // Only what differs; no rp_filter (DR, no decapsulation).
  EXPECT_EQ(dump(changes),
            "net.ipv4.conf.all.arp_announce=2 (was \"0\")\n"
            "net.ipv4.conf.lo.arp_ignore=1 (was \"0\")\n"
            "net.ipv4.conf.eth0.arp_ignore=1 (was \"0\")\n"
            "net.ipv4.conf.eth0.arp_announce=2 (was \"0\")\n");
  EXPECT_EQ(changes[2].proc_path, "net/ipv4/conf/eth0/arp_ignore");
  EXPECT_TRUE(has(changes[1].why, "never for the VIPs on lo")) << changes[1].why;
}

TEST(NodePlanSysctls, NatOrIpv6OnlyRealServerChangesNothing) {
  FakeNode nat{{loopback(), addr("eth0", "203.0.113.21", 24)}};
  EXPECT_EQ(dump(plan_sysctls(cluster(kMixed), Role::realserver, nat.facts())), "");
  FakeNode v6{{loopback(), addr("eth1", "2001:db8:1::11", 64)}};
  EXPECT_EQ(dump(plan_sysctls(cluster(kRealServerServices), Role::realserver, v6.facts())), "");
}

const char* kTun = R"(
[[service]]
address = "192.0.2.10:80"
[[service.real]]
address = "198.51.100.11:80"
forward = "tun"
)";

std::map<std::string, std::string> arp_hidden(std::map<std::string, std::string> rp) {
  for (const char* i : {"all", "lo", "eth0"}) {
    rp[std::string("net.ipv4.conf.") + i + ".arp_ignore"] = "1";
    rp[std::string("net.ipv4.conf.") + i + ".arp_announce"] = "2";
  }
  return rp;
}

TEST(NodePlanSysctls, TunRealServerLoosensStrictReversePathFiltering) {
  FakeNode n{{loopback(), addr("eth0", "198.51.100.11", 24)}};
  const std::string loosen_from_0 = "net.ipv4.conf.all.rp_filter=2 (was \"0\")\n";
  // all 0, eth0 strict: in effect max(all, eth0) = 1.
  n.sysctls = arp_hidden({{"net.ipv4.conf.all.rp_filter", "0"}, {"net.ipv4.conf.eth0.rp_filter", "1"}});
  auto changes = plan_sysctls(cluster(kTun), Role::realserver, n.facts());
  EXPECT_EQ(dump(changes), loosen_from_0);
  EXPECT_TRUE(has(changes[0].why, "client's source address")) << changes[0].why;
  // all strict.
  n.sysctls = arp_hidden({{"net.ipv4.conf.all.rp_filter", "1"}, {"net.ipv4.conf.eth0.rp_filter", "0"}});
  EXPECT_EQ(dump(plan_sysctls(cluster(kTun), Role::realserver, n.facts())),
            "net.ipv4.conf.all.rp_filter=2 (was \"1\")\n");
  // all loose already lifts eth0's 1; 0 everywhere filters nothing.
  n.sysctls = arp_hidden({{"net.ipv4.conf.all.rp_filter", "2"}, {"net.ipv4.conf.eth0.rp_filter", "1"}});
  EXPECT_EQ(dump(plan_sysctls(cluster(kTun), Role::realserver, n.facts())), "");
  n.sysctls = arp_hidden({{"net.ipv4.conf.all.rp_filter", "0"}, {"net.ipv4.conf.eth0.rp_filter", "0"}});
  EXPECT_EQ(dump(plan_sysctls(cluster(kTun), Role::realserver, n.facts())), "");
  // default strict: the kernel's decapsulation device, made later, takes it.
  n.sysctls = arp_hidden({{"net.ipv4.conf.all.rp_filter", "0"},
                          {"net.ipv4.conf.eth0.rp_filter", "0"},
                          {"net.ipv4.conf.default.rp_filter", "1"}});
  EXPECT_EQ(dump(plan_sysctls(cluster(kTun), Role::realserver, n.facts())), loosen_from_0);
}

// --- check_cluster: director ---------------------------------------------------

TEST(NodePlanCheck, DirectorDrRealServerBehindAGatewayOrUnroutedIsAnError) {
  FakeNode n{{loopback(), addr("eth0", "192.0.2.1", 24), addr("eth0", "192.0.2.10", 32)},
             {{"198.51.100.11", via("192.0.2.254", "eth0")}, {"203.0.113.21", direct("eth1")}}};
  auto f = check_cluster(cluster(kMixed), Role::director, n.facts());
  ASSERT_EQ(f.size(), 2u) << testing::PrintToString(texts(f));
  EXPECT_EQ(to_string(f[0]),
            "cluster.toml:4:1: error: real server 198.51.100.11:80 (forward = \"dr\") of service "
            "TCP 192.0.2.10:80 is reached via gateway 192.0.2.254 on eth0, not on a directly "
            "connected subnet: DR only rewrites the MAC address, so it needs the real server on "
            "the director's L2 segment; put them on one subnet or use forward = \"tun\"");
  EXPECT_EQ(to_string(f[1]),
            "cluster.toml:7:1: error: real server 198.51.100.12:80 (forward = \"dr\") of service "
            "TCP 192.0.2.10:80 has no route from this director; DR needs the real server on the "
            "director's L2 segment: give the director an address on its subnet");
}

TEST(NodePlanCheck, DirectorTunNeedsARouteAnyRoute) {
  FakeNode n{{loopback(), addr("eth0", "192.0.2.10", 24)}};
  auto f = check_cluster(cluster(kTun), Role::director, n.facts());
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, Finding::error);
  EXPECT_EQ(to_string(f[0]),
            "cluster.toml:4:1: error: real server 198.51.100.11:80 (forward = \"tun\") of service "
            "TCP 192.0.2.10:80 has no route from this director; the tunnelled packets cannot "
            "leave: add a route to it");
  n.routes["198.51.100.11"] = via("192.0.2.254", "eth0");  // tunnels cross routers
  EXPECT_TRUE(check_cluster(cluster(kTun), Role::director, n.facts()).empty());
}

TEST(NodePlanCheck, DirectorNatRealServerBehindAGatewayIsAWarning) {
  FakeNode n{{loopback(), addr("eth0", "192.0.2.10", 24)},
             {{"198.51.100.11", direct("eth1")}, {"198.51.100.12", direct("eth1")},
              {"203.0.113.21", via("198.51.100.254", "eth1")}}};
  auto f = check_cluster(cluster(kMixed), Role::director, n.facts());
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, Finding::warning);
  EXPECT_EQ(to_string(f[0]),
            "cluster.toml:12:1: warning: real server 203.0.113.21:8443 (forward = \"nat\") of "
            "service TCP 192.0.2.20:443 is reached via gateway 198.51.100.254 on eth1: its replies "
            "must come back through this director to be rewritten; make sure its route to the "
            "clients leads here");
  n.routes.erase("203.0.113.21");
  f = check_cluster(cluster(kMixed), Role::director, n.facts());
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, Finding::error);
  EXPECT_TRUE(has(f[0].message, "203.0.113.21:8443 (forward = \"nat\")")) << f[0].message;
  EXPECT_TRUE(has(f[0].message, "has no route")) << f[0].message;
}

TEST(NodePlanCheck, DirectorMustHoldTheVipsOfDrAndTunServices) {
  Config c = cluster(R"(
[[service]]
address = "192.0.2.10:80"
[[service.real]]
address = "192.0.2.11:80"
forward = "dr"
[[service]]
address = "[2001:db8::10]:80"
[[service.real]]
address = "[2001:db8::11]:80"
forward = "tun"
[[service]]
fwmark = 3
members = ["192.0.2.40:80", "192.0.2.41:80"]
[[service.real]]
address = "192.0.2.12:80"
forward = "dr"
[[service]]
address = "192.0.2.50:80"
[[service.real]]
address = "192.0.2.13:80"
)");
  FakeNode n{{loopback(), addr("eth0", "192.0.2.1", 24), addr("eth0", "192.0.2.41", 32)},
             {{"192.0.2.10", direct("eth0")}, {"192.0.2.11", direct("eth0")},
              {"192.0.2.12", direct("eth0")}, {"192.0.2.13", direct("eth0")},
              {"2001:db8::11", direct("eth0")}, {"192.0.2.40", direct("eth0")}}};
  auto f = texts(check_cluster(c, Role::director, n.facts()));
  // Not 192.0.2.41 (held) nor 192.0.2.50 (NAT: routed to the director is enough).
  ASSERT_EQ(f.size(), 3u) << testing::PrintToString(f);
  EXPECT_EQ(f[0],
            "cluster.toml:2:1: warning: VIP 192.0.2.10 of service TCP 192.0.2.10:80 is not an "
            "address of this director: its DR/TUN real servers hide it, so the clients' ARP "
            "(IPv6: neighbour solicitation) for it must reach the director; add it: ip addr add "
            "192.0.2.10/32 dev eth0");
  EXPECT_TRUE(has(f[1], "cluster.toml:7:1: warning: VIP 2001:db8::10 of service TCP [2001:db8::10]:80"));
  EXPECT_TRUE(has(f[1], "ip addr add 2001:db8::10/128 dev IF")) << f[1];  // no route: unknown device
  EXPECT_TRUE(has(f[2], "cluster.toml:12:1: warning: VIP 192.0.2.40 of service FWM 3")) << f[2];
}

TEST(NodePlanCheck, DirectorOfAWorkingClusterFindsNothing) {
  FakeNode n{{loopback(), addr("eth0", "192.0.2.1", 24), addr("eth0", "192.0.2.10", 32)},
             {{"198.51.100.11", direct("eth1")}, {"198.51.100.12", direct("eth1")},
              {"203.0.113.21", direct("eth2")}}};
  EXPECT_TRUE(check_cluster(cluster(kMixed), Role::director, n.facts()).empty());
}

TEST(NodePlanCheck, DuplicateServicesAreRefusedByTheParserAlready) {
  auto r = parse_config(R"(
[[service]]
address = "192.0.2.10:80"
[[service]]
address = "192.0.2.10:80"
)", "cluster.toml");
  ASSERT_FALSE(r.config);
  EXPECT_EQ(r.errors[0].to_string(),
            "cluster.toml:5:11: service TCP 192.0.2.10:80 is defined twice (first at line 2)");
}

// --- check_cluster: real server ------------------------------------------------

const char* kNat = R"(
[[service]]
address = "192.0.2.10:80"
[[service.real]]
address = "198.51.100.11:8080"
)";

TEST(NodePlanCheck, NatRealServerMustReplyThroughTheDirector) {
  FakeNode n{{loopback(), addr("eth0", "198.51.100.11", 24)},
             {{"192.0.2.10", via("198.51.100.1", "eth0")}}};
  EXPECT_TRUE(check_cluster(cluster(kNat), Role::realserver, n.facts()).empty());

  n.routes["192.0.2.10"] = direct("eth0");
  auto f = check_cluster(cluster(kNat), Role::realserver, n.facts());
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(to_string(f[0]),
            "cluster.toml:4:1: warning: this node is real server 198.51.100.11:8080 (forward = "
            "\"nat\") of service TCP 192.0.2.10:80, and VIP 192.0.2.10 is on its directly "
            "connected subnet (eth0): replies of NAT must go back through the director, but those "
            "to clients on that subnet go to them directly; set the default route via the "
            "director and keep clients off the real servers' subnet");

  n.routes["192.0.2.10"] = local();
  f = check_cluster(cluster(kNat), Role::realserver, n.facts());
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, Finding::warning);
  EXPECT_TRUE(has(f[0].message, "VIP 192.0.2.10 is an address of this node")) << f[0].message;

  n.routes.clear();
  f = check_cluster(cluster(kNat), Role::realserver, n.facts());
  ASSERT_EQ(f.size(), 1u);
  EXPECT_TRUE(has(to_string(f[0]), "cluster.toml:4:1: warning: ")) << to_string(f[0]);
  EXPECT_TRUE(has(f[0].message, "no route to VIP 192.0.2.10: replies of NAT must go back through "
                                "the director; set the default route via the director"))
      << f[0].message;
}

TEST(NodePlanCheck, DrRealServerHoldingTheVipOffLoIsAnError) {
  FakeNode n{{loopback(), addr("eth0", "198.51.100.12", 24), addr("lo", "192.0.2.10", 32)}};
  EXPECT_TRUE(check_cluster(cluster(kMixed), Role::realserver, n.facts()).empty());
  n.addresses.push_back(addr("eth0", "192.0.2.10", 32));
  auto f = check_cluster(cluster(kMixed), Role::realserver, n.facts());
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(to_string(f[0]),
            "cluster.toml:7:1: error: this node is real server 198.51.100.12:80 (forward = \"dr\") "
            "of service TCP 192.0.2.10:80, and it holds VIP 192.0.2.10 on eth0: it would answer "
            "ARP (IPv6: neighbour solicitation) for it in the director's place; remove it from "
            "eth0 (a DR/TUN real server holds it on lo, vsd adds it there)");
}

TEST(NodePlanCheck, FindingsSpellLikeConfigErrors) {
  Finding w{Finding::warning, {"vsd.toml", 12, 3}, "something"};
  EXPECT_EQ(to_string(w), "vsd.toml:12:3: warning: something");
  w.severity = Finding::error;
  EXPECT_EQ(to_string(w), "vsd.toml:12:3: error: something");
}

TEST(NodePlanFacts, UnsetCallbacksMeanNoRoutesAndNothingReadable) {
  NodeFacts bare;
  bare.addresses = {addr("eth0", "192.0.2.1", 24)};
  auto changes = plan_sysctls(cluster(kNat), Role::director, bare);
  EXPECT_EQ(dump(changes), "net.ipv4.ip_forward=1 (was \"\")\n");
  auto f = check_cluster(cluster(kNat), Role::director, bare);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_TRUE(has(f[0].message, "has no route")) << f[0].message;
}

}  // namespace
}  // namespace vsd
