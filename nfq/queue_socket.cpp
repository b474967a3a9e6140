#include "nfq/queue_socket.hpp"

#include <arpa/inet.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <system_error>

namespace vsd::nfq {
namespace {

[[noreturn]] void fail(const std::string& what, int err) {
  throw std::system_error(err, std::generic_category(), what);
}

}  // namespace

KernelQueueStats kernel_queue_stats(std::uint16_t queue_num, const char* path) {
  // Columns: queue_num peer_portid queue_total copy_mode copy_range
  //          queue_dropped user_dropped id_sequence 1
  KernelQueueStats st;
  if (FILE* f = std::fopen(path, "r")) {
    unsigned num, portid, mode, range;
    unsigned long long total, qdrop, udrop, seq;
    int one;
    while (std::fscanf(f, "%u %u %llu %u %u %llu %llu %llu %d", &num, &portid, &total, &mode,
                       &range, &qdrop, &udrop, &seq, &one) == 9) {
      if (num == queue_num) {
        st.waiting = total;
        st.queue_dropped = qdrop;
        st.user_dropped = udrop;
        break;
      }
    }
    std::fclose(f);
  }
  return st;
}

QueueSocket::QueueSocket(const QueueOptions& opts)
    : opts_(opts),
      buffers_(opts.batch * kBufSize),
      msgs_(opts.batch),
      recv_iov_(opts.batch),
      verdicts_(opts.batch) {
  nl_ = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (!nl_) fail("cannot open a netfilter netlink socket (are you root?)", errno);
  if (mnl_socket_bind(nl_, 0, MNL_SOCKET_AUTOPID) < 0) {
    int e = errno;
    mnl_socket_close(nl_);
    fail("cannot bind the netlink socket", e);
  }
  portid_ = mnl_socket_get_portid(nl_);
  // Large socket buffers absorb bursts (fewer ENOBUFS) and let one sendmsg
  // carry a batch of rewritten super-packets. FORCE works for root.
  int rcv = 32 << 20, snd = 16 << 20;
  int fd = mnl_socket_get_fd(nl_);
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv) < 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof snd) < 0)
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof snd);
  try {
    config(NFQNL_CFG_CMD_BIND, false, false);
    config(0, true, true);
  } catch (...) {
    mnl_socket_close(nl_);
    throw;
  }
  for (std::size_t i = 0; i < opts_.batch; ++i) {
    recv_iov_[i] = iovec{buffers_.data() + i * kBufSize, kBufSize};
    msgs_[i].msg_hdr = msghdr{};
    msgs_[i].msg_hdr.msg_iov = &recv_iov_[i];
    msgs_[i].msg_hdr.msg_iovlen = 1;
  }
}

QueueSocket::~QueueSocket() {
  if (!nl_) return;
  try {
    config(NFQNL_CFG_CMD_UNBIND, false, false);
  } catch (...) {
    // The kernel unbinds a closed socket's queue anyway.
  }
  mnl_socket_close(nl_);
}

int QueueSocket::fd() const { return mnl_socket_get_fd(nl_); }

// Sends one config message and waits for its ack (the socket is
// non-blocking, so poll for the answer briefly).
void QueueSocket::config(std::uint8_t cmd, bool params, bool flags) {
  alignas(nlmsghdr) char buf[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, opts_.queue_num);
  nlh->nlmsg_flags |= NLM_F_ACK;
  const std::uint32_t seq = nlh->nlmsg_seq = static_cast<std::uint32_t>(time(nullptr));
  if (cmd) nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, cmd);
  if (params) {
    nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
    nfq_nlmsg_cfg_put_qmaxlen(nlh, opts_.max_len);
  }
  if (flags) {
    std::uint32_t f = (opts_.gso ? NFQA_CFG_F_GSO : 0) | (opts_.fail_open ? NFQA_CFG_F_FAIL_OPEN : 0);
    std::uint32_t mask = NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN;
    mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(f));
    mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(mask));
  }
  if (mnl_socket_sendto(nl_, nlh, nlh->nlmsg_len) < 0)
    fail("cannot configure NFQUEUE " + std::to_string(opts_.queue_num), errno);
  for (int tries = 0; tries < 1000; ++tries) {
    ssize_t n = mnl_socket_recvfrom(nl_, buf, sizeof buf);
    if (n < 0 && errno == EAGAIN) {
      struct timespec ts{0, 1'000'000};
      nanosleep(&ts, nullptr);
      continue;
    }
    if (n < 0) fail("no answer configuring NFQUEUE " + std::to_string(opts_.queue_num), errno);
    int r = mnl_cb_run(buf, static_cast<size_t>(n), seq, portid_, nullptr, nullptr);
    if (r < 0) {
      int e = errno;
      if (cmd == NFQNL_CFG_CMD_BIND && e == EBUSY)
        fail("NFQUEUE " + std::to_string(opts_.queue_num) +
                 " is already bound by another process; stop it or choose another "
                 "[director] queue",
             e);
      fail("configuring NFQUEUE " + std::to_string(opts_.queue_num) + " failed", e);
    }
    return;
  }
  fail("timed out configuring NFQUEUE " + std::to_string(opts_.queue_num), ETIMEDOUT);
}

