#include "appliance/daemon/instance_lock.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace vsd {

namespace {

socklen_t abstract_address(const std::string& name, sockaddr_un* a) {
  std::memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  // sun_path[0] = '\0': the abstract namespace; the name follows.
  const std::size_t n = std::min(name.size(), sizeof a->sun_path - 1);
  std::memcpy(a->sun_path + 1, name.data(), n);
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + n);
}

// The pid behind the lock, 0 when it cannot be told.
pid_t holder(const sockaddr_un& a, socklen_t len) {
  // Non-blocking: the holder never accepts, and a full backlog must not
  // make this wait.
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return 0;
  pid_t pid = 0;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), len) == 0) {
    ucred cred{};
    socklen_t cl = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0) pid = cred.pid;
  }
  ::close(fd);
  return pid;
}

}  // namespace

InstanceLock::~InstanceLock() {
  if (fd_ >= 0) ::close(fd_);
}

bool InstanceLock::acquire(std::string* error, const std::string& name) {
  sockaddr_un a;
  const socklen_t len = abstract_address(name, &a);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("cannot make the instance lock socket: ") + std::strerror(errno);
    return false;
  }
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&a), len) != 0 || ::listen(fd, 1) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EADDRINUSE) {
      const pid_t pid = holder(a, len);
      *error = "another vsd" + (pid > 0 ? " (pid " + std::to_string(pid) + ")" : std::string()) +
               " runs on this node (this network namespace): one vsd per node; stop it first "
               "(systemctl stop vsd)";
    } else {
      *error = std::string("cannot take the instance lock (abstract unix socket @") + name + "): " +
               std::strerror(err);
    }
    return false;
  }
  fd_ = fd;
  return true;
}

}  // namespace vsd
