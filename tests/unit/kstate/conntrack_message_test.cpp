// The conntrack message half against hand-built ctnetlink messages (the
// kernel's layout, assembled byte by byte from the uapi header, not by
// libnetfilter_conntrack) and its requests read back attribute by attribute.
#include "nfq/conntrack_message.hpp"

#include <arpa/inet.h>
#include <endian.h>
#include <gtest/gtest.h>
// glibc headers before the kernel uapi ones.
#include <netinet/in.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include <vector>

#include "rtnl/netlink_message.hpp"

namespace vsd::kstate {
namespace {

using test::NetlinkMessage;

Endpoint ep(const char* addr, std::uint16_t port) { return {*IpAddress::parse(addr), port}; }

constexpr std::uint16_t kCtNew = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
constexpr std::uint16_t kCtDelete = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;

NetlinkMessage& be16(NetlinkMessage& m, std::uint16_t type, std::uint16_t v) {
  const std::uint16_t n = htons(v);
  return m.attr(type, &n, 2);
}
NetlinkMessage& be32(NetlinkMessage& m, std::uint16_t type, std::uint32_t v) {
  return m.attr_u32(type, htonl(v));
}
NetlinkMessage& be64(NetlinkMessage& m, std::uint16_t type, std::uint64_t v) {
  const std::uint64_t n = htobe64(v);
  return m.attr(type, &n, 8);
}
NetlinkMessage& u8(NetlinkMessage& m, std::uint16_t type, std::uint8_t v) {
  return m.attr(type, &v, 1);
}

void tuple(NetlinkMessage& m, std::uint16_t which, bool v4, const char* src, const char* dst,
           std::uint8_t proto, std::uint16_t sport, std::uint16_t dport) {
  m.begin_nest(which).begin_nest(CTA_TUPLE_IP);
  m.attr_ip(v4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC, src)
      .attr_ip(v4 ? CTA_IP_V4_DST : CTA_IP_V6_DST, dst);
  m.end_nest().begin_nest(CTA_TUPLE_PROTO);
  u8(m, CTA_PROTO_NUM, proto);
  be16(m, CTA_PROTO_SRC_PORT, sport);
  be16(m, CTA_PROTO_DST_PORT, dport);
  m.end_nest().end_nest();
}

nfgenmsg nfg(std::uint8_t family) { return nfgenmsg{family, NFNETLINK_V0, 0}; }

// A NAT flow as the kernel reports it: client 198.51.100.2:40000 -> VIP
// 192.0.2.10:80, answered by 203.0.113.11:8080.
NetlinkMessage nat_event(std::uint16_t type, std::uint16_t flags) {
  NetlinkMessage m(type, flags, 0, 0);
  m.fixed(nfg(AF_INET));
  tuple(m, CTA_TUPLE_ORIG, true, "198.51.100.2", "192.0.2.10", IPPROTO_TCP, 40000, 80);
  tuple(m, CTA_TUPLE_REPLY, true, "203.0.113.11", "198.51.100.2", IPPROTO_TCP, 8080, 40000);
  be32(m, CTA_STATUS, IPS_CONFIRMED | IPS_DST_NAT | IPS_DST_NAT_DONE);
  be32(m, CTA_TIMEOUT, 120);
  be32(m, CTA_MARK, 0x10001);
  be32(m, CTA_ID, 0xdeadbeef);
  m.begin_nest(CTA_PROTOINFO).begin_nest(CTA_PROTOINFO_TCP);
  u8(m, CTA_PROTOINFO_TCP_STATE, TCP_CONNTRACK_SYN_SENT);
  m.end_nest().end_nest();
  return m;
}

TEST(ConntrackMessage, NewEventOfANatFlow) {
  const auto bytes = nat_event(kCtNew, NLM_F_CREATE | NLM_F_EXCL).bytes();
  ConntrackFlow f;
  ConntrackEvent kind = ConntrackEvent::destroyed;
  ASSERT_TRUE(parse_conntrack_message(test::as_nlmsg(bytes), &f, &kind));
  EXPECT_EQ(kind, ConntrackEvent::created);
  EXPECT_EQ(f.l4proto, IPPROTO_TCP);
  EXPECT_EQ(f.orig_src, ep("198.51.100.2", 40000));
  EXPECT_EQ(f.orig_dst, ep("192.0.2.10", 80));
  EXPECT_EQ(f.reply_src, ep("203.0.113.11", 8080));
  EXPECT_EQ(f.reply_dst, ep("198.51.100.2", 40000));
  EXPECT_EQ(f.family(), Family::v4);
  EXPECT_EQ(f.mark, 0x10001u);
  EXPECT_EQ(f.tcp_state, TCP_CONNTRACK_SYN_SENT);
  EXPECT_EQ(f.status, unsigned{IPS_CONFIRMED | IPS_DST_NAT | IPS_DST_NAT_DONE});
  EXPECT_EQ(f.id, 0xdeadbeefu);
  ASSERT_TRUE(f.timeout_s.has_value());
  EXPECT_EQ(*f.timeout_s, 120u);
  EXPECT_FALSE(f.orig_counters.has_value());
  EXPECT_FALSE(f.reply_counters.has_value());
  EXPECT_EQ(to_string(f),
            "tcp 198.51.100.2:40000 -> 192.0.2.10:80 reply 203.0.113.11:8080 mark 0x10001 "
            "SYN_SENT 120s id 3735928559");
  EXPECT_EQ(conntrack_message_mark(test::as_nlmsg(bytes)), 0x10001u);
}

TEST(ConntrackMessage, UpdateAndDumpEntriesAreUpdates) {
  // An UPDATE event has no NLM_F_CREATE; a dump entry has NLM_F_MULTI.
  for (std::uint16_t flags : {0, NLM_F_MULTI}) {
    const auto bytes = nat_event(kCtNew, static_cast<std::uint16_t>(flags)).bytes();
    ConntrackFlow f;
    ConntrackEvent kind = ConntrackEvent::created;
    ASSERT_TRUE(parse_conntrack_message(test::as_nlmsg(bytes), &f, &kind));
    EXPECT_EQ(kind, ConntrackEvent::updated);
  }
}

TEST(ConntrackMessage, DestroyEventWithCountersAndNoTimeout) {
  NetlinkMessage m(kCtDelete, 0, 0, 0);
  m.fixed(nfg(AF_INET6));
  tuple(m, CTA_TUPLE_ORIG, false, "2001:db8::2", "2001:db8::10", IPPROTO_UDP, 5353, 53);
  tuple(m, CTA_TUPLE_REPLY, false, "2001:db8:2::11", "2001:db8::2", IPPROTO_UDP, 53, 5353);
  be32(m, CTA_MARK, 7);
  m.begin_nest(CTA_COUNTERS_ORIG);
  be64(m, CTA_COUNTERS_PACKETS, 3);
  be64(m, CTA_COUNTERS_BYTES, 300);
  m.end_nest().begin_nest(CTA_COUNTERS_REPLY);
  be64(m, CTA_COUNTERS_PACKETS, 2);
  be64(m, CTA_COUNTERS_BYTES, 5000000000ull);  // past 32 bits
  m.end_nest();
  const auto bytes = m.bytes();
  ConntrackFlow f;
  ConntrackEvent kind = ConntrackEvent::created;
  ASSERT_TRUE(parse_conntrack_message(test::as_nlmsg(bytes), &f, &kind));
  EXPECT_EQ(kind, ConntrackEvent::destroyed);
  EXPECT_EQ(f.l4proto, IPPROTO_UDP);
  EXPECT_EQ(f.family(), Family::v6);
  EXPECT_EQ(f.orig_src, ep("2001:db8::2", 5353));
  EXPECT_EQ(f.orig_dst, ep("2001:db8::10", 53));
  EXPECT_EQ(f.reply_src, ep("2001:db8:2::11", 53));
  EXPECT_EQ(f.mark, 7u);
  EXPECT_EQ(f.tcp_state, 0);
  EXPECT_EQ(f.id, 0u);
  EXPECT_FALSE(f.timeout_s.has_value());
  ASSERT_TRUE(f.orig_counters && f.reply_counters);
  EXPECT_EQ(f.orig_counters->packets, 3u);
  EXPECT_EQ(f.orig_counters->bytes, 300u);
  EXPECT_EQ(f.reply_counters->packets, 2u);
  EXPECT_EQ(f.reply_counters->bytes, 5000000000ull);
}

TEST(ConntrackMessage, MarkZeroIsLeftOutByTheKernel) {
  NetlinkMessage m(kCtNew, NLM_F_CREATE, 0, 0);
  m.fixed(nfg(AF_INET));
  tuple(m, CTA_TUPLE_ORIG, true, "198.51.100.2", "192.0.2.10", IPPROTO_TCP, 40000, 80);
  const auto bytes = m.bytes();
  EXPECT_EQ(conntrack_message_mark(test::as_nlmsg(bytes)), 0u);
  ConntrackFlow f;
  ConntrackEvent kind;
  ASSERT_TRUE(parse_conntrack_message(test::as_nlmsg(bytes), &f, &kind));
  EXPECT_EQ(f.mark, 0u);
  // No reply tuple: no NAT assumed.
  EXPECT_EQ(f.reply_src, f.orig_dst);
  EXPECT_EQ(f.reply_dst, f.orig_src);
}

TEST(ConntrackMessage, RefusesWhatIsNotAFlow) {
  ConntrackFlow f;
  ConntrackEvent kind;
  // Another subsystem (the queue), same message number.
  auto other = nat_event((NFNL_SUBSYS_QUEUE << 8) | IPCTNL_MSG_CT_NEW, 0).bytes();
  EXPECT_FALSE(parse_conntrack_message(test::as_nlmsg(other), &f, &kind));
  EXPECT_EQ(conntrack_message_mark(test::as_nlmsg(other)), 0u);
  // A ctnetlink message that is not about one entry.
  auto stats = nat_event((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET_STATS, 0).bytes();
  EXPECT_FALSE(parse_conntrack_message(test::as_nlmsg(stats), &f, &kind));
  // No original tuple.
  NetlinkMessage no_tuple(kCtNew, 0, 0, 0);
  no_tuple.fixed(nfg(AF_INET));
  be32(no_tuple, CTA_MARK, 1);
  auto bytes = no_tuple.bytes();
  EXPECT_FALSE(parse_conntrack_message(test::as_nlmsg(bytes), &f, &kind));
  // An IPv4 family with IPv6 addresses.
  NetlinkMessage mixed(kCtNew, 0, 0, 0);
  mixed.fixed(nfg(AF_INET));
  tuple(mixed, CTA_TUPLE_ORIG, false, "2001:db8::2", "2001:db8::10", IPPROTO_TCP, 1, 2);
  bytes = mixed.bytes();
  EXPECT_FALSE(parse_conntrack_message(test::as_nlmsg(bytes), &f, &kind));
  // Shorter than its nfgenmsg.
  NetlinkMessage shorty(kCtNew, 0, 0, 0);
  bytes = shorty.bytes();
  EXPECT_FALSE(parse_conntrack_message(test::as_nlmsg(bytes), &f, &kind));
  EXPECT_EQ(conntrack_message_mark(test::as_nlmsg(bytes)), 0u);
}

TEST(ConntrackMessage, MalformedAttributesDoNotReadOutside) {
  // Every truncation of a good message, with the length fixed up: parsing
  // must never read past the end (the sanitizer build checks) and never
  // accept a message without its addresses.
  const auto good = nat_event(kCtNew, NLM_F_CREATE).bytes();
  for (std::size_t len = NLMSG_HDRLEN; len < good.size(); len += 4) {
    std::vector<std::uint8_t> cut(good.begin(), good.begin() + static_cast<long>(len));
    const std::uint32_t l = static_cast<std::uint32_t>(len);
    std::memcpy(cut.data(), &l, 4);
    ConntrackFlow f;
    ConntrackEvent kind;
    if (parse_conntrack_message(test::as_nlmsg(cut), &f, &kind)) {
      EXPECT_FALSE(f.orig_src.addr.is_unspecified()) << len;
      EXPECT_FALSE(f.orig_dst.addr.is_unspecified()) << len;
    }
    conntrack_message_mark(test::as_nlmsg(cut));
  }
  // A mark of the wrong length is not a mark.
  NetlinkMessage m(kCtNew, 0, 0, 0);
  m.fixed(nfg(AF_INET));
  m.attr(CTA_MARK, "\x01\x02", 2);
  const auto bytes = m.bytes();
  EXPECT_EQ(conntrack_message_mark(test::as_nlmsg(bytes)), 0u);
}

using Attrs = std::vector<std::pair<std::uint16_t, std::vector<std::uint8_t>>>;

const std::vector<std::uint8_t>* find(const Attrs& attrs, std::uint16_t type) {
  for (const auto& [t, v] : attrs)
    if ((t & NLA_TYPE_MASK) == type) return &v;
  return nullptr;
}

Attrs nested(const std::vector<std::uint8_t>& payload) {
  // The helper walks attributes after a message header: give it one.
  std::vector<std::uint8_t> msg(sizeof(nlmsghdr), 0);
  msg.insert(msg.end(), payload.begin(), payload.end());
  const std::uint32_t len = static_cast<std::uint32_t>(msg.size());
  std::memcpy(msg.data(), &len, 4);
  return test::attributes(msg.data(), 0);
}

std::uint32_t be32_of(const std::vector<std::uint8_t>& v) {
  std::uint32_t x;
  std::memcpy(&x, v.data(), 4);
  return ntohl(x);
}

TEST(ConntrackMessage, DumpRequest) {
  alignas(nlmsghdr) std::uint8_t buf[kConntrackRequestSize];
  std::size_t n = build_conntrack_dump(buf, 77);
  ASSERT_GT(n, 0u);
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(buf);
  EXPECT_EQ(nlh->nlmsg_len, n);
  EXPECT_EQ(nlh->nlmsg_type, (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET);
  EXPECT_EQ(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
  EXPECT_EQ(nlh->nlmsg_seq, 77u);
  const auto* g = reinterpret_cast<const nfgenmsg*>(buf + NLMSG_HDRLEN);
  EXPECT_EQ(g->nfgen_family, AF_UNSPEC);  // both families
  EXPECT_TRUE(test::attributes(buf, sizeof(nfgenmsg)).empty());

  const MarkMatch match{0x10003, 0xffff0000};  // value bits outside the mask are dropped
  n = build_conntrack_dump(buf, 78, &match);
  const Attrs a = test::attributes(buf, sizeof(nfgenmsg));
  ASSERT_EQ(a.size(), 2u);
  ASSERT_TRUE(find(a, CTA_MARK) && find(a, CTA_MARK_MASK));
  EXPECT_EQ(be32_of(*find(a, CTA_MARK)), 0x10000u);
  EXPECT_EQ(be32_of(*find(a, CTA_MARK_MASK)), 0xffff0000u);

  std::uint8_t small[kConntrackRequestSize - 1];
  EXPECT_EQ(build_conntrack_dump(small, 1), 0u);
}

ConntrackFlow flow(const char* src, std::uint16_t sport, const char* dst, std::uint16_t dport,
                   std::uint8_t proto = IPPROTO_TCP) {
  ConntrackFlow f;
  f.l4proto = proto;
  f.orig_src = ep(src, sport);
  f.orig_dst = ep(dst, dport);
  f.reply_src = ep("203.0.113.11", 8080);
  f.reply_dst = f.orig_src;
  f.mark = 0x10001;
  return f;
}

TEST(ConntrackMessage, DeleteRequestCarriesTheOriginalTupleAndId) {
  alignas(nlmsghdr) std::uint8_t buf[kConntrackRequestSize];
  ConntrackFlow f = flow("198.51.100.2", 40000, "192.0.2.10", 80);
  f.id = 0x01020304;
  const std::size_t n = build_conntrack_delete(buf, 9, f);
  ASSERT_GT(n, 0u);
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(buf);
  EXPECT_EQ(nlh->nlmsg_type, kCtDelete);
  EXPECT_EQ(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
  EXPECT_EQ(reinterpret_cast<const nfgenmsg*>(buf + NLMSG_HDRLEN)->nfgen_family, AF_INET);
  const Attrs a = test::attributes(buf, sizeof(nfgenmsg));
  // The original tuple, the id, and nothing that would widen the delete
  // (no reply tuple, no mark: a mark without a tuple is a filtered flush).
  ASSERT_TRUE(find(a, CTA_TUPLE_ORIG));
  EXPECT_FALSE(find(a, CTA_TUPLE_REPLY));
  EXPECT_FALSE(find(a, CTA_MARK));
  ASSERT_TRUE(find(a, CTA_ID));
  EXPECT_EQ(be32_of(*find(a, CTA_ID)), 0x01020304u);
  const Attrs t = nested(*find(a, CTA_TUPLE_ORIG));
  ASSERT_TRUE(find(t, CTA_TUPLE_IP) && find(t, CTA_TUPLE_PROTO));
  const Attrs ip = nested(*find(t, CTA_TUPLE_IP));
  ASSERT_TRUE(find(ip, CTA_IP_V4_SRC) && find(ip, CTA_IP_V4_DST));
  EXPECT_EQ(*find(ip, CTA_IP_V4_SRC), (std::vector<std::uint8_t>{198, 51, 100, 2}));
  EXPECT_EQ(*find(ip, CTA_IP_V4_DST), (std::vector<std::uint8_t>{192, 0, 2, 10}));
  const Attrs p = nested(*find(t, CTA_TUPLE_PROTO));
  ASSERT_TRUE(find(p, CTA_PROTO_NUM) && find(p, CTA_PROTO_SRC_PORT) && find(p, CTA_PROTO_DST_PORT));
  EXPECT_EQ((*find(p, CTA_PROTO_NUM))[0], IPPROTO_TCP);
  EXPECT_EQ(*find(p, CTA_PROTO_SRC_PORT), (std::vector<std::uint8_t>{0x9c, 0x40}));  // 40000
  EXPECT_EQ(*find(p, CTA_PROTO_DST_PORT), (std::vector<std::uint8_t>{0, 80}));

  // Read back as a message, it is the same flow (destroyed, no NAT known).
  ConntrackFlow back;
  ConntrackEvent kind;
  ASSERT_TRUE(parse_conntrack_message(nlh, &back, &kind));
  EXPECT_EQ(kind, ConntrackEvent::destroyed);
  EXPECT_EQ(back.orig_src, f.orig_src);
  EXPECT_EQ(back.orig_dst, f.orig_dst);
  EXPECT_EQ(back.id, f.id);

  // Without an id there is no CTA_ID; IPv6 works alike.
  ConntrackFlow v6 = flow("2001:db8::2", 5353, "2001:db8::10", 53, IPPROTO_UDP);
  ASSERT_GT(build_conntrack_delete(buf, 10, v6), 0u);
  EXPECT_EQ(reinterpret_cast<const nfgenmsg*>(buf + NLMSG_HDRLEN)->nfgen_family, AF_INET6);
  const Attrs a6 = test::attributes(buf, sizeof(nfgenmsg));
  EXPECT_FALSE(find(a6, CTA_ID));
  const Attrs ip6 = nested(*find(nested(*find(a6, CTA_TUPLE_ORIG)), CTA_TUPLE_IP));
  ASSERT_TRUE(find(ip6, CTA_IP_V6_SRC));
  EXPECT_EQ(find(ip6, CTA_IP_V6_SRC)->size(), 16u);
}

TEST(ConntrackMessage, NoDeleteWithoutACompleteTuple) {
  alignas(nlmsghdr) std::uint8_t buf[kConntrackRequestSize];
  EXPECT_EQ(build_conntrack_delete(buf, 1, ConntrackFlow{}), 0u);
  ConntrackFlow mixed = flow("198.51.100.2", 40000, "2001:db8::10", 80);
  EXPECT_EQ(build_conntrack_delete(buf, 1, mixed), 0u);
  EXPECT_EQ(build_conntrack_delete(buf, 1, flow("198.51.100.2", 0, "192.0.2.10", 80)), 0u);
  EXPECT_EQ(build_conntrack_delete(buf, 1, flow("198.51.100.2", 1, "192.0.2.10", 0)), 0u);
  EXPECT_EQ(build_conntrack_delete(buf, 1, flow("198.51.100.2", 1, "192.0.2.10", 2, IPPROTO_ICMP)),
            0u);
  std::uint8_t small[64];
  EXPECT_EQ(build_conntrack_delete(small, 1, flow("198.51.100.2", 1, "192.0.2.10", 2)), 0u);
}

TEST(ConntrackMessage, Names) {
  EXPECT_EQ(tcp_state_name(TCP_CONNTRACK_ESTABLISHED), "ESTABLISHED");
  EXPECT_EQ(tcp_state_name(TCP_CONNTRACK_TIME_WAIT), "TIME_WAIT");
  EXPECT_EQ(tcp_state_name(0), "NONE");
  EXPECT_EQ(tcp_state_name(42), "42");
  EXPECT_STREQ(to_string(ConntrackEvent::created), "created");
  EXPECT_STREQ(to_string(ConntrackEvent::destroyed), "destroyed");
}

}  // namespace
}  // namespace vsd::kstate
