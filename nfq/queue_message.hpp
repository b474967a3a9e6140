// NFQUEUE wire messages without the socket: parsing a queued packet and
// building batched verdicts. Pure, so it is unit-tested without root.
#pragma once

// glibc headers before the kernel uapi ones, or in_addr is defined twice.
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netlink.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace vsd::nfq {

struct QueuedPacket {
  std::uint32_t id = 0;
  std::uint8_t* data = nullptr;  // the IP packet, inside the receive buffer
  std::uint32_t len = 0;         // bytes present in data
  std::uint32_t orig_len = 0;    // the packet's real length (> len when truncated)
  bool checksum_not_ready = false;  // NFQA_SKB_CSUMNOTREADY: L4 sum is partial
  bool gso = false;                 // NFQA_SKB_GSO: a not-yet-segmented super-packet
  std::uint32_t mark = 0;           // NFQA_MARK: the packet's firewall mark (fwmark services)
  bool truncated() const { return orig_len > len; }
};

enum class MessageKind { packet, error, other };

// Classifies one netlink message from the queue socket. For a packet, fills
// `out`; for an NLMSG_ERROR, sets *error to the (positive) errno or 0 for an
// ack. Malformed messages come back as `other`.
MessageKind parse_queue_message(const nlmsghdr* nlh, QueuedPacket& out, int* error);

// Verdicts for a whole receive batch, sent with one sendmsg: a small
// preallocated header per packet plus an iovec pointing at the (possibly
// rewritten) packet in the receive buffer — no copy, no allocation.
class VerdictBatch {
 public:
  explicit VerdictBatch(std::size_t max_packets);

  void clear();
  // verdict: NF_ACCEPT or NF_DROP; `mark` becomes the packet's mark
  // (NFQA_MARK: give the queued packet's own to leave it as it was). With
  // payload, the kernel replaces the packet with `payload` (same length or
  // shorter/longer).
  void add(std::uint16_t queue_num, std::uint32_t id, std::uint32_t verdict, std::uint32_t mark,
           const std::uint8_t* payload, std::uint32_t payload_len);
  bool full() const { return count_ == headers_.size(); }
  std::size_t count() const { return count_; }
  std::size_t bytes() const { return bytes_; }
  iovec* iov() { return iov_.data(); }
  std::size_t iov_count() const { return iov_count_; }
  // The iovecs of message i alone: [first, first + count).
  std::size_t message_iov_first(std::size_t i) const { return msg_first_[i]; }
  std::size_t message_iov_count(std::size_t i) const {
    return (i + 1 < count_ ? msg_first_[i + 1] : iov_count_) - msg_first_[i];
  }

 private:
  struct Header {
    nlmsghdr nlh;
    nfgenmsg nfg;
    nlattr verdict_attr;
    nfqnl_msg_verdict_hdr verdict;
    nlattr mark_attr;
    std::uint32_t mark;  // network order
    nlattr payload_attr;
  };
  std::vector<Header> headers_;
  std::vector<iovec> iov_;
  std::vector<std::size_t> msg_first_;
  std::size_t count_ = 0, iov_count_ = 0, bytes_ = 0;
  std::uint32_t seq_ = 0;
};

}  // namespace vsd::nfq
