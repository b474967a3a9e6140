// The real server's kernel decapsulation devices against a fake kernel:
// one receive-only device per tunnel address, vsd's decapsulation where
// the kernel makes none or refuses, leftovers of a killed vsd kept or
// deleted, and a clean stop. No root.
#include "appliance/daemon/decap_devices.hpp"

#include <gtest/gtest.h>
#include <net/if.h>

#include "daemon/fake_tunnel_kernel.hpp"

namespace vsd {
namespace {

IpAddress ip(const char* s) { return *IpAddress::parse(s); }

rtnl::TunnelSupport both() {
  rtnl::TunnelSupport s;
  s.ipip = s.ip6tnl = true;
  return s;
}

using Harness = KernelHarness<DecapDevices>;

TEST(DecapDevices, OneReceiveOnlyDevicePerTunnelAddress) {
  Harness h;
  const IpAddress a4 = ip("198.51.100.11"), a6 = ip("2001:db8:2::11");
  auto out = h.devices->setup({a4, a6}, both());
  EXPECT_TRUE(out.vsd.empty());
  ASSERT_EQ(out.kernel.size(), 2u);
  EXPECT_EQ(out.kernel.at(a4), tunnel_device_name(a4));
  const rtnl::LinkInfo* d4 = h.kernel->find(tunnel_device_name(a4));
  const rtnl::LinkInfo* d6 = h.kernel->find(tunnel_device_name(a6));
  ASSERT_TRUE(d4 && d6);
  EXPECT_EQ(d4->kind, "ipip");
  EXPECT_EQ(d4->tunnel_local, a4);
  EXPECT_TRUE(d4->tunnel_remote.is_unspecified() && d4->tunnel_remote.is_v4());
  EXPECT_EQ(d6->kind, "ip6tnl");
  EXPECT_TRUE(d6->tunnel_remote.is_unspecified() && !d6->tunnel_remote.is_v4());
  EXPECT_NE(h.log().find("IP-in-IP to 198.51.100.11 decapsulated by the kernel: " + d4->ifname), std::string::npos)
      << h.log();
  // A clean stop deletes both.
  EXPECT_EQ(h.devices->remove_all(), 2u);
  EXPECT_TRUE(h.kernel->links.empty());
}

TEST(DecapDevices, WithoutTheModuleOrOnARefusalVsdDecapsulates) {
  Harness h;
  rtnl::TunnelSupport s;
  s.ipip = false;
  s.ipip_why = "Operation not supported (modprobe ipip)";
  s.ip6tnl = true;
  const IpAddress a4 = ip("198.51.100.11"), a6 = ip("2001:db8:2::11"), b6 = ip("2001:db8:2::12");
  h.kernel->fail_create = tunnel_device_name(b6);
  auto out = h.devices->setup({a4, a6, b6}, s);
  ASSERT_EQ(out.vsd.size(), 2u);
  EXPECT_EQ(out.vsd.at(a4), "this kernel makes no ipip device: Operation not supported (modprobe ipip)");
  EXPECT_NE(out.vsd.at(b6).find("Operation not supported"), std::string::npos) << out.vsd.at(b6);
  ASSERT_EQ(out.kernel.size(), 1u);
  EXPECT_EQ(out.kernel.count(a6), 1u);
  EXPECT_EQ(h.kernel->find(tunnel_device_name(a4)), nullptr);
}

TEST(DecapDevices, KeepsAKilledVsdsDeviceForTheSameAddressAndDeletesOthers) {
  Harness h;
  const IpAddress a4 = ip("198.51.100.11");
  // A killed real server's device for a4 (down), a killed director's
  // point-to-point one, a decapsulation device for an address gone from the
  // cluster file, and somebody else's tunnel: only the last is not vsd's.
  auto add = [&](const std::string& name, const char* kind, const IpAddress& local, const IpAddress& remote,
                 bool up) {
    rtnl::LinkInfo l;
    l.ifindex = h.kernel->next_index++;
    l.ifname = name;
    l.kind = kind;
    l.tunnel_local = local;
    l.tunnel_remote = remote;
    l.flags = up ? IFF_UP : 0;
    h.kernel->links.push_back(l);
  };
  add(tunnel_device_name(a4), "ipip", a4, decap_device_params(a4).remote, false);
  add(tunnel_device_name(ip("198.51.100.21")), "ipip", ip("192.0.2.1"), ip("198.51.100.21"), true);
  add(tunnel_device_name(ip("198.51.100.99")), "ipip", ip("198.51.100.99"), decap_device_params(a4).remote, true);
  add("vsdtmine", "ipip", ip("198.51.100.11"), ip("203.0.113.1"), true);
  const int kept = h.kernel->links[0].ifindex;

  auto out = h.devices->setup({a4}, both());
  EXPECT_TRUE(out.vsd.empty());
  ASSERT_EQ(out.kernel.size(), 1u);
  const rtnl::LinkInfo* d = h.kernel->find(tunnel_device_name(a4));
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->ifindex, kept) << "kept, not re-made: the kernel went on decapsulating";
  EXPECT_TRUE(d->flags & IFF_UP);
  EXPECT_EQ(h.kernel->find(tunnel_device_name(ip("198.51.100.21"))), nullptr);
  EXPECT_EQ(h.kernel->find(tunnel_device_name(ip("198.51.100.99"))), nullptr);
  EXPECT_NE(h.kernel->find("vsdtmine"), nullptr) << "not a name vsd makes";
  EXPECT_NE(h.log().find("kept from an earlier vsd"), std::string::npos) << h.log();
  for (const auto& c : h.kernel->calls) EXPECT_EQ(c.rfind("create", 0), std::string::npos) << c;
}

TEST(DecapDevices, WithNoTunnelAddressOnlyLeftoversGo) {
  Harness h;
  rtnl::LinkInfo l;
  l.ifindex = 7;
  l.ifname = tunnel_device_name(ip("198.51.100.11"));
  l.kind = "ipip";
  h.kernel->links.push_back(l);
  auto out = h.devices->setup({}, rtnl::TunnelSupport{});
  EXPECT_TRUE(out.kernel.empty() && out.vsd.empty());
  EXPECT_TRUE(h.kernel->links.empty());
  EXPECT_EQ(h.devices->remove_all(), 0u);
}

TEST(DecapDevices, AListingFailureIsAWarningAndTheDevicesAreStillMade) {
  Harness h;
  h.kernel->fail_list = true;
  auto out = h.devices->setup({ip("198.51.100.11")}, both());
  EXPECT_EQ(out.kernel.size(), 1u);
  EXPECT_NE(h.log().find("!TUN: cannot list the tunnel devices (netlink says no)"), std::string::npos) << h.log();
}

}  // namespace
}  // namespace vsd
