// The director's tunnel devices against a real kernel, in a private network
// namespace with a veth pair to a peer namespace (veth_peer.hpp). Where the
// kernel has ipip / ip6_tunnel: create, list, change in place, bring up
// again, delete, and a packet nft's dup hands to the tunnel arrives
// encapsulated at the peer. Where it has not (this machine's 6.18): the
// probe says so and a create fails with an error that names the device and
// `modprobe`, leaving nothing behind. Each body runs in a forked child and
// reports by exit code, with the reason on stderr.
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "nfq/rtnl_socket.hpp"
#include "veth_peer.hpp"

namespace vsd::rtnl {
namespace {

IpAddress ip(const char* s) { return *IpAddress::parse(s); }

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

// The kernel's answer through iproute2, independent of vsd's messages.
bool shell_makes(const char* kind_args) {
  const std::string add = std::string("ip link add vsdx0 type ") + kind_args + " 2>/dev/null";
  if (std::system(add.c_str()) != 0) return false;
  test::sh("ip link del vsdx0");
  return true;
}

const LinkInfo* find(const std::vector<LinkInfo>& links, const std::string& name) {
  for (const auto& l : links)
    if (l.ifname == name) return &l;
  return nullptr;
}

TunnelParams params(const char* name, const char* local, const char* remote) {
  TunnelParams p;
  p.name = name;
  p.local = ip(local);
  p.remote = ip(remote);
  p.kind = tunnel_kind_for(p.remote);
  return p;
}

int probe_checks() {
  std::string error;
  const bool ipip = shell_makes("ipip local 192.0.2.8 remote 192.0.2.9");
  const bool ip6tnl = shell_makes("ip6tnl local 2001:db8::8 remote 2001:db8::9 mode any");
  std::fprintf(stderr, "this kernel: ipip %s, ip6tnl %s\n", ipip ? "yes" : "no", ip6tnl ? "yes" : "no");
  const TunnelSupport s = kernel_tunnels();
  error = s.ipip_why + " / " + s.ip6tnl_why;
  REQUIRE(s.ipip == ipip && s.ip6tnl == ip6tnl, 1);
  REQUIRE(s.has(TunnelKind::ipip) == ipip && s.has(TunnelKind::ip6tnl) == ip6tnl, 2);
  REQUIRE(ipip ? s.ipip_why.empty() : contains(s.ipip_why, "modprobe ipip"), 3);
  REQUIRE(ip6tnl ? s.ip6tnl_why.empty() : contains(s.ip6tnl_why, "modprobe ip6_tunnel"), 4);
  error.clear();
  // The throwaway devices are gone.
  std::vector<LinkInfo> links;
  REQUIRE(links_with_prefix("vsdp", &links, &error), 5);
  REQUIRE(links.empty(), 6);
  return 0;
}

// Listing, bringing up, the nexthop route and deleting, on veth devices
// (every kernel has them): the parts of the tunnel calls that do not depend
// on the tunnel kind.
int link_checks() {
  test::PeerNetns peer;
  if (const int rc = test::make_veth_pair(peer)) return rc;
  std::string error;
  REQUIRE(test::sh("ip link add vsdta type veth peer name vsdtb"), 1);
  std::vector<LinkInfo> links;
  REQUIRE(links_with_prefix("vsdt", &links, &error), 2);
  REQUIRE(links.size() == 3 && find(links, "vsdt0") && find(links, "vsdta") && find(links, "vsdtb"), 3);
  const LinkInfo* a = find(links, "vsdta");
  REQUIRE(a->kind == "veth" && !a->up() && a->tunnel_remote.is_unspecified(), 4);
  REQUIRE(find(links, "vsdt0")->up(), 5);
  REQUIRE(links_with_prefix("nosuchprefix", &links, &error) && links.empty(), 6);

  // tunnel_up: up, and for an ip6tnl kind the route fe80::1/128 through
  // the device, which may exist on several devices at once; again = no error.
  const int ia = static_cast<int>(if_nametoindex("vsdta")), ib = static_cast<int>(if_nametoindex("vsdtb"));
  TunnelParams p = params("vsdta", "2001:db8::1", "2001:db8::2");
  REQUIRE(tunnel_up(ia, p, &error), 7);
  p.name = "vsdtb";
  REQUIRE(tunnel_up(ib, p, &error), 8);
  REQUIRE(tunnel_up(ib, p, &error), 9);
  REQUIRE(links_with_prefix("vsdt", &links, &error) && find(links, "vsdta")->up() && find(links, "vsdtb")->up(), 10);
  REQUIRE(test::sh("ip -6 route show fe80::1/128 dev vsdta | grep -q fe80::1"), 11);
  REQUIRE(test::sh("ip -6 route show fe80::1/128 dev vsdtb | grep -q fe80::1"), 12);
  // IPv4 kind: up only, no route.
  REQUIRE(test::sh("ip link set vsdta down"), 13);
  REQUIRE(tunnel_up(ia, params("vsdta", "192.0.2.1", "192.0.2.2"), &error), 14);
  REQUIRE(test::sh("ip link show vsdta | grep -q ',UP'"), 15);
  REQUIRE(test::sh("test -z \"$(ip -6 route show fe80::1/128 dev vsdta)\""), 16);

  // IPv6 off on a device: the nexthop route is refused, and the error says so.
  REQUIRE(test::write_proc("/proc/sys/net/ipv6/conf/vsdtb/disable_ipv6", "1"), 22);
  REQUIRE(!tunnel_up(ib, p, &error), 23);
  REQUIRE(contains(error, "fe80::1/128 dev vsdtb") && contains(error, "disable_ipv6"), 24);
  error.clear();

  // Address generation off before a link goes up: no link-local address.
  REQUIRE(test::sh("ip link add vsdtc type veth peer name vsdtd"), 25);
  const int ic = static_cast<int>(if_nametoindex("vsdtc"));
  REQUIRE(link_no_addrconf(ic, "vsdtc", &error), 26);
  REQUIRE(test::sh("ip link set vsdtd up && ip link set vsdtc up"), 27);
  REQUIRE(test::sh("ip -d link show vsdtc | grep -q 'addrgenmode none'"), 28);
  REQUIRE(test::sh("test -z \"$(ip -6 addr show dev vsdtc)\""), 29);
  REQUIRE(test::sh("ip -6 addr show dev vsdtd | grep -q fe80::"), 30);  // the default, for contrast
  REQUIRE(!link_no_addrconf(99999, "nosuch", &error) && contains(error, "nosuch"), 31);
  error.clear();

  REQUIRE(link_delete(ia, "vsdta", &error), 17);
  REQUIRE(if_nametoindex("vsdta") == 0 && if_nametoindex("vsdtb") == 0, 18);  // its peer goes too
  REQUIRE(link_delete(ia, "vsdta", &error), 19);  // already gone: not an error
  REQUIRE(!tunnel_up(ia, p, &error), 20);
  REQUIRE(contains(error, "vsdtb") && contains(error, "No such device"), 21);
  return 0;
}

// Creates, lists, changes, brings up again and deletes one device of `p`'s
// kind; `other_local` is a second local address. Where the kernel lacks the
// kind: the create fails cleanly.
int device_checks(const TunnelParams& p, const char* other_local, bool supported) {
  std::string error;
  int index = 0;
  if (!supported) {
    REQUIRE(!tunnel_create(p, &index, &error), 1);
    REQUIRE(contains(error, p.name.c_str()) && contains(error, "modprobe"), 2);
    REQUIRE(contains(error, p.kind == TunnelKind::ipip ? "modprobe ipip" : "modprobe ip6_tunnel"), 3);
    REQUIRE(if_nametoindex(p.name.c_str()) == 0, 4);
    std::fprintf(stderr, "as expected without %s: %s\n", to_string(p.kind), error.c_str());
    return 0;
  }
  REQUIRE(tunnel_create(p, &index, &error), 10);
  REQUIRE(index > 0 && index == static_cast<int>(if_nametoindex(p.name.c_str())), 11);
  std::vector<LinkInfo> links;
  REQUIRE(links_with_prefix("vsdt", &links, &error), 12);
  const LinkInfo* l = find(links, p.name);
  REQUIRE(l && l->kind == to_string(p.kind) && l->up() && l->ifindex == index, 13);
  REQUIRE(l->tunnel_local == p.local && l->tunnel_remote == p.remote, 14);
  REQUIRE(l->tunnel_proto == (p.kind == TunnelKind::ipip ? IPPROTO_IPIP : 0), 15);
  // No IPv6 address generation: no link-local address on it.
  const std::string no_v6 = "test -z \"$(ip -6 addr show dev " + p.name + ")\"";
  REQUIRE(test::sh(no_v6.c_str()), 16);
  const std::string route = "ip -6 route show fe80::1/128 dev " + p.name + " | grep -q fe80::1";
  if (p.kind == TunnelKind::ip6tnl) REQUIRE(test::sh(route.c_str()), 17);

  // The same endpoints again: the kernel refuses, the error says where to look.
  TunnelParams twin = p;
  twin.name = "vsdt99999999";
  int twin_index = 0;
  REQUIRE(!tunnel_create(twin, &twin_index, &error), 18);
  REQUIRE(contains(error, "vsdt99999999") && contains(error, "ip -d link show"), 19);
  REQUIRE(if_nametoindex("vsdt99999999") == 0, 20);
  error.clear();

  // A new outer source in place: the same device, the same index.
  TunnelParams moved = p;
  moved.local = ip(other_local);
  REQUIRE(tunnel_change(index, moved, &error), 21);
  REQUIRE(links_with_prefix("vsdt", &links, &error), 22);
  l = find(links, p.name);
  REQUIRE(l && l->ifindex == index && l->tunnel_local == moved.local && l->up(), 23);

  // Down (IPv6 then drops its routes) and up again.
  const std::string down = "ip link set " + p.name + " down";
  REQUIRE(test::sh(down.c_str()), 24);
  REQUIRE(tunnel_up(index, moved, &error), 25);
  if (p.kind == TunnelKind::ip6tnl) REQUIRE(test::sh(route.c_str()), 26);

  REQUIRE(link_delete(index, p.name, &error), 27);
  REQUIRE(if_nametoindex(p.name.c_str()) == 0, 28);
  return 0;
}

int ipip_checks() {
  test::PeerNetns peer;
  if (const int rc = test::make_veth_pair(peer)) return rc;
  std::string error;
  REQUIRE(test::sh("ip addr add 192.0.2.5/24 dev vsdt0"), 1);
  return device_checks(params("vsdt0a1b2c3d", "192.0.2.1", "203.0.113.21"), "192.0.2.5",
                       kernel_tunnels().ipip);
}

int ip6tnl_checks() {
  test::PeerNetns peer;
  if (const int rc = test::make_veth_pair(peer)) return rc;
  std::string error;
  REQUIRE(test::sh("ip -6 addr add 2001:db8::5/64 dev vsdt0 nodad"), 1);
  return device_checks(params("vsdt11223344", "2001:db8::1", "2001:db8:ffff::31"), "2001:db8::5",
                       kernel_tunnels().ip6tnl);
}

// In the peer namespace: sends one UDP datagram to `vip`, port 9 (from
// `src` when given), and reads what arrives on a raw socket of protocol
// `outer_proto` within 2 s. IPv4 raw sockets return the outer header too,
// IPv6 ones the payload only.
std::vector<std::uint8_t> send_and_capture(int family, const char* vip, int raw_family, int outer_proto,
                                           const char* src = nullptr) {
  std::vector<std::uint8_t> got;
  const int raw = socket(raw_family, SOCK_RAW | SOCK_CLOEXEC, outer_proto);
  const int udp = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (src && udp >= 0 && family == AF_INET6) {
    sockaddr_in6 from{};
    from.sin6_family = AF_INET6;
    const IpAddress a = ip(src);  // IPv6 here: all 16 bytes are the address
    std::memcpy(&from.sin6_addr, a.bytes.data(), 16);
    if (bind(udp, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) {
      ::close(udp);
      if (raw >= 0) ::close(raw);
      return got;
    }
  }
  if (raw >= 0 && udp >= 0) {
    sockaddr_storage to{};
    socklen_t len = 0;
    if (family == AF_INET) {
      auto* s = reinterpret_cast<sockaddr_in*>(&to);
      s->sin_family = AF_INET;
      s->sin_port = htons(9);
      const IpAddress a = ip(vip);
      std::memcpy(&s->sin_addr, a.v4_bytes(), 4);
      len = sizeof *s;
    } else {
      auto* s = reinterpret_cast<sockaddr_in6*>(&to);
      s->sin6_family = AF_INET6;
      s->sin6_port = htons(9);
      const IpAddress a = ip(vip);
      std::memcpy(&s->sin6_addr, a.bytes.data(), 16);
      len = sizeof *s;
    }
    const char payload[] = "vsd tunnel test";
    if (sendto(udp, payload, sizeof payload, 0, reinterpret_cast<sockaddr*>(&to), len) > 0) {
      pollfd pfd{raw, POLLIN, 0};
      std::uint8_t buf[2048];
      if (poll(&pfd, 1, 2000) == 1) {
        const ssize_t n = recv(raw, buf, sizeof buf, 0);
        if (n > 0) got.assign(buf, buf + n);
      }
    }
  }
  if (raw >= 0) ::close(raw);
  if (udp >= 0) ::close(udp);
  return got;
}

// nft's dup into the tunnel (what the director's direct_forward rule does,
// by hand here), and the encapsulated packet as the real server gets it.
int traffic_checks() {
  const TunnelSupport s = kernel_tunnels();
  if (!s.ipip || !s.ip6tnl) return test::kNetnsUnavailable;  // skip: nothing to send through
  test::PeerNetns peer;
  if (const int rc = test::make_veth_pair(peer)) return rc;
  std::string error;
  // The peer is client and real server at once: its VIP routes lead here.
  // Its IPv6 client address is not the tunnel's remote: ip6tnl drops an
  // inner packet whose source is its remote (ip6_tnl_addr_conflict).
  REQUIRE(peer.in([] {
            return test::sh("ip route add 203.0.113.0/24 via 192.0.2.1") &&
                           test::sh("ip -6 route add 2001:db8:ffff::/48 via 2001:db8::1") &&
                           test::sh("ip -6 addr add 2001:db8::3/64 dev vsdt1 nodad")
                       ? 0
                       : 1;
          }) == 0,
          1);
  int t4 = 0, t6 = 0;
  REQUIRE(tunnel_create(params("vsdt0000aaaa", "192.0.2.1", "192.0.2.2"), &t4, &error), 2);
  REQUIRE(tunnel_create(params("vsdt0000bbbb", "2001:db8::1", "2001:db8::2"), &t6, &error), 3);
  REQUIRE(test::sh("nft add table ip vsdtest && "
                   "nft add chain ip vsdtest pre '{ type filter hook prerouting priority -300; }' && "
                   "nft add rule ip vsdtest pre ip daddr 203.0.113.100 dup to 192.0.2.2 device vsdt0000aaaa drop && "
                   "nft add rule ip vsdtest pre ip daddr 203.0.113.101 dup to 192.0.0.8 device vsdt0000bbbb drop && "
                   "nft add table ip6 vsdtest && "
                   "nft add chain ip6 vsdtest pre '{ type filter hook prerouting priority -300; }' && "
                   "nft add rule ip6 vsdtest pre ip6 daddr 2001:db8:ffff::100 dup to fe80::1 device vsdt0000bbbb drop"),
          4);
  std::vector<std::uint8_t> got;
  // IPv4 in IPv4: the outer header from the tunnel's local to its remote,
  // protocol 4, DF, TTL the inner one's; the client's packet unchanged inside.
  REQUIRE(peer.in([&] {
            got = send_and_capture(AF_INET, "203.0.113.100", AF_INET, IPPROTO_IPIP);
            return 0;
          }) == 0,
          5);
  REQUIRE(got.size() >= 40, 6);
  REQUIRE(got[9] == IPPROTO_IPIP && (got[6] & 0x40) != 0, 7);
  REQUIRE(IpAddress::v4(&got[12]) == ip("192.0.2.1") && IpAddress::v4(&got[16]) == ip("192.0.2.2"), 8);
  REQUIRE((got[20] >> 4) == 4 && IpAddress::v4(&got[32]) == ip("192.0.2.2"), 9);
  REQUIRE(IpAddress::v4(&got[36]) == ip("203.0.113.100") && got[8] == got[28], 10);
  // IPv6 in IPv6, through the link-local next hop: no destination option
  // (the payload is the inner IPv6 header at once).
  REQUIRE(peer.in([&] {
            got = send_and_capture(AF_INET6, "2001:db8:ffff::100", AF_INET6, IPPROTO_IPV6, "2001:db8::3");
            return 0;
          }) == 0,
          11);
  REQUIRE(got.size() >= 40 && (got[0] >> 4) == 6, 12);
  REQUIRE(IpAddress::v6(&got[24]) == ip("2001:db8:ffff::100"), 13);
  // IPv4 in IPv6 (an IPv4 service over an IPv6 real server).
  REQUIRE(peer.in([&] {
            got = send_and_capture(AF_INET, "203.0.113.101", AF_INET6, IPPROTO_IPIP);
            return 0;
          }) == 0,
          14);
  REQUIRE(got.size() >= 20 && (got[0] >> 4) == 4 && IpAddress::v4(&got[16]) == ip("203.0.113.101"), 15);
  return 0;
}

int run(int (*body)()) { return test::run_in_private_netns(body); }

TEST(RtnlTunnelKernel, ProbeAgreesWithIproute2) {
  const int rc = run(probe_checks);
  if (rc == test::kNetnsUnavailable) GTEST_SKIP() << "needs root and unshare(CLONE_NEWNET)";
  EXPECT_EQ(rc, 0);
}

TEST(RtnlTunnelKernel, ListUpRouteAndDeleteOnVeth) {
  const int rc = run(link_checks);
  if (rc == test::kNetnsUnavailable) GTEST_SKIP() << "needs root and unshare(CLONE_NEWNET)";
  EXPECT_EQ(rc, 0);
}

TEST(RtnlTunnelKernel, IpipDevice) {
  const int rc = run(ipip_checks);
  if (rc == test::kNetnsUnavailable) GTEST_SKIP() << "needs root and unshare(CLONE_NEWNET)";
  EXPECT_EQ(rc, 0);
}

TEST(RtnlTunnelKernel, Ip6tnlDevice) {
  const int rc = run(ip6tnl_checks);
  if (rc == test::kNetnsUnavailable) GTEST_SKIP() << "needs root and unshare(CLONE_NEWNET)";
  EXPECT_EQ(rc, 0);
}

TEST(RtnlTunnelKernel, DupIntoTheTunnelArrivesEncapsulated) {
  const int rc = run(traffic_checks);
  if (rc == test::kNetnsUnavailable)
    GTEST_SKIP() << "needs root, unshare(CLONE_NEWNET) and a kernel with ipip and ip6_tunnel";
  EXPECT_EQ(rc, 0);
}

}  // namespace
}  // namespace vsd::rtnl
