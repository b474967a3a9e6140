#include "nfq/transmitter.hpp"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vsd::nfq {

namespace {

int open_socket(int domain, int type, int proto, std::string* error, const char* what) {
  int fd = ::socket(domain, type | SOCK_CLOEXEC | SOCK_NONBLOCK, proto);
  if (fd < 0) {
    *error = std::string("cannot open the ") + what + " socket: " + std::strerror(errno) +
             " (vsd needs CAP_NET_RAW to send DR/TUN packets)";
    return -1;
  }
  // Room for bursts: a full send buffer drops the packet (counted). FORCE
  // passes net.core.wmem_max (often 208 KiB), as the queue socket does.
  int size = 4 << 20;
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) < 0)
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  return fd;
}

}  // namespace

Transmitter::~Transmitter() {
  for (int fd : {raw4_, raw6_, packet_})
    if (fd >= 0) ::close(fd);
}

bool Transmitter::open(std::string* error) {
  raw4_ = open_socket(AF_INET, SOCK_RAW, IPPROTO_RAW, error, "raw IPv4");
  if (raw4_ < 0) return false;
  // IPv6 IPPROTO_RAW implies IPV6_HDRINCL (Linux >= 4.5).
  raw6_ = open_socket(AF_INET6, SOCK_RAW, IPPROTO_RAW, error, "raw IPv6");
  if (raw6_ < 0) return false;
  packet_ = open_socket(AF_PACKET, SOCK_DGRAM, 0, error, "packet");
  return packet_ >= 0;
}

bool Transmitter::done(long rc, const IpAddress& dst, std::size_t len) {
  if (rc >= 0) {
    counters_.sent.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  const int err = errno;
  counters_.errors.fetch_add(1, std::memory_order_relaxed);
  counters_.last_errno.store(err, std::memory_order_relaxed);
  std::lock_guard lock(failure_mutex_);  // failures only: off the packets' normal path
  failure_ = {dst, len, err};
  return false;
}

TransmitFailure Transmitter::last_failure() const {
  std::lock_guard lock(failure_mutex_);
  return failure_;
}

bool Transmitter::send_ip(const std::uint8_t* data, std::size_t len, const IpAddress& dst,
                          bool v6) {
  if (v6) {
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    std::memcpy(&sa.sin6_addr, dst.bytes.data(), 16);
    return done(::sendto(raw6_, data, len, 0, reinterpret_cast<const sockaddr*>(&sa), sizeof sa), dst, len);
  }
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  std::memcpy(&sa.sin_addr, dst.bytes.data() + 12, 4);
  return done(::sendto(raw4_, data, len, 0, reinterpret_cast<const sockaddr*>(&sa), sizeof sa), dst, len);
}

bool Transmitter::send_frame(int ifindex, const std::array<std::uint8_t, 6>& mac, bool v6,
                             const std::uint8_t* data, std::size_t len, const IpAddress& rip) {
  sockaddr_ll sa{};
  sa.sll_family = AF_PACKET;
  sa.sll_protocol = htons(v6 ? ETH_P_IPV6 : ETH_P_IP);
  sa.sll_ifindex = ifindex;
  sa.sll_halen = 6;
  std::memcpy(sa.sll_addr, mac.data(), 6);
  return done(::sendto(packet_, data, len, 0, reinterpret_cast<const sockaddr*>(&sa), sizeof sa), rip,
              len);
}

}  // namespace vsd::nfq
