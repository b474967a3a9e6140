// The announcer: its log lines, and its frames as a neighbour really
// receives them over a veth pair into a second namespace (veth_peer.hpp).
#include "arp/announcer.hpp"

#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "nfq/rtnl_socket.hpp"
#include "veth_peer.hpp"

namespace vsd::arp {
namespace {

IpAddress ip(const char* s) { return *IpAddress::parse(s); }

const MacAddress kMac = {0x00, 0x00, 0x5e, 0x00, 0x53, 0x01};  // vsdt0, RFC 7042

using Lines = std::vector<std::pair<int, std::string>>;

Announcer::Log collect(Lines* lines) {
  return [lines](int level, const std::string& line) { lines->emplace_back(level, line); };
}

bool contains(const std::string& text, const char* needle) {
  return text.find(needle) != std::string::npos;
}

TEST(AnnouncerText, MacAndWarnings) {
  EXPECT_EQ(mac_to_string({0x02, 0xab, 0x00, 0x5e, 0x53, 0xff}),
            "02:ab:00:5e:53:ff");
  EXPECT_EQ(announcer_detail::not_held_line(ip("198.51.100.250"), {}),
            "VIP 198.51.100.250 is on no Ethernet interface of this node, so nothing announces "
            "it: add it: ip addr add 198.51.100.250/32 dev IFACE (IFACE: the interface that "
            "faces the clients)");
  EXPECT_EQ(announcer_detail::not_held_line(ip("2001:db8::10"), {"lo"}),
            "VIP 2001:db8::10 is on no Ethernet interface of this node (only on lo, which cannot "
            "carry ARP / neighbour advertisements), so nothing announces it: add it: ip addr add "
            "2001:db8::10/128 dev IFACE nodad (IFACE: the interface that faces the clients)");
}

// Needs no privilege: a VIP that no interface here holds is only reported
// (the netlink address dump is read-only, nothing is sent).
TEST(Announcer, WarnsForVipHeldNowhere) {
  boost::asio::io_context io;
  Lines lines;
  Announcer announcer(io, collect(&lines));
  EXPECT_EQ(announcer.announce({}, {}), 0u);
  EXPECT_TRUE(lines.empty());
  EXPECT_EQ(announcer.announce({ip("198.51.100.250")}, {}), 0u);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].first, Announcer::kWarn);
  EXPECT_TRUE(contains(lines[0].second, "ip addr add 198.51.100.250/32 dev IFACE")) << lines[0].second;
  EXPECT_EQ(io.run(), 0u);  // nothing scheduled
}

// A socket that sees every frame arriving on `ifname` (in the calling
// thread's namespace).
int capture_socket(const char* ifname) {
  const int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
  if (fd < 0) return -1;
  sockaddr_ll at{};
  at.sll_family = AF_PACKET;
  at.sll_protocol = htons(ETH_P_ALL);
  at.sll_ifindex = static_cast<int>(if_nametoindex(ifname));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&at), sizeof at) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// The frames received until none came for 200 ms.
std::vector<std::vector<std::uint8_t>> drain(int fd) {
  std::vector<std::vector<std::uint8_t>> frames;
  pollfd p{fd, POLLIN, 0};
  while (::poll(&p, 1, 200) == 1) {
    std::vector<std::uint8_t> buf(2048);
    sockaddr_ll from{};
    socklen_t len = sizeof from;
    const ssize_t n = ::recvfrom(fd, buf.data(), buf.size(), MSG_DONTWAIT,
                                 reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) break;
    if (from.sll_pkttype == PACKET_OUTGOING) continue;  // the peer's own
    buf.resize(static_cast<std::size_t>(n));
    frames.push_back(std::move(buf));
  }
  return frames;
}

bool equal(const std::vector<std::uint8_t>& f, std::size_t at, const std::uint8_t* want,
           std::size_t n) {
  return f.size() >= at + n && std::memcmp(f.data() + at, want, n) == 0;
}

// A gratuitous ARP request for `vip` from kMac, field by field.
bool is_garp(const std::vector<std::uint8_t>& f, const IpAddress& vip) {
  static constexpr std::uint8_t broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  static constexpr std::uint8_t arp[2] = {0x08, 0x06}, request[2] = {0x00, 0x01};
  return equal(f, 0, broadcast, 6) && equal(f, 6, kMac.data(), 6) && equal(f, 12, arp, 2) &&
         equal(f, 20, request, 2) && equal(f, 22, kMac.data(), 6) &&  // sender MAC
         equal(f, 28, vip.v4_bytes(), 4) &&                          // sender IP
         equal(f, 38, vip.v4_bytes(), 4);                            // target IP
}

