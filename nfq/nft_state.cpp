#include "nfq/nft_state.hpp"

#include <libmnl/libmnl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <system_error>

#include "nfq/rtnl_message.hpp"  // walk_reply / Ack: netlink's generic request-answer end

namespace vsd::kstate {
namespace {

constexpr int kTimeoutSeconds = 5;
constexpr std::size_t kKeysPerTransaction = 2000;

[[noreturn]] void fail(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what);
}

std::uint32_t next_seq() {
  static std::atomic<std::uint32_t> seq{static_cast<std::uint32_t>(std::time(nullptr)) << 12};
  return seq.fetch_add(1u << 13) + (1u << 13);  // room for a batch of messages per call
}

std::string advice(int err) {
  switch (err) {
    case EPERM:
    case EACCES: return ": needs CAP_NET_ADMIN (run vsd as root)";
    case EOPNOTSUPP:
    case EPROTONOSUPPORT: return ": the kernel has no nf_tables (modprobe nf_tables)";
    default: return "";
  }
}

// The kernel's reason in words, when it sent one (extended ack); the errno
// text itself comes last in std::system_error's what().
std::string kernel_says(const rtnl::Ack& ack) {
  return ack.message.empty() ? "" : " (kernel: " + ack.message + ")";
}

// EINVAL for a well-formed key: the set is not a flow map.
std::string shape_hint(int err) {
  return err == EINVAL ? ": is it a map of type ADDR . inet_service . ADDR . inet_service : mark?"
                       : "";
}

std::string family_word(Family f) { return f == Family::v4 ? "ip" : "ip6"; }

// One NETLINK_NETFILTER socket for one call.
class Socket {
 public:
  explicit Socket(const std::string& what) : what_(what) {
    nl_ = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
    if (!nl_) {
      const int err = errno;
      fail(err, what_ + ": cannot open a netfilter netlink socket" + advice(err));
    }
    if (mnl_socket_bind(nl_, 0, MNL_SOCKET_AUTOPID) < 0) {
      const int err = errno;
      mnl_socket_close(nl_);
      fail(err, what_ + ": cannot bind the netfilter netlink socket" + advice(err));
    }
    portid_ = mnl_socket_get_portid(nl_);
    const int fd = mnl_socket_get_fd(nl_);
    int one = 1;
    mnl_socket_setsockopt(nl_, NETLINK_EXT_ACK, &one, sizeof one);
    mnl_socket_setsockopt(nl_, NETLINK_CAP_ACK, &one, sizeof one);
    // A delete batch and its acks (one per message) are larger than the
    // defaults; FORCE works for root.
    int bytes = 4 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) < 0)
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) < 0)
      setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
    timeval tv{kTimeoutSeconds, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~Socket() { mnl_socket_close(nl_); }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  std::uint32_t portid() const { return portid_; }

  void send(std::span<const std::uint8_t> bytes) {
    if (mnl_socket_sendto(nl_, bytes.data(), bytes.size()) < 0) {
      const int err = errno;
      fail(err, what_ + ": sending the request failed" + advice(err));
    }
  }
  // One datagram; an empty span when nothing came within the timeout.
  std::span<const std::uint8_t> receive() {
    for (;;) {
      const ssize_t n = mnl_socket_recvfrom(nl_, buf_.data(), buf_.size());
      if (n >= 0) return {buf_.data(), static_cast<std::size_t>(n)};
      const int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) return {};
      fail(err, what_ + ": receiving the answer failed" + advice(err));
    }
  }
  [[noreturn]] void timed_out() const {
    fail(ETIMEDOUT,
         what_ + ": no answer from nftables within " + std::to_string(kTimeoutSeconds) + " s");
  }

  // A dump: data messages to on_message until its end; the end's Ack.
  rtnl::Ack dump(std::span<const std::uint8_t> request,
                 const std::function<bool(const nlmsghdr*)>& on_message) {
    const std::uint32_t seq = reinterpret_cast<const nlmsghdr*>(request.data())->nlmsg_seq;
    send(request);
    rtnl::Ack ack;
    for (;;) {
      const auto data = receive();
      if (data.empty()) timed_out();
      switch (rtnl::walk_reply(data, seq, portid_, on_message, &ack)) {
        case rtnl::Walk::done: return ack;
        case rtnl::Walk::bad: fail(EPROTO, what_ + ": malformed answer from nftables");
        case rtnl::Walk::more: break;
      }
    }
  }

  // A transaction: every message's answer by seq (0 or a negative errno).
  std::map<std::uint32_t, rtnl::Ack> commit(std::span<const std::uint8_t> batch) {
    std::size_t expected = 0;
    for (std::size_t off = 0; off + sizeof(nlmsghdr) <= batch.size();) {
      const auto* nlh = reinterpret_cast<const nlmsghdr*>(batch.data() + off);
      if (nlh->nlmsg_flags & NLM_F_ACK) ++expected;
      off += NLMSG_ALIGN(nlh->nlmsg_len);
    }
    send(batch);
    std::map<std::uint32_t, rtnl::Ack> answers;
    bool failed = false;
    while (answers.size() < expected) {
      const auto data = receive();
      if (data.empty()) {
        // A batch the kernel gave up on early (out of memory) is answered
        // once, for its first message.
        if (failed) break;
        timed_out();
      }
      int len = static_cast<int>(data.size());
      for (auto* nlh = reinterpret_cast<const nlmsghdr*>(data.data()); mnl_nlmsg_ok(nlh, len);
           nlh = mnl_nlmsg_next(nlh, &len)) {
        if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_pid != portid_) continue;
        rtnl::Ack ack;
        if (!rtnl::parse_ack(nlh, &ack)) continue;
        failed |= ack.error != 0;
        answers[nlh->nlmsg_seq] = ack;
      }
    }
    return answers;
  }

 private:
  std::string what_;
  mnl_socket* nl_ = nullptr;
  std::uint32_t portid_ = 0;
  std::vector<std::uint8_t> buf_ = std::vector<std::uint8_t>(64 * 1024);
};

