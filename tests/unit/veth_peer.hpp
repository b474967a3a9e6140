// A veth pair between the test's private network namespace (see
// private_netns.hpp) and a second one held by a child process, so that ARP
// and neighbour discovery really cross a link: within one namespace the
// kernel would answer its own addresses locally. The second namespace has no
// name in /run/netns; it vanishes when its child exits, which happens when
// the PeerNetns is destroyed or the test process dies (the child waits for
// EOF on a pipe). Call only from the child that run_in_private_netns runs.
//
// Layout (addresses from RFC 5737 / RFC 3849, MACs from RFC 7042):
//   this namespace:  vsdt0 00:00:5e:00:53:01 mtu 1480, 192.0.2.1/24, 2001:db8::1/64
//                    203.0.113.0/24 via 192.0.2.2 mtu 1400, 2001:db8:ffff::/48 via 2001:db8::2
//   peer namespace:  vsdt1 00:00:5e:00:53:02, 192.0.2.2/24, 2001:db8::2/64
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <string>

#include "private_netns.hpp"

namespace vsd::test {

inline constexpr const char* kLocalIf = "vsdt0";
inline constexpr const char* kPeerIf = "vsdt1";

// Writes a /proc/sys value in the calling thread's network namespace.
inline bool write_proc(const std::string& path, const char* value) {
  std::ofstream f(path);
  f << value;
  f.flush();
  if (!f) std::fprintf(stderr, "cannot write %s to %s\n", value, path.c_str());
  return static_cast<bool>(f);
}

class PeerNetns {
 public:
  PeerNetns() = default;
  PeerNetns(const PeerNetns&) = delete;
  PeerNetns& operator=(const PeerNetns&) = delete;
  ~PeerNetns() {
    if (hold_ >= 0) ::close(hold_);  // the child reads EOF and exits
    if (pid_ > 0) waitpid(pid_, nullptr, 0);
    for (int fd : {peer_ns_, home_ns_})
      if (fd >= 0) ::close(fd);
  }

  bool start() {
    int ready[2], hold[2];
    if (pipe(ready) != 0 || pipe(hold) != 0) return false;
    std::fflush(nullptr);
    pid_ = fork();
    if (pid_ < 0) return false;
    if (pid_ == 0) {
      ::close(ready[0]);
      ::close(hold[1]);
      if (unshare(CLONE_NEWNET) != 0) _exit(1);
      char c = 'r';
      if (::write(ready[1], &c, 1) != 1) _exit(2);
      while (::read(hold[0], &c, 1) > 0) {
      }
      _exit(0);
    }
    ::close(ready[1]);
    ::close(hold[0]);
    hold_ = hold[1];
    char c = 0;
    const bool up = ::read(ready[0], &c, 1) == 1;
    ::close(ready[0]);
    if (!up) return false;
    peer_ns_ = ::open(("/proc/" + std::to_string(pid_) + "/ns/net").c_str(), O_RDONLY | O_CLOEXEC);
    home_ns_ = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    return peer_ns_ >= 0 && home_ns_ >= 0;
  }

  pid_t pid() const { return pid_; }

  // Runs `body` with this (single-threaded) process in the peer namespace:
  // sockets it opens and commands it runs belong there. Returns body's
  // result, or 90 when switching namespaces fails.
  int in(const std::function<int()>& body) {
    if (setns(peer_ns_, CLONE_NEWNET) != 0) return 90;
    const int rc = body();
    if (setns(home_ns_, CLONE_NEWNET) != 0) return 90;
    return rc;
  }

 private:
  pid_t pid_ = -1;
  int hold_ = -1, peer_ns_ = -1, home_ns_ = -1;
};

// Builds the layout above; 0 or a code from 60 on.
inline int make_veth_pair(PeerNetns& peer) {
  // No DAD on the new links: their link-local addresses, which neighbour
  // solicitations are sent from, are usable at once.
  if (!write_proc("/proc/sys/net/ipv6/conf/default/accept_dad", "0")) return 60;
  if (!peer.start()) return 61;
  if (peer.in([] { return write_proc("/proc/sys/net/ipv6/conf/default/accept_dad", "0") ? 0 : 1; }))
    return 62;
  const std::string move = "ip link set vsdt1 netns " + std::to_string(peer.pid());
  if (!sh("ip link set lo up") || !sh("ip link add vsdt0 type veth peer name vsdt1") ||
      !sh(move.c_str()))
    return 63;
  const int rc = peer.in([] {
    return sh("ip link set lo up") && sh("ip link set vsdt1 address 00:00:5e:00:53:02 up") &&
                   sh("ip addr add 192.0.2.2/24 dev vsdt1") &&
                   sh("ip -6 addr add 2001:db8::2/64 dev vsdt1 nodad")
               ? 0
               : 1;
  });
  if (rc != 0) return 64;
  if (!sh("ip link set vsdt0 address 00:00:5e:00:53:01 mtu 1480 up") ||
      !sh("ip addr add 192.0.2.1/24 dev vsdt0") ||
      !sh("ip -6 addr add 2001:db8::1/64 dev vsdt0 nodad") ||
      !sh("ip route add 203.0.113.0/24 via 192.0.2.2 mtu 1400") ||
      !sh("ip -6 route add 2001:db8:ffff::/48 via 2001:db8::2"))
    return 65;
  // IPv6 brings an address (and its local route) up only once the link
  // has carrier, which linkwatch reports later, on a busy machine late:
  // wait for it (bounded, 5 s).
  for (int i = 0; i < 100; ++i) {
    if (sh("ip -6 route show table local 2001:db8::1 | grep -q local")) return 0;
    ::usleep(50 * 1000);
  }
  return 66;
}

}  // namespace vsd::test