// The NA flags byte of an unsolicited NA for `vip` from kMac, or -1.
int na_flags(const std::vector<std::uint8_t>& f, const IpAddress& vip) {
  static constexpr std::uint8_t ipv6[2] = {0x86, 0xdd};
  constexpr std::size_t na = 14 + 40;
  if (!equal(f, 6, kMac.data(), 6) || !equal(f, 12, ipv6, 2) || f.size() < na + 32 ||
      f[14 + 6] != 58 || f[na] != 136 || !equal(f, 14 + 8, vip.bytes.data(), 16) ||
      !equal(f, na + 8, vip.bytes.data(), 16) || f[na + 24] != 2 || !equal(f, na + 26, kMac.data(), 6))
    return -1;
  return f[na + 4];
}

std::size_t count_garps(const std::vector<std::vector<std::uint8_t>>& frames, const char* vip) {
  std::size_t n = 0;
  for (const auto& f : frames) n += is_garp(f, ip(vip));
  return n;
}

std::size_t count_nas(const std::vector<std::vector<std::uint8_t>>& frames, const char* vip,
                      int flags) {
  std::size_t n = 0;
  for (const auto& f : frames) n += na_flags(f, ip(vip)) == flags;
  return n;
}

#define REQUIRE(cond, code)                                                     \
  do {                                                                          \
    if (!(cond)) {                                                              \
      std::fprintf(stderr, "%s:%d: %s failed\n", __FILE__, __LINE__, #cond);    \
      for (const auto& [level, line] : lines)                                   \
        std::fprintf(stderr, "  log %d: %s\n", level, line.c_str());           \
      return code;                                                              \
    }                                                                           \
  } while (0)

int announce_checks() {
  test::PeerNetns peer;
  if (const int rc = test::make_veth_pair(peer)) return rc;
  const int vsdt0 = static_cast<int>(if_nametoindex(test::kLocalIf));
  const int lo = static_cast<int>(if_nametoindex("lo"));
  Lines lines;
  std::string error;
  bool existed = false;
  REQUIRE(rtnl::address_add(vsdt0, ip("192.0.2.10"), 32, &existed, &error), 1);
  REQUIRE(rtnl::address_add(vsdt0, ip("2001:db8::10"), 128, &existed, &error), 2);
  REQUIRE(rtnl::address_add(lo, ip("203.0.113.7"), 32, &existed, &error), 3);
  int cap = -1;
  REQUIRE(peer.in([&] { return (cap = capture_socket(test::kPeerIf)) >= 0 ? 0 : 1; }) == 0, 4);
  drain(cap);  // what the link carried so far

  boost::asio::io_context io;
  Announcer announcer(io, collect(&lines));
  REQUIRE(announcer.announce({ip("192.0.2.10"), ip("2001:db8::10"), ip("203.0.113.7"),
                              ip("198.51.100.99"), ip("192.0.2.10")},
                             {3, std::chrono::milliseconds(50)}) == 2,
          10);
  // Logged at once; nothing is sent before the io_context runs.
  REQUIRE(count_garps(drain(cap), "192.0.2.10") == 0, 11);
  REQUIRE(lines.size() == 4, 12);
  REQUIRE(lines[0] == Lines::value_type(Announcer::kInfo,
                                        "gratuitous ARP for VIP 192.0.2.10 on vsdt0 "
                                        "(00:00:5e:00:53:01) x3"),
          13);
  REQUIRE(lines[1] == Lines::value_type(Announcer::kInfo,
                                        "unsolicited neighbour advertisement for VIP 2001:db8::10 "
                                        "on vsdt0 (00:00:5e:00:53:01) x3"),
          14);
  REQUIRE(lines[2].first == Announcer::kWarn && contains(lines[2].second, "only on lo") &&
              contains(lines[2].second, "ip addr add 203.0.113.7/32 dev IFACE"),
          15);
  REQUIRE(lines[3].first == Announcer::kWarn &&
              contains(lines[3].second, "ip addr add 198.51.100.99/32 dev IFACE"),
          16);
  const auto start = std::chrono::steady_clock::now();
  io.run();
  const auto took = std::chrono::steady_clock::now() - start;
  REQUIRE(took >= std::chrono::milliseconds(100), 17);  // two intervals between three frames
  auto frames = drain(cap);
  REQUIRE(count_garps(frames, "192.0.2.10") == 3, 18);
  REQUIRE(count_nas(frames, "2001:db8::10", 0x20) == 3, 19);  // Override, not Router
  REQUIRE(lines.size() == 4, 20);                               // no send errors
  std::fprintf(stderr, "3 frames x 2 VIPs, 50 ms apart: io.run() returned after %lld ms\n",
               static_cast<long long>(
                   std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));

  // A forwarding interface: the NA carries the Router flag.
  REQUIRE(test::write_proc("/proc/sys/net/ipv6/conf/vsdt0/forwarding", "1"), 21);
  lines.clear();
  REQUIRE(announcer.announce({ip("2001:db8::10")}, {1, std::chrono::milliseconds(10)}) == 1, 22);
  REQUIRE(lines.size() == 1 && contains(lines[0].second, "x1, Router flag set"), 23);
  io.restart();
  io.run();
  frames = drain(cap);
  REQUIRE(count_nas(frames, "2001:db8::10", 0xa0) == 1 && count_nas(frames, "2001:db8::10", 0x20) == 0,
          24);
  REQUIRE(test::write_proc("/proc/sys/net/ipv6/conf/vsdt0/forwarding", "0"), 25);

  // cancel() after the first frame stops the rest.
  REQUIRE(announcer.announce({ip("192.0.2.10")}, {5, std::chrono::milliseconds(20)}) == 1, 30);
  io.restart();
  REQUIRE(io.run_one() == 1, 31);
  announcer.cancel();
  io.run();
  REQUIRE(count_garps(drain(cap), "192.0.2.10") == 1, 32);

  // A new announcement replaces the repeats pending for the same VIP.
  REQUIRE(announcer.announce({ip("192.0.2.10")}, {5, std::chrono::milliseconds(20)}) == 1, 33);
  io.restart();
  REQUIRE(io.run_one() == 1, 34);
  REQUIRE(announcer.announce({ip("192.0.2.10")}, {2, std::chrono::milliseconds(20)}) == 1, 35);
  io.run();
  REQUIRE(count_garps(drain(cap), "192.0.2.10") == 3, 36);

  // An Announcer destroyed with frames pending sends none of them later.
  lines.clear();
  {
    Announcer gone(io, collect(&lines));
    REQUIRE(gone.announce({ip("192.0.2.10")}, {3, std::chrono::milliseconds(10)}) == 1, 40);
  }
  io.restart();
  io.run();
  REQUIRE(count_garps(drain(cap), "192.0.2.10") == 0 && lines.size() == 1, 41);

  // An IPv6 VIP still under DAD is not announced (RFC 4862 5.4).
  REQUIRE(test::write_proc("/proc/sys/net/ipv6/conf/vsdt0/accept_dad", "1"), 45);
  REQUIRE(test::sh("ip -6 addr add 2001:db8::11/128 dev vsdt0"), 46);
  lines.clear();
  REQUIRE(announcer.announce({ip("2001:db8::11")}, {}) == 0, 47);
  REQUIRE(lines.size() == 1 && lines[0].first == Announcer::kWarn &&
              contains(lines[0].second, "VIP 2001:db8::11 on vsdt0 is tentative"),
          48);

  // Send errors are logged with VIP and interface, once per burst.
  REQUIRE(test::sh("ip link set vsdt0 down"), 50);
  lines.clear();
  REQUIRE(announcer.announce({ip("192.0.2.10")}, {2, std::chrono::milliseconds(10)}) == 1, 51);
  io.restart();
  io.run();
  REQUIRE(lines.size() == 2 && lines[1].first == Announcer::kWarn, 52);
  REQUIRE(contains(lines[1].second,
                   "sending gratuitous ARP for VIP 192.0.2.10 on vsdt0 failed (frame 1 of 2)") &&
              contains(lines[1].second, "down"),
          53);
  ::close(cap);
  return 0;
}

TEST(Announcer, AnnouncesOverVeth) {
  const int rc = test::run_in_private_netns(announce_checks);
  if (rc == test::kNetnsUnavailable) GTEST_SKIP() << "needs root and unshare(CLONE_NEWNET)";
  EXPECT_EQ(rc, 0);
}

}  // namespace
}  // namespace vsd::arp