// Runs a dump up to 3 times while the kernel flags it interrupted.
template <class Build, class Reset>
rtnl::Ack dump_consistent(Socket& s, const std::string& what, Build&& build, Reset&& reset,
                          const std::function<bool(const nlmsghdr*)>& on_message) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    reset();
    alignas(nlmsghdr) std::uint8_t req[kNftRequestSize];
    const std::size_t n = build(std::span<std::uint8_t>(req), next_seq());
    if (n == 0) fail(EINVAL, what + ": invalid name (1 to 255 characters)");
    const rtnl::Ack ack = s.dump({req, n}, on_message);
    if (!ack.interrupted || ack.error) return ack;
  }
  fail(EAGAIN, what + ": the ruleset kept changing during 3 dumps; try again");
}

}  // namespace

std::vector<NftCounter> read_counters(const std::string& table) {
  const std::string what = "reading the counters of nft table " + table;
  Socket s(what);
  std::vector<NftCounter> out;
  const rtnl::Ack ack = dump_consistent(
      s, what,
      [&](std::span<std::uint8_t> buf, std::uint32_t seq) {
        return build_counter_dump(buf, seq, table);
      },
      [&] { out.clear(); },
      [&](const nlmsghdr* nlh) {
        NftCounter c;
        if (parse_counter(nlh, &c)) out.push_back(std::move(c));
        return true;
      });
  if (ack.error == -ENOENT) return {};
  if (ack.error) fail(-ack.error, what + kernel_says(ack) + advice(-ack.error));
  return out;
}

