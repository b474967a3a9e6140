#include "nfq/conntrack_socket.hpp"

#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <sys/time.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <ctime>
#include <fstream>
#include <memory>
#include <string>
#include <system_error>

#include "nfq/rtnl_message.hpp"  // walk_reply / Ack: netlink's generic request-answer end

namespace vsd::kstate {
namespace {

[[noreturn]] void fail(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what);
}

std::uint32_t next_seq() {
  static std::atomic<std::uint32_t> seq{static_cast<std::uint32_t>(std::time(nullptr)) << 8};
  return seq.fetch_add(1024) + 1024;  // room for a batch of requests per call
}

// What to do about errno `err` from the conntrack netlink interface.
std::string advice(int err) {
  switch (err) {
    case EPERM:
    case EACCES: return ": needs CAP_NET_ADMIN (run vsd as root)";
    case EOPNOTSUPP:
    case EPROTONOSUPPORT:
      return ": the kernel has no ctnetlink; load nf_conntrack_netlink (modprobe "
             "nf_conntrack_netlink)";
    default: return "";
  }
}

struct MnlClose {
  void operator()(mnl_socket* nl) const { mnl_socket_close(nl); }
};
using MnlPtr = std::unique_ptr<mnl_socket, MnlClose>;

void set_receive_buffer(int fd, int bytes) {
  // FORCE goes past net.core.rmem_max for root; otherwise take what is allowed.
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) < 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
}

MnlPtr open_socket(int type_flags, unsigned groups, const char* what) {
  MnlPtr nl(mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | type_flags));
  if (!nl) {
    const int err = errno;
    fail(err, std::string("cannot open a netfilter netlink socket for ") + what + advice(err));
  }
  if (mnl_socket_bind(nl.get(), groups, MNL_SOCKET_AUTOPID) < 0) {
    const int err = errno;
    fail(err, std::string("cannot bind the netfilter netlink socket for ") + what + advice(err));
  }
  return nl;
}

// A blocking request socket: dumps and deletes. The kernel answers at once;
// the timeout only keeps a bug from hanging vsd.
class RequestSocket {
 public:
  explicit RequestSocket(const char* what) : what_(what), nl_(open_socket(0, 0, what)) {
    const int fd = mnl_socket_get_fd(nl_.get());
    int one = 1;
    mnl_socket_setsockopt(nl_.get(), NETLINK_EXT_ACK, &one, sizeof one);
    mnl_socket_setsockopt(nl_.get(), NETLINK_CAP_ACK, &one, sizeof one);
    set_receive_buffer(fd, 4 << 20);  // a batch of acks, or dump datagrams
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    portid_ = mnl_socket_get_portid(nl_.get());
  }
  std::uint32_t portid() const { return portid_; }

  void send(std::span<const std::uint8_t> bytes) {
    if (mnl_socket_sendto(nl_.get(), bytes.data(), bytes.size()) < 0) {
      const int err = errno;
      fail(err, std::string("sending the conntrack request failed (") + what_ + ")" + advice(err));
    }
  }
  // One datagram into buf_; its length.
  std::span<const std::uint8_t> receive() {
    for (;;) {
      const ssize_t n = mnl_socket_recvfrom(nl_.get(), buf_.data(), buf_.size());
      if (n >= 0) return {buf_.data(), static_cast<std::size_t>(n)};
      const int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK)
        fail(ETIMEDOUT, std::string("no answer from ctnetlink within 5 s (") + what_ + ")");
      fail(err, std::string("receiving the conntrack answer failed (") + what_ + ")" + advice(err));
    }
  }

 private:
  const char* what_;
  MnlPtr nl_;
  std::uint32_t portid_ = 0;
  // A dump datagram is at most 32 KiB (the kernel sizes it by our largest
  // read, capped there); a smaller buffer would truncate it.
  std::vector<std::uint8_t> buf_ = std::vector<std::uint8_t>(64 * 1024);
};

// The kernel's reason in words, when it sent one (extended ack); the errno
// text itself comes last in std::system_error's what().
std::string kernel_says(const rtnl::Ack& ack) {
  return ack.message.empty() ? "" : " (kernel: " + ack.message + ")";
}

// net.netfilter.nf_conntrack_events of this network namespace; -1 when unreadable.
int events_sysctl() {
  std::ifstream f("/proc/sys/net/netfilter/nf_conntrack_events");
  int v = -1;
  f >> v;
  return f ? v : -1;
}

