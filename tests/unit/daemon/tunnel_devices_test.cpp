// The director's tunnel devices: which TUN real servers get one, the
// manager's create / reuse / change / delete decisions against a fake
// kernel, and the start line. No root.
#include "appliance/daemon/tunnel_devices.hpp"
#include "daemon/fake_tunnel_kernel.hpp"

#include <gtest/gtest.h>
#include <net/if.h>

#include <algorithm>

namespace vsd {
namespace {

IpAddress ip(const char* s) { return *IpAddress::parse(s); }

Config parse(const std::string& text) {
  auto r = parse_config(text, "t.toml");
  EXPECT_TRUE(r.config) << (r.errors.empty() ? "" : r.errors[0].to_string());
  return r.config.value_or(Config{});
}

using Harness = KernelHarness<TunnelDevices>;

rtnl::LinkInfo link(int index, const std::string& name, const char* kind, const char* local,
                    const char* remote, bool up = true) {
  rtnl::LinkInfo l;
  l.ifindex = index;
  l.ifname = name;
  l.kind = kind;
  if (local) l.tunnel_local = ip(local);
  if (remote) l.tunnel_remote = ip(remote);
  l.flags = up ? IFF_UP : 0;
  return l;
}

TunnelWants want(std::initializer_list<std::pair<const char*, const char*>> rip_local) {
  TunnelWants w;
  for (auto [rip, local] : rip_local) w.tunnels[ip(rip)] = ip(local);
  return w;
}

TEST(TunnelDeviceNames, StableShortAndRecognised) {
  const std::string a = tunnel_device_name(ip("198.51.100.21"));
  EXPECT_EQ(a, tunnel_device_name(ip("198.51.100.21"))) << "the same in every run";
  EXPECT_EQ(a.size(), 12u);
  EXPECT_LT(a.size(), static_cast<std::size_t>(IF_NAMESIZE));
  EXPECT_EQ(a.rfind("vsdt", 0), 0u);
  EXPECT_NE(a, tunnel_device_name(ip("198.51.100.22")));
  EXPECT_NE(tunnel_device_name(ip("2001:db8:7::31")), tunnel_device_name(ip("2001:db8:7::32")));
  // FNV-1a of the four address bytes, fixed (a renamed device would be
  // orphaned by an upgrade).
  EXPECT_EQ(tunnel_device_name(ip("192.0.2.1")), "vsdt756b9b94");
  EXPECT_TRUE(is_tunnel_device_name(a));
  EXPECT_TRUE(is_tunnel_device_name(tunnel_device_name(ip("2001:db8:7::31"))));
  for (const char* other : {"vsdt0", "vsdt1", "vsdta", "eth0", "vsdt0a1b2c3dX", "vsdt0A1B2C3D", "vsdp756b9b94", "vsdt0a1b2c3g"})
    EXPECT_FALSE(is_tunnel_device_name(other)) << other;
}

TEST(TunnelDevices, CreatesWhatIsMissingAndReportsTheDevices) {
  Harness h;
  auto synced = h.devices->sync(want({{"198.51.100.21", "198.51.100.2"}, {"2001:db8:7::31", "2001:db8:62::2"}}));
  EXPECT_TRUE(synced.changed);
  ASSERT_EQ(synced.devices.size(), 2u);
  const std::string d4 = tunnel_device_name(ip("198.51.100.21")), d6 = tunnel_device_name(ip("2001:db8:7::31"));
  EXPECT_EQ(synced.devices.at(ip("198.51.100.21")), d4);
  EXPECT_EQ(synced.devices.at(ip("2001:db8:7::31")), d6);
  const auto* l4 = h.kernel->find(d4);
  const auto* l6 = h.kernel->find(d6);
  ASSERT_TRUE(l4 && l6);
  EXPECT_EQ(l4->kind, "ipip");
  EXPECT_EQ(l4->tunnel_local, ip("198.51.100.2"));
  EXPECT_EQ(l6->kind, "ip6tnl");
  EXPECT_EQ(l6->tunnel_remote, ip("2001:db8:7::31"));
  EXPECT_NE(h.log().find("TUN real server 198.51.100.21: kernel tunnel " + d4 + " (ipip from 198.51.100.2) created"),
            std::string::npos)
      << h.log();
  EXPECT_EQ(h.devices->size(), 2u);

  // Again with nothing new: one listing, no change, nothing logged.
  h.kernel->calls.clear();
  h.lines.clear();
  synced = h.devices->sync(want({{"198.51.100.21", "198.51.100.2"}, {"2001:db8:7::31", "2001:db8:62::2"}}));
  EXPECT_FALSE(synced.changed);
  EXPECT_EQ(synced.devices.size(), 2u);
  EXPECT_EQ(h.kernel->calls, std::vector<std::string>{"list"});
  EXPECT_TRUE(h.lines.empty()) << h.log();
}

// A restarted vsd (kill -9): the devices of its real servers are reused as
// they are (their flows go on), the others deleted; a non-tunnel device or
// a foreign name is left alone.
TEST(TunnelDevices, RestartReusesItsOwnAndDeletesTheStale) {
  Harness h;
  const std::string kept = tunnel_device_name(ip("198.51.100.21"));
  const std::string stale = tunnel_device_name(ip("198.51.100.99"));
  h.kernel->links = {link(5, kept, "ipip", "198.51.100.2", "198.51.100.21"),
                     link(6, stale, "ipip", "198.51.100.2", "198.51.100.99"),
                     link(7, "vsdt0", "veth", nullptr, nullptr),
                     link(8, "vsdtffffffff", "vxlan", nullptr, nullptr),
                     link(9, "vsdt12345678", "gre", "198.51.100.2", "198.51.100.98")};
  auto synced = h.devices->sync(want({{"198.51.100.21", "198.51.100.2"}}));
  EXPECT_EQ(h.kernel->calls, (std::vector<std::string>{"list", "remove " + stale}));
  ASSERT_EQ(synced.devices.size(), 1u);
  EXPECT_EQ(synced.devices.at(ip("198.51.100.21")), kept);
  EXPECT_TRUE(synced.changed) << "new to this run's plan, and a device deleted";
  EXPECT_NE(h.log().find(kept + " (ipip from 198.51.100.2) reused"), std::string::npos) << h.log();
  EXPECT_NE(h.log().find("deleted kernel tunnel " + stale + " toward 198.51.100.99"), std::string::npos) << h.log();
  EXPECT_TRUE(h.kernel->find("vsdt0") && h.kernel->find("vsdtffffffff") && h.kernel->find("vsdt12345678"));
}

TEST(TunnelDevices, ChangesInPlaceBringsUpAndReplacesTheWrongKind) {
  Harness h;
  const std::string a = tunnel_device_name(ip("198.51.100.21"));
  const std::string b = tunnel_device_name(ip("198.51.100.22"));
  const std::string c = tunnel_device_name(ip("2001:db8:7::31"));
  h.kernel->links = {link(5, a, "ipip", "198.51.100.2", "198.51.100.21"),
                     link(6, b, "ipip", "198.51.100.2", "198.51.100.22", /*up=*/false),
                     link(7, c, "ipip", "198.51.100.2", "198.51.100.23")};
  auto synced = h.devices->sync(want({{"198.51.100.21", "198.51.100.3"},  // new outer source
                                      {"198.51.100.22", "198.51.100.2"},  // found down
                                      {"2001:db8:7::31", "2001:db8:62::2"}}));  // ours, wrong kind
  EXPECT_EQ(h.kernel->calls, (std::vector<std::string>{"list", "change " + a, "up " + b, "remove " + c, "create " + c}));
  EXPECT_EQ(h.kernel->find(a)->ifindex, 5) << "changed in place: the rules' ifindex stays valid";
  EXPECT_EQ(h.kernel->find(a)->tunnel_local, ip("198.51.100.3"));
  EXPECT_TRUE(h.kernel->find(b)->up());
  EXPECT_EQ(h.kernel->find(c)->kind, "ip6tnl");
  EXPECT_TRUE(synced.changed);
  EXPECT_EQ(synced.devices.size(), 3u);
  EXPECT_NE(h.log().find("(was from 198.51.100.2)"), std::string::npos) << h.log();

  // Deleted behind vsd's back: made again, with a new index, so the
  // ruleset must be installed again although the names did not change.
  h.kernel->links.erase(h.kernel->links.begin());
  synced = h.devices->sync(want({{"198.51.100.21", "198.51.100.3"},
                                 {"198.51.100.22", "198.51.100.2"},
                                 {"2001:db8:7::31", "2001:db8:62::2"}}));
  EXPECT_TRUE(synced.changed);
  EXPECT_EQ(synced.devices.size(), 3u);
}

TEST(TunnelDevices, RemovedRealServerAndCleanStop) {
  Harness h;
  h.devices->sync(want({{"198.51.100.21", "198.51.100.2"}, {"198.51.100.22", "198.51.100.2"}}));
  h.kernel->calls.clear();
  auto synced = h.devices->sync(want({{"198.51.100.22", "198.51.100.2"}}));
  EXPECT_TRUE(synced.changed);
  EXPECT_EQ(synced.devices.size(), 1u);
  EXPECT_EQ(h.kernel->calls, (std::vector<std::string>{"list", "remove " + tunnel_device_name(ip("198.51.100.21"))}));
  h.kernel->calls.clear();
  EXPECT_EQ(h.devices->remove_all(), 1u);
  EXPECT_EQ(h.kernel->calls, (std::vector<std::string>{"remove " + tunnel_device_name(ip("198.51.100.22"))}));
  EXPECT_TRUE(h.kernel->links.empty());
  EXPECT_EQ(h.devices->size(), 0u);
  // Nothing wanted and nothing left: no kernel call at all any more.
  h.kernel->calls.clear();
  EXPECT_TRUE(h.devices->sync({}).devices.empty());
  EXPECT_TRUE(h.kernel->calls.empty());
}

TEST(TunnelDevices, FailuresAreLoggedOnceAndLeaveTheRealServerToVsd) {
  Harness h;
  const std::string a = tunnel_device_name(ip("198.51.100.21"));
  h.kernel->fail_create = a;
  h.kernel->links = {link(9, a, "veth", nullptr, nullptr)};
  auto synced = h.devices->sync(want({{"198.51.100.21", "198.51.100.2"}, {"198.51.100.22", "198.51.100.2"}}));
  EXPECT_EQ(synced.devices.size(), 1u) << "the other one still gets its device";
  EXPECT_EQ(synced.devices.count(ip("198.51.100.21")), 0u);
  EXPECT_NE(h.log().find("!TUN real server 198.51.100.21: interface " + a + " exists and is a veth device, not vsd's"),
            std::string::npos)
      << h.log();
  h.lines.clear();
  h.devices->sync(want({{"198.51.100.21", "198.51.100.2"}, {"198.51.100.22", "198.51.100.2"}}));
  EXPECT_TRUE(h.lines.empty()) << "the same problem is not logged again: " << h.log();
  // The name freed: the create fails (no ipip), which is a new problem.
  h.kernel->links.erase(h.kernel->links.begin());
  h.devices->sync(want({{"198.51.100.21", "198.51.100.2"}, {"198.51.100.22", "198.51.100.2"}}));
  ASSERT_EQ(h.lines.size(), 1u) << h.log();
  EXPECT_NE(h.lines[0].find("Operation not supported; vsd encapsulates its packets"), std::string::npos) << h.log();
  // It works again: created, and one line says so.
  h.kernel->fail_create.clear();
  h.lines.clear();
  synced = h.devices->sync(want({{"198.51.100.21", "198.51.100.2"}, {"198.51.100.22", "198.51.100.2"}}));
  EXPECT_EQ(synced.devices.size(), 2u);
  EXPECT_TRUE(synced.changed);
  ASSERT_EQ(h.lines.size(), 1u) << h.log();
  EXPECT_NE(h.lines[0].find("created"), std::string::npos);
}

TEST(TunnelDevices, AFailedListingKeepsWhatIsThere) {
  Harness h;
  h.devices->sync(want({{"198.51.100.21", "198.51.100.2"}}));
  h.kernel->fail_list = true;
  auto synced = h.devices->sync(want({}));
  EXPECT_FALSE(synced.changed);
  EXPECT_EQ(synced.devices.size(), 1u) << "not deleted without knowing what is there";
  EXPECT_NE(h.log().find("!TUN: cannot list the tunnel devices (netlink says no)"), std::string::npos) << h.log();
}

TEST(TunnelDevices, NotesAreLoggedOnceWhileTheyHold) {
  Harness h;
  TunnelWants w;
  w.notes = {"note A"};
  h.devices->sync(w);
  h.devices->sync(w);
  EXPECT_EQ(h.lines, std::vector<std::string>{"note A"});
  h.devices->sync({});
  h.devices->sync(w);
  EXPECT_EQ(h.lines, (std::vector<std::string>{"note A", "note A"})) << "gone and back: said again";
}

const char* kTun = R"(
[[service]]
address = "192.0.2.10:80"
[[service.real]]
address = "198.51.100.21"
forward = "tun"
[[service.real]]
address = "[2001:db8:7::31]"
forward = "tun"
[[service.real]]
address = "198.51.100.22"
forward = "dr"
[[service]]
address = "[2001:db8:64::100]:443"
tunnel_source = "2001:db8:62::2"
[[service.real]]
address = "[2001:db8:7::31]"
forward = "tun"
[[service]]
address = "[2001:db8:64::100]:80"
[[service.real]]
address = "198.51.100.21"
forward = "tun"
[[service]]
address = "192.0.2.20:80"
[[service.real]]
address = "198.51.100.23"
forward = "tun"
[[service.real]]
address = "203.0.113.5"
)";

FastPathPlan direct_plan(const Config& c) {
  FastPathPlan plan;
  for (const auto& s : c.services) {
    bool nat = false;
    for (const auto& r : s.reals) nat |= r.forward == ForwardMethod::nat;
    plan.paths[service_label(s)] = nat ? nfq::Path::userspace : nfq::Path::direct_kernel;
  }
  return plan;
}

TEST(WantedTunnels, ByPathFamilyKernelAndSource) {
  const Config c = parse(kTun);
  const FastPathPlan plan = direct_plan(c);
  rtnl::TunnelSupport both;
  both.ipip = both.ip6tnl = true;
  const std::map<IpAddress, IpAddress> routes = {{ip("198.51.100.21"), ip("198.51.100.2")},
                                                 {ip("2001:db8:7::31"), ip("2001:db8:62::2")},
                                                 {ip("198.51.100.23"), ip("198.51.100.2")}};
  TunnelWants w = wanted_tunnels(c, plan, both, routes);
  // .21 (IPv4 service), ::31 (both services, the same source either way);
  // not the DR one, not .23 (its service mixes NAT in: userspace).
  EXPECT_EQ(w.tunnels, (std::map<IpAddress, IpAddress>{{ip("198.51.100.21"), ip("198.51.100.2")},
                                                       {ip("2001:db8:7::31"), ip("2001:db8:62::2")}}));
  // .21 in the IPv6 service would need sit: noted, left to vsd.
  ASSERT_EQ(w.notes.size(), 1u);
  EXPECT_NE(w.notes[0].find("TUN real server 198.51.100.21 of IPv6 service"), std::string::npos) << w.notes[0];
  EXPECT_NE(w.notes[0].find("sit"), std::string::npos);

  // Only ipip in the kernel: the IPv6 real server is left out (the start
  // line says why, no note per server).
  rtnl::TunnelSupport v4only;
  v4only.ipip = true;
  w = wanted_tunnels(c, plan, v4only, routes);
  EXPECT_EQ(w.tunnels.size(), 1u);
  EXPECT_EQ(w.tunnels.count(ip("198.51.100.21")), 1u);
  EXPECT_TRUE(wanted_tunnels(c, plan, rtnl::TunnelSupport{}, routes).tunnels.empty());

  // No route yet toward .21: no device until there is one.
  auto no_route = routes;
  no_route.erase(ip("198.51.100.21"));
  EXPECT_EQ(wanted_tunnels(c, plan, both, no_route).tunnels.count(ip("198.51.100.21")), 0u);

  // Fast path off (no paths in the plan): nothing.
  EXPECT_TRUE(wanted_tunnels(c, FastPathPlan{}, both, routes).tunnels.empty());
}

TEST(WantedTunnels, ServicesThatDisagreeOnTheSourceLeaveItToVsd) {
  const Config c = parse(kTun);
  rtnl::TunnelSupport both;
  both.ipip = both.ip6tnl = true;
  // The route's source toward ::31 differs from the IPv6 service's
  // tunnel_source: one device cannot have both.
  const std::map<IpAddress, IpAddress> routes = {{ip("198.51.100.21"), ip("198.51.100.2")},
                                                 {ip("2001:db8:7::31"), ip("2001:db8:62::9")}};
  const TunnelWants w = wanted_tunnels(c, direct_plan(c), both, routes);
  EXPECT_EQ(w.tunnels.count(ip("2001:db8:7::31")), 0u);
  EXPECT_EQ(w.tunnels.count(ip("198.51.100.21")), 1u);
  bool said = false;
  for (const auto& n : w.notes)
    said |= n.find("2001:db8:62::2, 2001:db8:62::9") != std::string::npos && n.find("tunnel_source") != std::string::npos;
  EXPECT_TRUE(said);
}

TEST(TunPathLine, SaysWhichWayAndWhy) {
  rtnl::TunnelSupport none;
  none.ipip_why = "Operation not supported (kernel: Unknown device type); `modprobe ipip`";
  none.ip6tnl_why = "Operation not supported (kernel: Unknown device type); `modprobe ip6_tunnel`";
  EXPECT_EQ(tun_path_line(none, 0, true),
            "TUN: encapsulated by vsd (this kernel has no ipip: Operation not supported (kernel: Unknown "
            "device type); `modprobe ipip`)");
  rtnl::TunnelSupport both;
  both.ipip = both.ip6tnl = true;
  EXPECT_EQ(tun_path_line(both, 3, true), "TUN: kernel ipip/ip6tnl tunnels (3 devices)");
  rtnl::TunnelSupport v4only = none;
  v4only.ipip = true;
  v4only.ipip_why.clear();
  EXPECT_EQ(tun_path_line(v4only, 1, true),
            "TUN: kernel ipip tunnels (1 devices); IPv6 real servers encapsulated by vsd (this kernel "
            "has no ip6tnl: Operation not supported (kernel: Unknown device type); `modprobe ip6_tunnel`)");
  EXPECT_EQ(tun_path_line(both, 0, false),
            "TUN: encapsulated by vsd (DR/TUN services are not on the kernel's flow table)");
}

}  // namespace
}  // namespace vsd