std::vector<FlowElement> read_flow_map(Family family, const std::string& table,
                                       const std::string& map) {
  const std::string what =
      "reading flow map " + map + " of nft table " + family_word(family) + " " + table;
  Socket s(what);
  std::vector<FlowElement> out;
  const rtnl::Ack ack = dump_consistent(
      s, what,
      [&](std::span<std::uint8_t> buf, std::uint32_t seq) {
        return build_flow_map_dump(buf, seq, family, table, map);
      },
      [&] { out.clear(); },
      [&](const nlmsghdr* nlh) {
        parse_flow_elements(nlh, &out);
        return true;
      });
  if (ack.error == -ENOENT) return {};  // no such table or map
  if (ack.error) fail(-ack.error, what + kernel_says(ack) + advice(-ack.error));
  return out;
}

namespace {

// NFT_MSG_DELSETELEM, one per key, sent again without the keys the kernel
// reports missing until the transaction goes through.
void delete_one_by_one(Socket& s, const std::string& what, Family family, const std::string& table,
                       const std::string& map, std::vector<FlowKey> keys) {
  while (!keys.empty()) {
    const std::uint32_t seq = next_seq();
    const auto batch = build_flow_delete_batch(family, table, map, keys, seq, DeleteOp::del);
    if (batch.empty()) fail(EINVAL, what + ": invalid name (1 to 255 characters)");
    std::vector<bool> missing(keys.size(), false);
    bool any_missing = false, any_error = false;
    for (const auto& [answer_seq, ack] : s.commit(batch)) {
      if (ack.error == 0) continue;
      any_error = true;
      const std::uint32_t i = answer_seq - seq - 1;
      if (ack.error == -ENOENT && i < keys.size()) {
        missing[i] = true;
        any_missing = true;
      } else if (ack.error != -ENOENT) {
        fail(-ack.error, what + kernel_says(ack) + advice(-ack.error) + shape_hint(-ack.error));
      }
    }
    if (!any_error) return;
    if (!any_missing) fail(EPROTO, what + ": nftables refused the batch without saying why");
    std::vector<FlowKey> rest;
    for (std::size_t i = 0; i < keys.size(); ++i)
      if (!missing[i]) rest.push_back(keys[i]);
    keys = std::move(rest);  // strictly fewer: the loop ends
  }
}

}  // namespace

void delete_flows(Family family, const std::string& table, const std::string& map,
                  std::span<const FlowKey> keys, bool allow_destroy) {
  const std::string what =
      "deleting flows from map " + map + " of nft table " + family_word(family) + " " + table;
  const bool v4 = family == Family::v4;
  std::vector<FlowKey> mine;
  for (const FlowKey& k : keys)
    if (k.client.addr.is_v4() == v4 && k.vip.addr.is_v4() == v4) mine.push_back(k);
  if (mine.empty()) return;
  Socket s(what);
  bool destroy = allow_destroy;
  for (std::size_t at = 0; at < mine.size(); at += kKeysPerTransaction) {
    const std::size_t count = std::min(kKeysPerTransaction, mine.size() - at);
    const std::span<const FlowKey> group(mine.data() + at, count);
    if (destroy) {
      const auto batch =
          build_flow_delete_batch(family, table, map, group, next_seq(), DeleteOp::destroy);
      if (batch.empty()) fail(EINVAL, what + ": invalid name (1 to 255 characters)");
      int error = 0;
      rtnl::Ack first;
      for (const auto& [seq, ack] : s.commit(batch)) {
        if (ack.error && !error) {
          error = -ack.error;
          first = ack;
        }
      }
      if (error == 0 || error == ENOENT) continue;  // ENOENT: no such table or map
      // A kernel without NFT_MSG_DESTROYSETELEM does not know the message type.
      if (error != EINVAL && error != EOPNOTSUPP)
        fail(error, what + kernel_says(first) + advice(error));
      destroy = false;
    }
    delete_one_by_one(s, what, family, table, map, {group.begin(), group.end()});
  }
}

}  // namespace vsd::kstate