// One request that ctnetlink answers (the global statistics): tells a
// missing nf_conntrack_netlink from a working one, since subscribing to
// its events succeeds either way.
void probe_ctnetlink() {
  RequestSocket s("probing ctnetlink");
  alignas(nlmsghdr) std::uint8_t req[kConntrackRequestSize] = {};
  nlmsghdr* nlh = mnl_nlmsg_put_header(req);
  nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET_STATS;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = next_seq();
  auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = AF_UNSPEC;
  nfg->version = NFNETLINK_V0;
  s.send({req, nlh->nlmsg_len});
  rtnl::Ack ack;
  for (;;) {
    const auto w = rtnl::walk_reply(
        s.receive(), nlh->nlmsg_seq, s.portid(), [](const nlmsghdr*) { return true; }, &ack);
    if (w == rtnl::Walk::bad) fail(EPROTO, "malformed answer from ctnetlink");
    if (w == rtnl::Walk::done) break;
  }
  if (ack.error)
    fail(-ack.error,
         "ctnetlink refused a statistics request" + kernel_says(ack) + advice(-ack.error));
}

std::vector<ConntrackFlow> dump(const MarkMatch* exact, std::uint32_t nonzero_mask) {
  RequestSocket s("dumping the conntrack table");
  alignas(nlmsghdr) std::uint8_t req[kConntrackRequestSize];
  const std::uint32_t seq = next_seq();
  const std::size_t n = build_conntrack_dump(req, seq, exact);
  s.send({req, n});
  std::vector<ConntrackFlow> flows;
  rtnl::Ack ack;
  const auto on_message = [&](const nlmsghdr* nlh) {
    if (nonzero_mask && (conntrack_message_mark(nlh) & nonzero_mask) == 0) return true;
    ConntrackFlow f;
    ConntrackEvent kind;
    if (parse_conntrack_message(nlh, &f, &kind)) flows.push_back(f);
    return true;
  };
  for (;;) {
    const auto w = rtnl::walk_reply(s.receive(), seq, s.portid(), on_message, &ack);
    if (w == rtnl::Walk::bad) fail(EPROTO, "malformed conntrack dump from the kernel");
    if (w == rtnl::Walk::done) break;
  }
  if (ack.error)
    fail(-ack.error, "the conntrack dump failed" + kernel_says(ack) + advice(-ack.error));
  return flows;
}

}  // namespace

ConntrackEvents::ConntrackEvents(std::uint32_t mark_mask, int receive_buffer)
    : mark_mask_(mark_mask) {
  if (mark_mask == 0)
    throw std::system_error(EINVAL, std::generic_category(),
                            "conntrack events: the mark mask is 0, no flow would match");
  if (events_sysctl() == 0)
    fail(ENOTSUP,
         "conntrack events are switched off in this network namespace: set "
         "net.netfilter.nf_conntrack_events = 1");
  probe_ctnetlink();
  MnlPtr nl = open_socket(
      SOCK_NONBLOCK,
      NF_NETLINK_CONNTRACK_NEW | NF_NETLINK_CONNTRACK_UPDATE | NF_NETLINK_CONNTRACK_DESTROY,
      "conntrack events");
  const int fd = mnl_socket_get_fd(nl.get());
  set_receive_buffer(fd, receive_buffer);
  // "ct mark & mask != 0" as a socket filter: the mark filter with value 0
  // under negative logic (ct_events.c). An entry whose mark is 0 carries no
  // CTA_MARK; the filter reads that as 0 and drops it too.
  std::unique_ptr<nfct_filter, void (*)(nfct_filter*)> filter(nfct_filter_create(),
                                                              nfct_filter_destroy);
  if (!filter) fail(ENOMEM, "cannot allocate the conntrack event filter");
  nfct_filter_dump_mark m{0, mark_mask};
  nfct_filter_add_attr(filter.get(), NFCT_FILTER_MARK, &m);
  nfct_filter_set_logic(filter.get(), NFCT_FILTER_MARK, NFCT_FILTER_LOGIC_NEGATIVE);
  if (nfct_filter_attach(fd, filter.get()) < 0) {
    const int err = errno;
    fail(err,
         "cannot attach the conntrack event filter (SO_ATTACH_FILTER); the kernel needs "
         "CONFIG_BPF (socket filters)");
  }
  constexpr std::size_t kBatch = 64, kSlot = 8192;  // an event is a few hundred bytes
  buffers_.resize(kBatch * kSlot);
  msgs_.resize(kBatch);
  iov_.resize(kBatch);
  from_.resize(kBatch);
  for (std::size_t i = 0; i < kBatch; ++i) {
    iov_[i] = iovec{buffers_.data() + i * kSlot, kSlot};
    msgs_[i].msg_hdr = msghdr{};
    msgs_[i].msg_hdr.msg_iov = &iov_[i];
    msgs_[i].msg_hdr.msg_iovlen = 1;
    msgs_[i].msg_hdr.msg_name = &from_[i];
  }
  nl_ = nl.release();
}

ConntrackEvents::~ConntrackEvents() {
  if (nl_) mnl_socket_close(nl_);
}

int ConntrackEvents::fd() const { return mnl_socket_get_fd(nl_); }