int QueueSocket::set_gso(bool on) {
  alignas(nlmsghdr) char buf[256];
  nlmsghdr* nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, opts_.queue_num);
  mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(on ? NFQA_CFG_F_GSO : 0));
  mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO));
  iovec iov{nlh, nlh->nlmsg_len};
  int err = send_iov(&iov, 1);
  if (err == 0) opts_.gso = on;
  return err;
}

std::size_t QueueSocket::receive() {
  for (auto& m : msgs_) m.msg_len = 0;
  int n = recvmmsg(fd(), msgs_.data(), static_cast<unsigned>(msgs_.size()), MSG_DONTWAIT, nullptr);
  if (n >= 0) return static_cast<std::size_t>(n);
  if (errno == ENOBUFS) {
    // The kernel had to drop queue messages for us: count it and go on.
    counters_.enobufs.fetch_add(1, std::memory_order_relaxed);
  } else if (errno != EAGAIN && errno != EINTR) {
    counters_.recv_errors.fetch_add(1, std::memory_order_relaxed);
  }
  return 0;
}

bool QueueSocket::dispatch_message(std::size_t i, QueuedPacket& pkt) {
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(recv_iov_[i].iov_base);
  std::size_t len = msgs_[i].msg_len;
  if (!mnl_nlmsg_ok(nlh, static_cast<int>(len))) return false;
  int err = 0;
  switch (parse_queue_message(nlh, pkt, &err)) {
    case MessageKind::packet:
      return true;
    case MessageKind::error:
      if (err != 0) counters_.verdict_errors.fetch_add(1, std::memory_order_relaxed);
      return false;
    case MessageKind::other:
      return false;
  }
  return false;
}

// Returns 0 or the errno of the failed send.
int QueueSocket::send_iov(iovec* iov, std::size_t count) {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  msghdr mh{};
  mh.msg_name = &kernel;
  mh.msg_namelen = sizeof kernel;
  mh.msg_iov = iov;
  mh.msg_iovlen = count;
  for (int tries = 0; tries < 100; ++tries) {
    if (sendmsg(fd(), &mh, 0) >= 0) return 0;
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return errno;
    // Send buffer momentarily full: wait for room rather than leave the
    // kernel holding packets that never get a verdict.
    pollfd p{fd(), POLLOUT, 0};
    ::poll(&p, 1, 10);
  }
  return EAGAIN;
}

void QueueSocket::flush() {
  if (verdicts_.count() == 0) return;
  int err = send_iov(verdicts_.iov(), verdicts_.iov_count());
  if (err == EMSGSIZE) {
    // The batch is larger than the socket's send buffer allows (no
    // SO_SNDBUFFORCE): send the verdicts one message at a time.
    for (std::size_t i = 0; i < verdicts_.count(); ++i)
      if (send_iov(verdicts_.iov() + verdicts_.message_iov_first(i), verdicts_.message_iov_count(i)))
        counters_.send_errors.fetch_add(1, std::memory_order_relaxed);
  } else if (err) {
    counters_.send_errors.fetch_add(1, std::memory_order_relaxed);
  }
  verdicts_.clear();
}

}  // namespace vsd::nfq
