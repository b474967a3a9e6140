#include "arp/packet_socket_sender.hpp"

#include <linux/if_packet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace vsd::arp {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

void set(std::string* error, std::string text) {
  if (error) *error = std::move(text);
}

}  // namespace

bool read_interface(const std::string& name, InterfaceInfo* out, std::string* error) {
  if (name.empty() || name.size() >= IFNAMSIZ) {
    set(error, "interface name \"" + name + "\" must be 1 to " + std::to_string(IFNAMSIZ - 1) +
                   " characters");
    return false;
  }
  const unsigned index = if_nametoindex(name.c_str());
  if (index == 0) {
    set(error, "interface \"" + name + "\" not found (" + errno_text(errno) +
                   "): check the name with `ip link show`, and that vsd runs in the network "
                   "namespace that has it");
    return false;
  }
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    set(error, "socket(AF_INET) for SIOCGIFHWADDR failed: " + errno_text(errno));
    return false;
  }
  ifreq req{};
  std::memcpy(req.ifr_name, name.c_str(), name.size() + 1);
  const int rc = ::ioctl(fd, SIOCGIFHWADDR, &req);
  const int err = errno;
  ::close(fd);
  if (rc != 0) {
    set(error, "cannot read the MAC address of \"" + name + "\" (SIOCGIFHWADDR: " +
                   errno_text(err) + ")");
    return false;
  }
  if (req.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
    set(error, "interface \"" + name + "\" is not Ethernet (hardware type " +
                   std::to_string(req.ifr_hwaddr.sa_family) +
                   "): gratuitous ARP and neighbour advertisements need an Ethernet interface");
    return false;
  }
  out->ifindex = static_cast<int>(index);
  std::memcpy(out->mac.data(), req.ifr_hwaddr.sa_data, 6);
  return true;
}

PacketSocketSender::~PacketSocketSender() {
  if (fd_ >= 0) ::close(fd_);
}

PacketSocketSender::PacketSocketSender(PacketSocketSender&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)) {}

PacketSocketSender& PacketSocketSender::operator=(PacketSocketSender&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

bool PacketSocketSender::open(std::string* error) {
  if (fd_ >= 0) return true;
  // Protocol 0: the socket receives nothing, so no receive queue fills up.
  fd_ = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    const int err = errno;
    std::string text = "socket(AF_PACKET, SOCK_RAW) failed: " + errno_text(err);
    if (err == EPERM || err == EACCES)
      text += ": sending gratuitous ARP needs CAP_NET_RAW (run vsd as root, or add "
              "CAP_NET_RAW to AmbientCapabilities= in its systemd unit)";
    else if (err == EAFNOSUPPORT)
      text += ": the kernel lacks packet socket support (CONFIG_PACKET)";
    set(error, std::move(text));
    return false;
  }
  return true;
}

bool PacketSocketSender::send(int ifindex, std::span<const std::uint8_t> frame,
                              std::string* error) {
  if (fd_ < 0) {
    set(error, "packet socket not open: call open() first");
    return false;
  }
  if (frame.size() < 14) {
    set(error, "frame of " + std::to_string(frame.size()) +
                   " bytes is shorter than an Ethernet header");
    return false;
  }
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = ifindex;
  std::memcpy(&to.sll_protocol, frame.data() + 12, 2);  // network order already
  to.sll_halen = 6;
  std::memcpy(to.sll_addr, frame.data(), 6);
  const ssize_t n = ::sendto(fd_, frame.data(), frame.size(), 0,
                             reinterpret_cast<const sockaddr*>(&to), sizeof to);
  if (n == static_cast<ssize_t>(frame.size())) return true;
  if (n >= 0) {
    set(error, "short send on interface index " + std::to_string(ifindex) + ": " +
                   std::to_string(n) + " of " + std::to_string(frame.size()) + " bytes");
    return false;
  }
  const int err = errno;
  std::string text = "sending a " + std::to_string(frame.size()) + "-byte frame on interface index " +
                     std::to_string(ifindex) + " failed: " + errno_text(err);
  if (err == ENETDOWN)
    text += ": the interface is down (`ip link set dev NAME up`)";
  else if (err == ENXIO || err == ENODEV)
    text += ": the interface is gone; re-read it by name (`ip link show`)";
  else if (err == EPERM || err == EACCES)
    text += ": an nftables/netdev egress rule or an LSM refused it";
  set(error, std::move(text));
  return false;
}

}  // namespace vsd::arp
