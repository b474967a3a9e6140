#include "nfq/nft_events.hpp"

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>

#include <atomic>
#include <cerrno>
#include <ctime>
#include <memory>
#include <system_error>

#include "nfq/rtnl_message.hpp"  // walk_reply / Ack

namespace vsd::kstate {
namespace {

[[noreturn]] void fail(int err, const std::string& what) {
  std::string hint;
  if (err == EPERM || err == EACCES) hint = ": needs CAP_NET_ADMIN (run vsd as root)";
  if (err == EPROTONOSUPPORT || err == EOPNOTSUPP) hint = ": the kernel has no nf_tables";
  throw std::system_error(err, std::generic_category(), what + hint);
}

std::uint32_t next_seq() {
  static std::atomic<std::uint32_t> seq{static_cast<std::uint32_t>(std::time(nullptr))};
  return ++seq;
}

using Socket = std::unique_ptr<mnl_socket, int (*)(mnl_socket*)>;

Socket open_socket(const std::string& what, int flags) {
  mnl_socket* nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | flags);
  if (!nl) fail(errno, what + ": cannot open a netfilter netlink socket");
  Socket s(nl, mnl_socket_close);
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
    fail(errno, what + ": cannot bind the netfilter netlink socket");
  return s;
}

// One request, its answer's messages to on_message, the final ack.
rtnl::Ack ask(const std::string& what, const std::uint8_t* req, std::size_t len,
              const std::function<bool(const nlmsghdr*)>& on_message) {
  Socket nl = open_socket(what, 0);
  timeval tv{5, 0};
  setsockopt(mnl_socket_get_fd(nl.get()), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (mnl_socket_sendto(nl.get(), req, len) < 0) fail(errno, what + ": sending the request failed");
  const std::uint32_t seq = reinterpret_cast<const nlmsghdr*>(req)->nlmsg_seq;
  const std::uint32_t portid = mnl_socket_get_portid(nl.get());
  std::vector<std::uint8_t> buf(MNL_SOCKET_BUFFER_SIZE);
  rtnl::Ack ack;
  for (;;) {
    const ssize_t n = mnl_socket_recvfrom(nl.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) fail(ETIMEDOUT, what + ": no answer from nftables within 5 s");
      fail(errno, what + ": receiving the answer failed");
    }
    switch (rtnl::walk_reply({buf.data(), static_cast<std::size_t>(n)}, seq, portid, on_message, &ack)) {
      case rtnl::Walk::done: return ack;
      case rtnl::Walk::bad: fail(EPROTO, what + ": malformed answer from nftables");
      case rtnl::Walk::more: break;
    }
  }
}

}  // namespace

NftEvents::NftEvents() : buf_(1 << 16) {
  Socket s = open_socket("nftables notifications", SOCK_NONBLOCK);
  const int fd = mnl_socket_get_fd(s.get());
  int group = NFNLGRP_NFTABLES;
  if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) < 0)
    fail(errno, "cannot subscribe to nftables notifications (NFNLGRP_NFTABLES)");
  // vsd's own ruleset installs notify one message per rule and element:
  // room for a large one. FORCE works for root.
  int bytes = 4 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) < 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  nl_ = s.release();
}

NftEvents::~NftEvents() {
  if (nl_) mnl_socket_close(nl_);
}

int NftEvents::fd() const { return mnl_socket_get_fd(nl_); }

bool NftEvents::read(const std::function<void(const NftEvent&)>& fn) {
  bool complete = true;
  for (;;) {
    const ssize_t n = mnl_socket_recvfrom(nl_, buf_.data(), buf_.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return complete;
      if (errno == ENOBUFS) {
        complete = false;
        continue;
      }
      fail(errno, "reading nftables notifications failed");
    }
    int len = static_cast<int>(n);
    for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buf_.data()); mnl_nlmsg_ok(nlh, len);
         nlh = mnl_nlmsg_next(nlh, &len)) {
      NftEvent e;
      if (parse_nft_event(nlh, &e)) fn(e);
    }
  }
}

bool table_exists(std::uint8_t family, const std::string& table) {
  alignas(nlmsghdr) std::uint8_t req[kNftEventRequestSize];
  const std::string what = "looking for table " + nft_family_name(family) + " " + table;
  const std::size_t len = build_get_table(req, sizeof req, next_seq(), family, table);
  if (!len) fail(EINVAL, what + ": invalid table name");
  bool seen = false;
  const rtnl::Ack ack = ask(what, req, len, [&seen](const nlmsghdr*) {
    seen = true;
    return true;
  });
  if (ack.error == -ENOENT) return false;
  if (ack.error) fail(-ack.error, what);
  return seen || ack.error == 0;
}

std::uint32_t ruleset_generation() {
  alignas(nlmsghdr) std::uint8_t req[kNftEventRequestSize];
  const std::size_t len = build_get_generation(req, sizeof req, next_seq());
  std::uint32_t gen = 0;
  const rtnl::Ack ack = ask("reading the nftables generation", req, len, [&gen](const nlmsghdr* nlh) {
    NftEvent e;
    if (parse_nft_event(nlh, &e) && e.kind == NftEvent::Kind::generation) gen = e.generation;
    return true;
  });
  if (ack.error) fail(-ack.error, "reading the nftables generation");
  return gen;
}

}  // namespace vsd::kstate
