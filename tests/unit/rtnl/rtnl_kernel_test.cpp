// The rtnetlink adapter against a real kernel: a veth pair between a private
// network namespace and a second one (veth_peer.hpp). Each test body runs in
// a forked child and reports by exit code, with the reason on stderr.
#include <gtest/gtest.h>
#include <linux/if_addr.h>
#include <net/if.h>

#include <chrono>
#include <thread>

#include "nfq/rtnl_socket.hpp"
#include "veth_peer.hpp"

namespace vsd::rtnl {
namespace {

IpAddress ip(const char* s) { return *IpAddress::parse(s); }

// Fails the child with `code`, saying which check and (when set) the error.
#define REQUIRE(cond, code)                                                              \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "%s:%d: %s failed%s%s\n", __FILE__, __LINE__, #cond,          \
                   error.empty() ? "" : ": ", error.c_str());                            \
      return code;                                                                       \
    }                                                                                    \
  } while (0)

bool contains(const std::string& text, const char* needle) {
  return text.find(needle) != std::string::npos;
}

int index_of(const char* name) { return static_cast<int>(if_nametoindex(name)); }

int route_checks() {
  test::PeerNetns peer;
  if (const int rc = test::make_veth_pair(peer)) return rc;
  const int vsdt0 = index_of(test::kLocalIf), lo = index_of("lo");
  std::string error;
  RouteInfo r;

  REQUIRE(route_get(ip("192.0.2.2"), &r, &error), 1);  // connected
  REQUIRE(r.oif == vsdt0 && r.ifname == "vsdt0" && !r.has_gateway() && !r.local, 2);
  REQUIRE(r.prefsrc == ip("192.0.2.1") && r.mtu == 1480, 3);  // the interface's MTU

  REQUIRE(route_get(ip("203.0.113.5"), &r, &error), 4);  // via a gateway, with a route MTU
  REQUIRE(r.oif == vsdt0 && r.gateway == ip("192.0.2.2") && r.has_gateway(), 5);
  REQUIRE(r.prefsrc == ip("192.0.2.1") && r.mtu == 1400 && !r.local, 6);

  REQUIRE(route_get(ip("192.0.2.1"), &r, &error), 7);  // our own
  REQUIRE(r.local && r.oif == lo && r.ifname == "lo" && r.mtu == 65536, 8);

  REQUIRE(route_get(ip("2001:db8::2"), &r, &error), 9);
  REQUIRE(r.oif == vsdt0 && !r.has_gateway() && r.prefsrc == ip("2001:db8::1"), 10);
  REQUIRE(r.mtu == 1480 && !r.local, 11);

  REQUIRE(route_get(ip("2001:db8:ffff::5"), &r, &error), 12);
  REQUIRE(r.oif == vsdt0 && r.gateway == ip("2001:db8::2") && r.prefsrc == ip("2001:db8::1"), 13);

  REQUIRE(route_get(ip("2001:db8::1"), &r, &error), 14);
  REQUIRE(r.local && r.oif == lo, 15);

  // No default route in the namespace: nothing else is reachable.
  REQUIRE(!route_get(ip("198.51.100.1"), &r, &error), 16);
  REQUIRE(contains(error, "198.51.100.1") && contains(error, "ip route get 198.51.100.1"), 17);
  REQUIRE(!route_get(ip("2001:db8:1::1"), &r, &error), 18);
  REQUIRE(contains(error, "2001:db8:1::1") && contains(error, "unreachable"), 19);
  // A blackhole route is no way out either.
  error.clear();
  REQUIRE(test::sh("ip route add blackhole 198.51.100.0/24"), 20);
  REQUIRE(!route_get(ip("198.51.100.1"), &r, &error), 21);
  REQUIRE(contains(error, "198.51.100.1") && contains(error, "blackhole"), 22);
  // IPv6 answers with the route, of type blackhole.
  REQUIRE(test::sh("ip -6 route add blackhole 2001:db8:1::/48"), 23);
  REQUIRE(!route_get(ip("2001:db8:1::1"), &r, &error), 24);
  REQUIRE(contains(error, "2001:db8:1::1") && contains(error, "blackhole"), 25);
  return 0;
}

const LocalAddress* find(const std::vector<LocalAddress>& all, const char* ifname, const char* addr) {
  for (const auto& a : all)
    if (a.ifname == ifname && a.addr == ip(addr)) return &a;
  return nullptr;
}

