#include "nfq/queue_message.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>

#include <cerrno>
#include <climits>
#include <cstring>

namespace vsd::nfq {
namespace {

const std::uint8_t kZeros[4] = {0, 0, 0, 0};

}  // namespace

MessageKind parse_queue_message(const nlmsghdr* nlh, QueuedPacket& out, int* error) {
  if (nlh->nlmsg_type == NLMSG_ERROR) {
    if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) return MessageKind::other;
    const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
    // -INT_MIN overflows; no errno is that large anyway.
    if (error) *error = err->error == INT_MIN ? EINVAL : -err->error;
    return MessageKind::error;
  }
  if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_QUEUE ||
      NFNL_MSG_TYPE(nlh->nlmsg_type) != NFQNL_MSG_PACKET)
    return MessageKind::other;
  if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(nfgenmsg))) return MessageKind::other;

  out = QueuedPacket{};
  bool have_hdr = false, have_payload = false;
  std::uint32_t cap_len = 0;
  // mnl_attr_for_each() does not compile as C++ (void* conversion). The
  // attributes end where nlmsg_len says, not at its 4-byte alignment
  // (mnl_nlmsg_get_payload_tail): a last message of unaligned length would
  // let the payload run past the received bytes.
  const char* tail = reinterpret_cast<const char*>(nlh) + nlh->nlmsg_len;
  for (auto* attr = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, sizeof(nfgenmsg)));
       mnl_attr_ok(attr, static_cast<int>(tail - reinterpret_cast<const char*>(attr)));
       attr = mnl_attr_next(attr)) {
    std::uint16_t type = mnl_attr_get_type(attr);
    std::uint16_t plen = mnl_attr_get_payload_len(attr);
    const void* pl = mnl_attr_get_payload(attr);
    switch (type) {
      case NFQA_PACKET_HDR:
        if (plen >= sizeof(nfqnl_msg_packet_hdr)) {
          nfqnl_msg_packet_hdr h;
          std::memcpy(&h, pl, sizeof h);
          out.id = ntohl(h.packet_id);
          have_hdr = true;
        }
        break;
      case NFQA_PAYLOAD:
        out.data = static_cast<std::uint8_t*>(const_cast<void*>(pl));
        out.len = plen;
        have_payload = true;
        break;
      case NFQA_CAP_LEN:
        if (plen >= 4) {
          std::uint32_t v;
          std::memcpy(&v, pl, 4);
          cap_len = ntohl(v);
        }
        break;
      case NFQA_MARK:
        if (plen >= 4) {
          std::uint32_t v;
          std::memcpy(&v, pl, 4);
          out.mark = ntohl(v);
        }
        break;
      case NFQA_SKB_INFO:
        if (plen >= 4) {
          std::uint32_t v;
          std::memcpy(&v, pl, 4);
          v = ntohl(v);
          out.checksum_not_ready = v & NFQA_SKB_CSUMNOTREADY;
          out.gso = v & NFQA_SKB_GSO;
        }
        break;
      default:
        break;
    }
  }
  if (!have_hdr) return MessageKind::other;
  if (!have_payload) out.len = 0;
  // NFQA_CAP_LEN is present only when the packet was cut to the copy range.
  out.orig_len = cap_len > out.len ? cap_len : out.len;
  return MessageKind::packet;
}

VerdictBatch::VerdictBatch(std::size_t max_packets)
    : headers_(max_packets), iov_(max_packets * 3), msg_first_(max_packets) {}

void VerdictBatch::clear() {
  count_ = 0;
  iov_count_ = 0;
  bytes_ = 0;
}

void VerdictBatch::add(std::uint16_t queue_num, std::uint32_t id, std::uint32_t verdict,
                       std::uint32_t mark, const std::uint8_t* payload, std::uint32_t payload_len) {
  msg_first_[count_] = iov_count_;
  Header& h = headers_[count_++];
  std::memset(&h, 0, sizeof h);
  const bool with_payload = payload != nullptr;
  const std::uint32_t head_len = with_payload ? sizeof(Header) : offsetof(Header, payload_attr);
  h.nlh.nlmsg_len = head_len + (with_payload ? payload_len : 0);
  h.nlh.nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT;
  h.nlh.nlmsg_flags = NLM_F_REQUEST;
  h.nlh.nlmsg_seq = ++seq_;
  h.nfg.nfgen_family = AF_UNSPEC;
  h.nfg.version = NFNETLINK_V0;
  h.nfg.res_id = htons(queue_num);
  h.verdict_attr.nla_len = sizeof(nlattr) + sizeof(nfqnl_msg_verdict_hdr);
  h.verdict_attr.nla_type = NFQA_VERDICT_HDR;
  h.verdict.verdict = htonl(verdict);
  h.verdict.id = htonl(id);
  // Always sent: the kernel fast path's decision travels in the mark, and
  // for every other packet it is the packet's own mark again.
  h.mark_attr.nla_len = sizeof(nlattr) + sizeof(std::uint32_t);
  h.mark_attr.nla_type = NFQA_MARK;
  h.mark = htonl(mark);
  iov_[iov_count_++] = iovec{&h, head_len};
  bytes_ += head_len;
  if (with_payload) {
    h.payload_attr.nla_len = static_cast<std::uint16_t>(sizeof(nlattr) + payload_len);
    h.payload_attr.nla_type = NFQA_PAYLOAD;
    iov_[iov_count_++] = iovec{const_cast<std::uint8_t*>(payload), payload_len};
    bytes_ += payload_len;
    // Next message starts 4-aligned.
    std::uint32_t pad = NLMSG_ALIGN(payload_len) - payload_len;
    if (pad) {
      iov_[iov_count_++] = iovec{const_cast<std::uint8_t*>(kZeros), pad};
      bytes_ += pad;
    }
  }
}

}  // namespace vsd::nfq
