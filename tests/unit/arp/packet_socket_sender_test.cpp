// The packet-socket adapter against a real kernel: a veth pair in a private
// network namespace; the frames sent on one end are captured on the other.
#include "arp/packet_socket_sender.hpp"

#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include "private_netns.hpp"

namespace vsd::arp {
namespace {

const MacAddress kMac = {0x00, 0x00, 0x5e, 0x00, 0x53, 0x01};  // RFC 7042

// Opens a socket that sees every frame arriving on `ifname`.
int capture_socket(const char* ifname) {
  const int fd = ::socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  if (fd < 0) return -1;
  sockaddr_ll at{};
  at.sll_family = AF_PACKET;
  at.sll_protocol = htons(ETH_P_ALL);
  at.sll_ifindex = static_cast<int>(if_nametoindex(ifname));
  timeval tv{2, 0};
  if (::bind(fd, reinterpret_cast<sockaddr*>(&at), sizeof at) != 0 ||
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Waits for `want` among the frames arriving (the kernel sends its own IPv6
// DAD and MLD traffic on a new link, which is skipped).
bool captured(int fd, const std::vector<std::uint8_t>& want) {
  std::uint8_t buf[2048];
  for (int i = 0; i < 50; ++i) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0) return false;  // timeout
    if (static_cast<std::size_t>(n) == want.size() && std::memcmp(buf, want.data(), want.size()) == 0)
      return true;
  }
  return false;
}

int send_and_capture() {
  if (!test::sh("ip link add vsdt0 type veth peer name vsdt1") ||
      !test::sh("ip link set vsdt0 address 00:00:5e:00:53:01 up") ||
      !test::sh("ip link set vsdt1 up"))
    return 10;
  std::string error;
  InterfaceInfo info;
  if (!read_interface("vsdt0", &info, &error)) {
    std::fprintf(stderr, "read_interface: %s\n", error.c_str());
    return 11;
  }
  if (info.mac != kMac || info.ifindex != static_cast<int>(if_nametoindex("vsdt0"))) return 12;
  const int cap = capture_socket("vsdt1");
  if (cap < 0) return 13;
  PacketSocketSender sender;
  if (!sender.open(&error)) {
    std::fprintf(stderr, "open: %s\n", error.c_str());
    return 14;
  }
  for (const char* vip : {"192.0.2.10", "2001:db8::10"}) {
    std::vector<std::uint8_t> frame(kUnsolicitedNaFrameLen);
    frame.resize(build_announcement(info.mac, *IpAddress::parse(vip), frame));
    if (!sender.send(info.ifindex, frame, &error)) {
      std::fprintf(stderr, "send: %s\n", error.c_str());
      return 15;
    }
    if (!captured(cap, frame)) {
      std::fprintf(stderr, "frame for %s not seen on the peer\n", vip);
      return 16;
    }
  }
  // A down interface: the error says so.
  if (!test::sh("ip link set vsdt0 down")) return 17;
  std::vector<std::uint8_t> frame(kGarpFrameLen);
  build_gratuitous_arp(info.mac, *IpAddress::parse("192.0.2.10"), frame);
  if (sender.send(info.ifindex, frame, &error) || error.find("down") == std::string::npos) {
    std::fprintf(stderr, "sending on a down link: %s\n", error.c_str());
    return 18;
  }
  ::close(cap);
  return 0;
}

TEST(PacketSocketSender, SendsAnnouncementsOverVeth) {
  const int rc = test::run_in_private_netns(send_and_capture);
  if (rc == test::kNetnsUnavailable) GTEST_SKIP() << "needs root and unshare(CLONE_NEWNET)";
  EXPECT_EQ(rc, 0);
}

TEST(PacketSocketSender, ErrorsSayWhatToCheck) {
  std::string error;
  InterfaceInfo info;
  EXPECT_FALSE(read_interface("vsd-nosuch0", &info, &error));
  EXPECT_NE(error.find("ip link show"), std::string::npos) << error;
  EXPECT_FALSE(read_interface("", &info, &error));
  EXPECT_FALSE(read_interface("a-name-far-too-long-for-linux", &info, &error));
  EXPECT_NE(error.find("characters"), std::string::npos) << error;
  // lo is not Ethernet (every namespace has one).
  EXPECT_FALSE(read_interface("lo", &info, &error));
  EXPECT_NE(error.find("not Ethernet"), std::string::npos) << error;
  PacketSocketSender closed;
  std::vector<std::uint8_t> frame(kGarpFrameLen);
  EXPECT_FALSE(closed.send(1, frame, &error));
  EXPECT_NE(error.find("open()"), std::string::npos) << error;
  PacketSocketSender s;
  if (!s.open(&error)) GTEST_SKIP() << error;  // no CAP_NET_RAW here
  EXPECT_FALSE(s.send(1, std::span(frame).first(13), &error));
  EXPECT_NE(error.find("Ethernet header"), std::string::npos) << error;
  PacketSocketSender moved(std::move(s));
  EXPECT_TRUE(moved.is_open());
  EXPECT_FALSE(s.is_open());  // NOLINT(bugprone-use-after-move): the moved-from state is defined
}

}  // namespace
}  // namespace vsd::arp