std::size_t ConntrackEvents::receive(bool* lost) {
  for (;;) {
    for (std::size_t i = 0; i < msgs_.size(); ++i) {
      msgs_[i].msg_hdr.msg_namelen = sizeof(sockaddr_nl);
      msgs_[i].msg_hdr.msg_flags = 0;
    }
    const int n =
        recvmmsg(fd(), msgs_.data(), static_cast<unsigned>(msgs_.size()), MSG_DONTWAIT, nullptr);
    if (n > 0) return static_cast<std::size_t>(n);
    if (n == 0) return 0;
    const int err = errno;
    if (err == EINTR) continue;
    if (err == ENOBUFS) {  // reported once per overflow; what is queued is still there
      ++counters_.enobufs;
      *lost = true;
      continue;
    }
    if (err == EAGAIN || err == EWOULDBLOCK) return 0;
    fail(err, "reading conntrack events failed");
  }
}

ConntrackPollResult ConntrackEvents::poll(const ConntrackEventHandler& handler,
                                          std::size_t budget) {
  ConntrackPollResult result;
  while (result.events < budget) {
    const std::size_t n = receive(&result.lost);
    if (n == 0) break;
    for (std::size_t i = 0; i < n; ++i) {
      const msghdr& h = msgs_[i].msg_hdr;
      // Only the kernel's broadcasts: any local process may unicast to
      // our port id.
      if ((h.msg_flags & MSG_TRUNC) || from_[i].nl_pid != 0) {
        ++counters_.malformed;
        continue;
      }
      int len = static_cast<int>(msgs_[i].msg_len);
      for (auto* nlh = static_cast<const nlmsghdr*>(iov_[i].iov_base); mnl_nlmsg_ok(nlh, len);
           nlh = mnl_nlmsg_next(nlh, &len)) {
        if (nlh->nlmsg_type < NLMSG_MIN_TYPE) continue;  // NOOP, ERROR, DONE, OVERRUN
        ConntrackFlow flow;
        ConntrackEvent kind;
        if (!parse_conntrack_message(nlh, &flow, &kind)) {
          ++counters_.malformed;
          continue;
        }
        ++counters_.events;
        ++result.events;
        handler(kind, flow);
      }
    }
  }
  return result;
}

std::vector<ConntrackFlow> conntrack_dump(std::uint32_t mark_mask) {
  if (mark_mask == 0)
    throw std::system_error(EINVAL, std::generic_category(),
                            "conntrack dump: the mark mask is 0, no flow would match");
  return dump(nullptr, mark_mask);
}

std::vector<ConntrackFlow> conntrack_dump(const MarkMatch& match) { return dump(&match, 0); }

std::size_t conntrack_delete(std::span<const ConntrackFlow> flows) {
  if (flows.empty()) return 0;
  // Refuse a bad request before deleting anything.
  for (const ConntrackFlow& f : flows) {
    alignas(nlmsghdr) std::uint8_t req[kConntrackRequestSize];
    if (build_conntrack_delete(req, 0, f) == 0)
      throw std::system_error(EINVAL, std::generic_category(),
                              "cannot delete conntrack entry " + to_string(f) +
                                  ": its original tuple is incomplete (TCP/UDP, both ports, "
                                  "addresses of one family)");
  }
  RequestSocket s("deleting conntrack entries");
  constexpr std::size_t kChunk = 256;
  std::vector<std::uint8_t> batch;
  batch.reserve(kChunk * kConntrackRequestSize);
  std::size_t deleted = 0;
  int first_error = 0;
  std::string first_what;
  for (std::size_t at = 0; at < flows.size(); at += kChunk) {
    const std::size_t count = std::min(kChunk, flows.size() - at);
    const std::uint32_t seq = next_seq();
    batch.clear();
    for (std::size_t i = 0; i < count; ++i) {
      alignas(nlmsghdr) std::uint8_t req[kConntrackRequestSize];
      const std::size_t n =
          build_conntrack_delete(req, seq + static_cast<std::uint32_t>(i), flows[at + i]);
      batch.insert(batch.end(), req, req + n);
    }
    s.send(batch);
    std::size_t answered = 0;
    while (answered < count) {
      const auto data = s.receive();
      int len = static_cast<int>(data.size());
      for (auto* nlh = reinterpret_cast<const nlmsghdr*>(data.data()); mnl_nlmsg_ok(nlh, len);
           nlh = mnl_nlmsg_next(nlh, &len)) {
        const std::uint32_t i = nlh->nlmsg_seq - seq;
        if (nlh->nlmsg_type != NLMSG_ERROR || i >= count || nlh->nlmsg_pid != s.portid()) continue;
        rtnl::Ack ack;
        if (!rtnl::parse_ack(nlh, &ack)) continue;
        ++answered;
        if (ack.error == 0) {
          ++deleted;
        } else if (ack.error != -ENOENT && !first_error) {
          first_error = -ack.error;
          first_what = to_string(flows[at + i]) + kernel_says(ack);
        }
      }
    }
  }
  if (first_error)
    fail(first_error, "ctnetlink refused to delete " + first_what + advice(first_error));
  return deleted;
}

}  // namespace vsd::kstate
