// Inputs the fuzzer (tests/fuzz/queue_fuzz) found, kept as regressions.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libmnl/libmnl.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <vector>

#include "nfq/queue_message.hpp"

namespace vsd::nfq {
namespace {

// The attributes were read up to the message's 4-byte-aligned end: in a last
// message of unaligned length, the payload could claim up to 3 bytes past
// nlmsg_len, past the bytes received.
TEST(QueueMessageFuzzRegression, APayloadEndsWithinTheMessage) {
  std::vector<std::uint8_t> buf(256, 0);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET;
  mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg));
  nfqnl_msg_packet_hdr ph{};
  ph.packet_id = htonl(5);
  mnl_attr_put(nlh, NFQA_PACKET_HDR, sizeof ph, &ph);
  const std::uint8_t payload[6] = {0x45, 0, 0, 6, 0xaa, 0xbb};
  mnl_attr_put(nlh, NFQA_PAYLOAD, sizeof payload, payload);  // 10 bytes + 2 of padding
  nlh->nlmsg_len -= 3;  // the message ends 1 byte before the payload does
  buf.resize(nlh->nlmsg_len);
  QueuedPacket p;
  ASSERT_EQ(parse_queue_message(reinterpret_cast<nlmsghdr*>(buf.data()), p, nullptr), MessageKind::packet);
  EXPECT_EQ(p.id, 5u);
  const auto* msg = buf.data();
  EXPECT_LE(p.data + p.len, msg + buf.size()) << "payload past the message";
  EXPECT_EQ(p.len, 0u) << "the cut payload attribute is not taken";
}

// An NLMSG_ERROR carrying INT_MIN: its errno was -INT_MIN, an overflow
// (UBSan: "negation of -2147483648 cannot be represented").
TEST(QueueMessageFuzzRegression, AnErrorOfIntMinIsNotNegated) {
  std::vector<std::uint8_t> buf(NLMSG_LENGTH(sizeof(nlmsgerr)), 0);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = NLMSG_ERROR;
  auto* err = static_cast<nlmsgerr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nlmsgerr)));
  err->error = INT_MIN;
  int error = 0;
  QueuedPacket p;
  EXPECT_EQ(parse_queue_message(nlh, p, &error), MessageKind::error);
  EXPECT_GT(error, 0);
  err->error = -ENOBUFS;
  EXPECT_EQ(parse_queue_message(nlh, p, &error), MessageKind::error);
  EXPECT_EQ(error, ENOBUFS);
}

}  // namespace
}  // namespace vsd::nfq
