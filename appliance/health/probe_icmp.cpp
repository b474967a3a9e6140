#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <random>

#include "appliance/health/icmp_echo.hpp"
#include "appliance/health/probes.hpp"

namespace vsd::health {

namespace {

class IcmpProbe final : public Probe {
 public:
  IcmpProbe(boost::asio::io_context& io, const IpAddress& destination)
      : Probe(io), destination_(destination), descriptor_(io) {}

 private:
  void begin() override {
    const bool v6 = !destination_.is_v4();
    const int family = v6 ? AF_INET6 : AF_INET;
    const int protocol = v6 ? int{IPPROTO_ICMPV6} : int{IPPROTO_ICMP};
    // A ping socket needs no privilege when ping_group_range allows our
    // group; otherwise a raw socket, which needs CAP_NET_RAW.
    int fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    const int ping_errno = errno;
    if (fd < 0) {
      fd = ::socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
      if (fd < 0)
        return finish(false, std::string("no ICMP socket: ping socket: ") + std::strerror(ping_errno) +
                                 " (see net.ipv4.ping_group_range), raw socket: " + std::strerror(errno) +
                                 " (needs CAP_NET_RAW)");
      raw_ = true;
    }
    descriptor_.assign(fd);

    // Connected: the kernel drops other hosts' messages before we see them.
    sockaddr_storage ss{};
    socklen_t len;
    if (v6) {
      auto* sa = reinterpret_cast<sockaddr_in6*>(&ss);
      sa->sin6_family = AF_INET6;
      std::memcpy(&sa->sin6_addr, destination_.bytes.data(), 16);
      len = sizeof *sa;
    } else {
      auto* sa = reinterpret_cast<sockaddr_in*>(&ss);
      sa->sin_family = AF_INET;
      std::memcpy(&sa->sin_addr, destination_.v4_bytes(), 4);
      len = sizeof *sa;
    }
    if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0)
      return finish(false, std::string("ICMP connect: ") + std::strerror(errno));

    std::random_device rd;
    id_ = static_cast<std::uint16_t>(rd());
    sequence_ = static_cast<std::uint16_t>(rd());
    const std::string request = build_echo_request(v6, id_, sequence_, "vsd-health-check");
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) < 0)
      return finish(false, std::string("ICMP send: ") + std::strerror(errno));
    wait();
  }

  void wait() {
    descriptor_.async_wait(boost::asio::posix::descriptor_base::wait_read,
                           [self = self<IcmpProbe>()](const boost::system::error_code& ec) {
                             if (self->finished()) return;
                             if (ec) return self->finish(false, "ICMP wait: " + ec.message());
                             self->read();
                           });
  }

  void read() {
    const bool v6 = !destination_.is_v4();
    for (;;) {
      ssize_t n = ::recv(descriptor_.native_handle(), buffer_.data(), buffer_.size(), MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return wait();
        return finish(false, std::string("ICMP receive: ") + std::strerror(errno));
      }
      auto m = parse_icmp(v6, raw_, std::string_view(buffer_.data(), static_cast<std::size_t>(n)));
      if (!m) continue;
      // A ping socket picks the id itself and only passes our own replies.
      const bool ours = m->sequence == sequence_ && (!raw_ || m->id == id_);
      if (!ours) continue;
      if (m->kind == IcmpMessage::Kind::echo_reply) return finish(true, "echo reply");
      if (m->kind == IcmpMessage::Kind::error)
        return finish(false, "ICMP error type " + std::to_string(m->type) + " code " + std::to_string(m->code) +
                                 " (unreachable or time exceeded)");
    }
  }

  std::string timeout_reason() const override {
    return "no echo reply within " + std::to_string(timeout_.count()) + " ms";
  }

  void stop_io() override {
    boost::system::error_code ignored;
    descriptor_.close(ignored);
  }

  IpAddress destination_;
  boost::asio::posix::stream_descriptor descriptor_;
  bool raw_ = false;
  std::uint16_t id_ = 0, sequence_ = 0;
  std::array<char, 2048> buffer_{};
};

}  // namespace

std::shared_ptr<Probe> make_icmp_probe(boost::asio::io_context& io, const IpAddress& destination) {
  return std::make_shared<IcmpProbe>(io, destination);
}

}  // namespace vsd::health