int address_checks() {
  test::PeerNetns peer;
  if (const int rc = test::make_veth_pair(peer)) return rc;
  const int vsdt0 = index_of(test::kLocalIf), lo = index_of("lo");
  std::string error;
  std::vector<LocalAddress> all;
  REQUIRE(local_addresses(&all, &error), 1);
  const LocalAddress* a = find(all, "vsdt0", "192.0.2.1");
  REQUIRE(a && a->prefix == 24 && a->ifindex == vsdt0, 2);
  a = find(all, "vsdt0", "2001:db8::1");
  REQUIRE(a && a->prefix == 64 && (a->flags & IFA_F_NODAD), 3);
  REQUIRE(find(all, "lo", "127.0.0.1") && find(all, "lo", "::1"), 4);

  // A VIP on lo, as a real server holds it; twice is not an error.
  bool existed = true;
  REQUIRE(address_add(lo, ip("203.0.113.7"), 32, &existed, &error) && !existed, 5);
  REQUIRE(address_add(lo, ip("203.0.113.7"), 32, &existed, &error) && existed, 6);
  REQUIRE(address_add(lo, ip("2001:db8::7"), 128, &existed, &error) && !existed, 7);
  REQUIRE(address_add(lo, ip("2001:db8::7"), 128, &existed, &error) && existed, 8);
  // IPv6 knows an address once per interface, whatever its prefix.
  REQUIRE(address_add(lo, ip("2001:db8::7"), 64, &existed, &error) && existed, 9);
  REQUIRE(local_addresses(&all, &error), 10);
  a = find(all, "lo", "203.0.113.7");
  REQUIRE(a && a->prefix == 32, 11);
  REQUIRE(find(all, "lo", "2001:db8::7"), 12);

  // With DAD on, an IPv6 address is tentative for about a second; ours is
  // usable at once. `ip addr add` without nodad shows the difference.
  REQUIRE(test::write_proc("/proc/sys/net/ipv6/conf/vsdt0/accept_dad", "1"), 13);
  REQUIRE(address_add(vsdt0, ip("2001:db8::10"), 128, &existed, &error) && !existed, 14);
  REQUIRE(test::sh("ip -6 addr add 2001:db8::99/128 dev vsdt0"), 15);
  REQUIRE(local_addresses(&all, &error), 16);
  a = find(all, "vsdt0", "2001:db8::10");
  REQUIRE(a && (a->flags & IFA_F_NODAD) && !(a->flags & IFA_F_TENTATIVE), 17);
  a = find(all, "vsdt0", "2001:db8::99");
  REQUIRE(a && (a->flags & IFA_F_TENTATIVE), 18);
  // Its local route follows from the kernel's address work queue, a moment
  // after the address itself: look for up to 2 s.
  RouteInfo r;
  bool local = false;
  for (int i = 0; i < 200 && !local; ++i) {
    local = route_get(ip("2001:db8::10"), &r, &error) && r.local;
    if (!local) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(local, 19);

  REQUIRE(address_del(lo, ip("203.0.113.7"), 32, &error), 20);
  REQUIRE(address_del(lo, ip("2001:db8::7"), 128, &error), 21);
  REQUIRE(local_addresses(&all, &error), 22);
  REQUIRE(!find(all, "lo", "203.0.113.7") && !find(all, "lo", "2001:db8::7"), 23);

  // Errors name the address and the interface, and say what to check.
  REQUIRE(!address_del(lo, ip("203.0.113.7"), 32, &error), 24);
  REQUIRE(contains(error, "203.0.113.7/32") && contains(error, "lo (index") &&
              contains(error, "not there"),
          25);
  REQUIRE(!address_del(vsdt0, ip("192.0.2.1"), 25, &error), 26);  // wrong prefix
  REQUIRE(!address_add(99999, ip("192.0.2.50"), 32, &existed, &error), 27);
  REQUIRE(contains(error, "interface index 99999") && contains(error, "ip link show"), 28);
  REQUIRE(!address_add(lo, ip("192.0.2.50"), 33, &existed, &error), 29);
  REQUIRE(contains(error, "/33") && contains(error, "at most /32"), 30);
  REQUIRE(!address_add(0, ip("192.0.2.50"), 32, &existed, &error), 31);
  REQUIRE(contains(error, "interface index"), 32);
  return 0;
}

// Polls until the kernel has a usable entry, at most 3 s; the time it took in *ms.
bool wait_resolved(const IpAddress& addr, int ifindex, MacAddress* mac, long* ms,
                   std::string* error) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 300; ++i) {
    if (neighbour_lookup(addr, ifindex, mac, error)) {
      *ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - start)
                .count();
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

int neighbour_checks() {
  test::PeerNetns peer;
  if (const int rc = test::make_veth_pair(peer)) return rc;
  const int vsdt0 = index_of(test::kLocalIf);
  const MacAddress peer_mac = {0x00, 0x00, 0x5e, 0x00, 0x53, 0x02};
  std::string error;
  MacAddress mac{};
  long ms = 0;

  for (const char* addr : {"192.0.2.2", "2001:db8::2"}) {
    REQUIRE(!neighbour_lookup(ip(addr), vsdt0, &mac, &error), 1);
    REQUIRE(contains(error, "no neighbour entry") && contains(error, addr), 2);
    error.clear();
    REQUIRE(neighbour_resolve(ip(addr), vsdt0, &error), 3);
    REQUIRE(wait_resolved(ip(addr), vsdt0, &mac, &ms, &error), 4);
    REQUIRE(mac == peer_mac, 5);
    std::fprintf(stderr, "%s resolved in %ld ms\n", addr, ms);
    // Already reachable: left alone, still there.
    REQUIRE(neighbour_resolve(ip(addr), vsdt0, &error), 6);
    REQUIRE(neighbour_lookup(ip(addr), vsdt0, &mac, &error) && mac == peer_mac, 7);
  }

  // Nobody answers for 192.0.2.3: the request goes out, the entry stays
  // INCOMPLETE (FAILED after 3 probes, ~3 s).
  REQUIRE(neighbour_resolve(ip("192.0.2.3"), vsdt0, &error), 8);
  REQUIRE(!neighbour_lookup(ip("192.0.2.3"), vsdt0, &mac, &error), 9);
  REQUIRE(contains(error, "INCOMPLETE") && contains(error, "vsdt0"), 10);
  error.clear();

  // A static entry survives: NTF_USE alone would clear NUD_PERMANENT.
  REQUIRE(test::sh("ip neigh add 192.0.2.77 lladdr 00:00:5e:00:53:77 dev vsdt0 nud permanent"), 11);
  REQUIRE(neighbour_resolve(ip("192.0.2.77"), vsdt0, &error), 12);
  REQUIRE(neighbour_lookup(ip("192.0.2.77"), vsdt0, &mac, &error), 13);
  REQUIRE(mac == (MacAddress{0x00, 0x00, 0x5e, 0x00, 0x53, 0x77}), 14);
  REQUIRE(test::sh("ip neigh show 192.0.2.77 dev vsdt0 | grep -q PERMANENT"), 15);

  REQUIRE(!neighbour_lookup(ip("192.0.2.2"), 0, &mac, &error), 16);
  REQUIRE(contains(error, "interface index"), 17);
  REQUIRE(!neighbour_resolve(ip("192.0.2.2"), 99999, &error), 18);
  REQUIRE(contains(error, "99999") && contains(error, "ip link show"), 19);
  return 0;
}

int run(int (*body)()) { return test::run_in_private_netns(body); }

TEST(RtnlKernel, RouteGet) {
  const int rc = run(route_checks);
  if (rc == test::kNetnsUnavailable) GTEST_SKIP() << "needs root and unshare(CLONE_NEWNET)";
  EXPECT_EQ(rc, 0);
}

TEST(RtnlKernel, LocalAddressesAddAndDelete) {
  const int rc = run(address_checks);
  if (rc == test::kNetnsUnavailable) GTEST_SKIP() << "needs root and unshare(CLONE_NEWNET)";
  EXPECT_EQ(rc, 0);
}

TEST(RtnlKernel, NeighbourResolveAndLookup) {
  const int rc = run(neighbour_checks);
  if (rc == test::kNetnsUnavailable) GTEST_SKIP() << "needs root and unshare(CLONE_NEWNET)";
  EXPECT_EQ(rc, 0);
}

}  // namespace
}  // namespace vsd::rtnl
