// Inputs the fuzzer (tests/fuzz/rtnl_fuzz) found, kept as regressions.
#include <gtest/gtest.h>
#include <linux/rtnetlink.h>

#include <cstring>
#include <vector>

#include "nfq/rtnl_message.hpp"

namespace vsd::rtnl {
namespace {

// A message whose nlmsg_len is 2^31 or more passed mnl_nlmsg_ok (it compares
// the length as an int), and the walk went on to a "next message" 4 GB away.
TEST(RtnlFuzzRegression, AMessageLongerThanTheBufferEndsTheWalk) {
  for (std::uint32_t bogus : {0x80000010u, 0xf3f3f3f3u, 0xfffffff0u, 0xfffffffdu, 0xffffffffu}) {
    std::vector<std::uint8_t> buf(32, 0);
    nlmsghdr h{};
    h.nlmsg_len = bogus;
    h.nlmsg_type = RTM_NEWLINK;
    std::memcpy(buf.data(), &h, sizeof h);
    int messages = 0;
    Ack ack;
    Walk w = walk_reply(buf, 0, 0, [&](const nlmsghdr*) { return ++messages, true; }, &ack);
    EXPECT_EQ(w, Walk::bad) << std::hex << bogus;
    EXPECT_EQ(messages, 0) << "a message past the buffer was handed over";
  }
}

// A last message of unaligned length: libmnl's attribute walk reads up to
// its aligned end, up to 3 bytes past the buffer (ASan, in parse_address).
TEST(RtnlFuzzRegression, AMessageWhosePaddingIsMissingIsNotHandedOver) {
  std::vector<std::uint8_t> buf(NLMSG_LENGTH(sizeof(ifaddrmsg)) + 4 + 13, 0);  // IFA_ADDRESS cut short
  nlmsghdr h{};
  h.nlmsg_len = static_cast<std::uint32_t>(buf.size());
  h.nlmsg_type = RTM_NEWADDR;
  std::memcpy(buf.data(), &h, sizeof h);
  int messages = 0;
  Ack ack;
  EXPECT_EQ(walk_reply(buf, 0, 0, [&](const nlmsghdr*) { return ++messages, true; }, &ack), Walk::bad);
  EXPECT_EQ(messages, 0);
}

}  // namespace
}  // namespace vsd::rtnl
