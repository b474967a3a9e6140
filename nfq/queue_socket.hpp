// One NFQUEUE queue bound over a netlink socket (libmnl + the
// libnetfilter_queue message helpers). Receives many packets per syscall
// (recvmmsg) and answers a whole batch with one sendmsg. The packet logic is
// not here: a handler decides each verdict.
#pragma once

#include <libmnl/libmnl.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "nfq/queue_message.hpp"

namespace vsd::nfq {

struct QueueOptions {
  std::uint16_t queue_num = 0;
  bool fail_open = false;        // kernel accepts instead of dropping when the queue is full
  bool gso = true;               // receive GSO super-packets unsegmented (NFQA_CFG_F_GSO)
  std::uint32_t max_len = 8192;  // packets the kernel may hold for us
  std::size_t batch = 64;        // packets per recvmmsg
};

struct QueueCounters {
  std::atomic<std::uint64_t> received{0}, batches{0}, enobufs{0}, recv_errors{0},
      verdict_errors{0}, send_errors{0}, truncated{0};
};

// What the handler answers for one packet.
struct Decision {
  std::uint32_t verdict = NF_ACCEPT;  // NF_ACCEPT / NF_DROP
  bool modified = false;              // send the (rewritten) packet back
  std::uint32_t mark = 0;             // the packet's mark from now on
};

// The kernel's own per-queue counters (/proc/net/netfilter/nfnetlink_queue):
// packets dropped because the queue was full, or because the netlink send
// to us failed. Zeros when the queue is not listed.
struct KernelQueueStats {
  std::uint64_t waiting = 0, queue_dropped = 0, user_dropped = 0;
};
KernelQueueStats kernel_queue_stats(std::uint16_t queue_num,
                                    const char* path = "/proc/net/netfilter/nfnetlink_queue");

class QueueSocket {
 public:
  explicit QueueSocket(const QueueOptions& opts);  // throws std::system_error
  ~QueueSocket();
  QueueSocket(const QueueSocket&) = delete;
  QueueSocket& operator=(const QueueSocket&) = delete;

  int fd() const;
  std::uint16_t queue_num() const { return opts_.queue_num; }
  const QueueCounters& counters() const { return counters_; }

  // Non-blocking: one recvmmsg, the handler for each packet, one verdict
  // flush. Returns the number of packets handled (0 when nothing waited).
  template <class Handler>
  std::size_t poll(Handler&& handle);

  // Turns NFQA_CFG_F_GSO on or off on the bound queue. Call it on the
  // thread that polls: it does not wait for an ack (that would read, and
  // lose, queued packets); a refusal arrives as an error message and is
  // counted as a verdict error. Returns 0 or the errno of the send.
  int set_gso(bool on);
  bool gso() const { return opts_.gso; }

 private:
  std::size_t receive();  // fills msgs_, returns datagrams received
  void flush();
  int send_iov(struct iovec* iov, std::size_t count);
  void config(std::uint8_t cmd_or_zero, bool params, bool flags);
  bool dispatch_message(std::size_t i, QueuedPacket& pkt);

  QueueOptions opts_;
  mnl_socket* nl_ = nullptr;
  std::uint32_t portid_ = 0;
  QueueCounters counters_;
  std::vector<std::uint8_t> buffers_;  // batch * kBufSize
  std::vector<struct mmsghdr> msgs_;
  std::vector<struct iovec> recv_iov_;
  VerdictBatch verdicts_;

 public:
  // Largest payload plus headers, rounded so every buffer starts aligned
  // for netlink headers.
  static constexpr std::size_t kBufSize = 0x10000 + 4096;
};

template <class Handler>
std::size_t QueueSocket::poll(Handler&& handle) {
  std::size_t n = receive();
  if (n == 0) return 0;
  counters_.batches.fetch_add(1, std::memory_order_relaxed);
  std::size_t handled = 0;
  for (std::size_t i = 0; i < n; ++i) {
    QueuedPacket pkt;
    if (!dispatch_message(i, pkt)) continue;
    ++handled;
    Decision d{NF_ACCEPT, false, pkt.mark};
    if (pkt.truncated()) {
      // Bigger than the copy range (a BIG TCP super-packet): vsd cannot
      // rewrite or forward what it saw only part of, and accepting it
      // untouched would send a NAT reply out with the real server's address
      // or hand a VIP's packet to the local stack. Dropped; TCP resends.
      d.verdict = NF_DROP;
      counters_.truncated.fetch_add(1, std::memory_order_relaxed);
    } else {
      d = handle(pkt);
    }
    verdicts_.add(opts_.queue_num, pkt.id, d.verdict, d.mark, d.modified ? pkt.data : nullptr, pkt.len);
  }
  counters_.received.fetch_add(handled, std::memory_order_relaxed);
  flush();
  return handled;
}

}  // namespace vsd::nfq
