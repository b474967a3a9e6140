// The NFQUEUE wire format without a socket: a packet message as the kernel
// sends it, and the batched verdict messages vsd sends back.
#include "nfq/queue_message.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include <cstring>
#include <vector>

namespace vsd::nfq {
namespace {

std::vector<std::uint8_t> kernel_packet_message(std::uint32_t id, const std::vector<std::uint8_t>& payload,
                                                std::uint32_t skb_info, std::uint32_t cap_len = 0) {
  std::vector<std::uint8_t> buf(4096);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET;
  auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = AF_INET;
  nfqnl_msg_packet_hdr ph{};
  ph.packet_id = htonl(id);
  ph.hw_protocol = htons(0x0800);
  mnl_attr_put(nlh, NFQA_PACKET_HDR, sizeof ph, &ph);
  mnl_attr_put(nlh, NFQA_PAYLOAD, payload.size(), payload.data());
  if (skb_info) mnl_attr_put_u32(nlh, NFQA_SKB_INFO, htonl(skb_info));
  if (cap_len) mnl_attr_put_u32(nlh, NFQA_CAP_LEN, htonl(cap_len));
  buf.resize(nlh->nlmsg_len);
  return buf;
}

TEST(QueueMessage, ParsesPacketIdPayloadAndChecksumFlags) {
  std::vector<std::uint8_t> payload = {0x45, 0, 0, 20, 1, 2, 3};
  auto msg = kernel_packet_message(77, payload, NFQA_SKB_CSUMNOTREADY | NFQA_SKB_GSO);
  QueuedPacket p;
  ASSERT_EQ(parse_queue_message(reinterpret_cast<nlmsghdr*>(msg.data()), p, nullptr),
            MessageKind::packet);
  EXPECT_EQ(p.id, 77u);
  ASSERT_EQ(p.len, payload.size());
  EXPECT_EQ(std::memcmp(p.data, payload.data(), payload.size()), 0);
  EXPECT_TRUE(p.checksum_not_ready);
  EXPECT_TRUE(p.gso);
  EXPECT_FALSE(p.truncated());
}

TEST(QueueMessage, TruncatedCopyIsFlagged) {
  auto msg = kernel_packet_message(5, std::vector<std::uint8_t>(100, 0x45), 0, 3000);
  QueuedPacket p;
  ASSERT_EQ(parse_queue_message(reinterpret_cast<nlmsghdr*>(msg.data()), p, nullptr),
            MessageKind::packet);
  EXPECT_TRUE(p.truncated());
  EXPECT_EQ(p.orig_len, 3000u);
}

TEST(QueueMessage, ErrorMessageReportsErrno) {
  std::vector<std::uint8_t> buf(256);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = NLMSG_ERROR;
  auto* err = static_cast<nlmsgerr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nlmsgerr)));
  err->error = -ENOENT;
  QueuedPacket p;
  int e = 0;
  EXPECT_EQ(parse_queue_message(nlh, p, &e), MessageKind::error);
  EXPECT_EQ(e, ENOENT);
}

// Flattens the iovecs the way the kernel sees the sendmsg.
std::vector<std::uint8_t> flatten(VerdictBatch& b) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i < b.iov_count(); ++i) {
    auto* p = static_cast<std::uint8_t*>(b.iov()[i].iov_base);
    out.insert(out.end(), p, p + b.iov()[i].iov_len);
  }
  return out;
}

TEST(VerdictBatch, OneSendCarriesEveryVerdictWithAlignedPayloads) {
  VerdictBatch b(4);
  std::vector<std::uint8_t> pkt1(41, 0xab);  // odd length: needs padding
  b.add(3, 100, NF_ACCEPT, 0x10007, pkt1.data(), static_cast<std::uint32_t>(pkt1.size()));
  b.add(3, 101, NF_DROP, 0, nullptr, 0);
  std::vector<std::uint8_t> pkt2(8, 0xcd);
  b.add(3, 102, NF_ACCEPT, 5, pkt2.data(), 8);
  EXPECT_EQ(b.count(), 3u);
  auto wire = flatten(b);
  EXPECT_EQ(wire.size(), b.bytes());

  // Walk the buffer with libmnl as the kernel's netlink_rcv_skb would.
  std::vector<std::uint32_t> ids, verdicts, lens, marks;
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(wire.data());
  int remaining = static_cast<int>(wire.size());
  while (mnl_nlmsg_ok(nlh, remaining)) {
    EXPECT_EQ(nlh->nlmsg_type, (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT);
    const auto* nfg = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh));
    EXPECT_EQ(ntohs(nfg->res_id), 3);
    std::uint32_t payload_len = 0;
    const char* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh));
    for (auto* a = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, sizeof(nfgenmsg)));
         mnl_attr_ok(a, static_cast<int>(tail - reinterpret_cast<const char*>(a))); a = mnl_attr_next(a)) {
      if (mnl_attr_get_type(a) == NFQA_VERDICT_HDR) {
        const auto* vh = static_cast<const nfqnl_msg_verdict_hdr*>(mnl_attr_get_payload(a));
        ids.push_back(ntohl(vh->id));
        verdicts.push_back(ntohl(vh->verdict));
      } else if (mnl_attr_get_type(a) == NFQA_MARK) {
        marks.push_back(ntohl(mnl_attr_get_u32(a)));
      } else if (mnl_attr_get_type(a) == NFQA_PAYLOAD) {
        payload_len = mnl_attr_get_payload_len(a);
        EXPECT_EQ(static_cast<const std::uint8_t*>(mnl_attr_get_payload(a))[0], payload_len == 41 ? 0xab : 0xcd);
      }
    }
    lens.push_back(payload_len);
    nlh = mnl_nlmsg_next(nlh, &remaining);
  }
  EXPECT_EQ(ids, (std::vector<std::uint32_t>{100, 101, 102}));
  EXPECT_EQ(verdicts, (std::vector<std::uint32_t>{NF_ACCEPT, NF_DROP, NF_ACCEPT}));
  EXPECT_EQ(lens, (std::vector<std::uint32_t>{41, 0, 8}));
  EXPECT_EQ(marks, (std::vector<std::uint32_t>{0x10007, 0, 5}));
  // Per-message iovec ranges, for the one-at-a-time fallback.
  EXPECT_EQ(b.message_iov_count(0), 3u);  // header, payload, padding
  EXPECT_EQ(b.message_iov_count(1), 1u);
  EXPECT_EQ(b.message_iov_count(2), 2u);
  b.clear();
  EXPECT_EQ(b.count(), 0u);
  EXPECT_EQ(b.iov_count(), 0u);
}

}  // namespace
}  // namespace vsd::nfq
