// The nftables state message half: flow map keys byte by byte, dump
// requests read back attribute by attribute, hand-built kernel answers
// (counter objects, set elements with timeouts and counters), and the
// delete batch decoded with libnftnl.
#include "nfq/nft_state_message.hpp"

#include <arpa/inet.h>
#include <endian.h>
#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
// glibc headers before the kernel uapi ones.
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <memory>
#include <string>
#include <vector>

#include "rtnl/netlink_message.hpp"

namespace vsd::kstate {
namespace {

using test::NetlinkMessage;
using Bytes = std::vector<std::uint8_t>;
using Attrs = std::vector<std::pair<std::uint16_t, Bytes>>;

Endpoint ep(const char* addr, std::uint16_t port) { return {*IpAddress::parse(addr), port}; }

const Bytes* find(const Attrs& attrs, std::uint16_t type) {
  for (const auto& [t, v] : attrs)
    if ((t & NLA_TYPE_MASK) == type) return &v;
  return nullptr;
}
std::string str(const Bytes* v) { return v ? std::string(v->begin(), v->end() - 1) : "(none)"; }

Attrs nested(const Bytes& payload) {
  // The helper walks attributes after a message header: give it one.
  Bytes msg(sizeof(nlmsghdr), 0);
  msg.insert(msg.end(), payload.begin(), payload.end());
  const std::uint32_t len = static_cast<std::uint32_t>(msg.size());
  std::memcpy(msg.data(), &len, 4);
  return test::attributes(msg.data(), 0);
}

TEST(FlowKey, EncodedAsTheKernelPadsIt) {
  std::uint8_t key[kFlowKeyMax];
  ASSERT_EQ(encode_flow_key({ep("198.51.100.2", 40000), ep("192.0.2.10", 80)}, key), 16u);
  // `nft --debug=netlink list map` shows this element as
  // 026433c6 0000409c 0a0200c0 00005000 (little-endian words).
  const Bytes want = {198, 51, 100, 2, 0x9c, 0x40, 0, 0, 192, 0, 2, 10, 0, 80, 0, 0};
  EXPECT_EQ(Bytes(key, key + 16), want);
  FlowKey back;
  ASSERT_TRUE(decode_flow_key({key, 16}, &back));
  EXPECT_EQ(back.client, ep("198.51.100.2", 40000));
  EXPECT_EQ(back.vip, ep("192.0.2.10", 80));

  const FlowKey v6{ep("2001:db8::2", 443), ep("2001:db8::10", 8443)};
  ASSERT_EQ(encode_flow_key(v6, key), 40u);
  EXPECT_EQ(key[0], 0x20);
  EXPECT_EQ(key[15], 2);
  EXPECT_EQ(key[16], 0x01);  // 443
  EXPECT_EQ(key[17], 0xbb);
  EXPECT_EQ(key[18] | key[19], 0);
  EXPECT_EQ(key[35], 0x10);
  EXPECT_EQ(key[36], 0x20);  // 8443
  EXPECT_EQ(key[37], 0xfb);
  ASSERT_TRUE(decode_flow_key({key, 40}, &back));
  EXPECT_EQ(back, v6);

  EXPECT_EQ(encode_flow_key({ep("198.51.100.2", 1), ep("2001:db8::10", 2)}, key), 0u);
  EXPECT_FALSE(decode_flow_key({key, 12}, &back));  // addr . port: a fwmark set's key
  EXPECT_FALSE(decode_flow_key({key, 0}, &back));
}

TEST(NftStateMessage, CounterDumpRequest) {
  alignas(nlmsghdr) std::uint8_t buf[kNftRequestSize];
  const std::size_t n = build_counter_dump(buf, 5, "vsd");
  ASSERT_GT(n, 0u);
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(buf);
  EXPECT_EQ(nlh->nlmsg_len, n);
  EXPECT_EQ(nlh->nlmsg_type, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETOBJ);
  EXPECT_EQ(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
  EXPECT_EQ(nlh->nlmsg_seq, 5u);
  EXPECT_EQ(reinterpret_cast<const nfgenmsg*>(buf + NLMSG_HDRLEN)->nfgen_family, NFPROTO_UNSPEC);
  const Attrs a = test::attributes(buf, sizeof(nfgenmsg));
  EXPECT_EQ(str(find(a, NFTA_OBJ_TABLE)), "vsd");
  ASSERT_TRUE(find(a, NFTA_OBJ_TYPE));
  std::uint32_t type;
  std::memcpy(&type, find(a, NFTA_OBJ_TYPE)->data(), 4);
  EXPECT_EQ(ntohl(type), unsigned{NFT_OBJECT_COUNTER});
  EXPECT_FALSE(find(a, NFTA_OBJ_NAME));  // every counter of the table

  EXPECT_EQ(build_counter_dump(buf, 5, ""), 0u);
  EXPECT_EQ(build_counter_dump(buf, 5, std::string(256, 'x')), 0u);
  EXPECT_GT(build_counter_dump(buf, 5, std::string(255, 'x')), 0u);
  std::uint8_t small[100];
  EXPECT_EQ(build_counter_dump(small, 5, "vsd"), 0u);
}

NetlinkMessage object(std::uint8_t family, const char* name, std::uint32_t type,
                      std::uint64_t packets, std::uint64_t bytes) {
  NetlinkMessage m((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWOBJ, NLM_F_MULTI, 5, 0);
  m.fixed(nfgenmsg{family, NFNETLINK_V0, htons(42)});
  m.attr_str(NFTA_OBJ_TABLE, "vsd").attr_str(NFTA_OBJ_NAME, name);
  m.attr_u32(NFTA_OBJ_TYPE, htonl(type)).attr_u32(NFTA_OBJ_USE, htonl(1));
  m.begin_nest(NFTA_OBJ_DATA);
  const std::uint64_t b = htobe64(bytes), p = htobe64(packets);
  if (type == NFT_OBJECT_COUNTER)
    m.attr(NFTA_COUNTER_BYTES, &b, 8).attr(NFTA_COUNTER_PACKETS, &p, 8);
  m.end_nest();
  return m;
}

TEST(NftStateMessage, CounterObjects) {
  NftCounter c;
  auto bytes = object(NFPROTO_IPV6, "in_3", NFT_OBJECT_COUNTER, 12, 5000000000ull).bytes();
  ASSERT_TRUE(parse_counter(test::as_nlmsg(bytes), &c));
  EXPECT_EQ(c.family, Family::v6);
  EXPECT_EQ(c.name, "in_3");
  EXPECT_EQ(c.packets, 12u);
  EXPECT_EQ(c.bytes, 5000000000ull);
  bytes = object(NFPROTO_IPV4, "out_3", NFT_OBJECT_COUNTER, 0, 0).bytes();
  ASSERT_TRUE(parse_counter(test::as_nlmsg(bytes), &c));
  EXPECT_EQ(c.family, Family::v4);
  EXPECT_EQ(c.name, "out_3");
  EXPECT_EQ(c.packets, 0u);

  // A quota object, an inet table's counter, another message type.
  bytes = object(NFPROTO_IPV4, "q", NFT_OBJECT_QUOTA, 0, 0).bytes();
  EXPECT_FALSE(parse_counter(test::as_nlmsg(bytes), &c));
  bytes = object(NFPROTO_INET, "in_1", NFT_OBJECT_COUNTER, 1, 1).bytes();
  EXPECT_FALSE(parse_counter(test::as_nlmsg(bytes), &c));
  NetlinkMessage set((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWSET, 0, 5, 0);
  set.fixed(nfgenmsg{NFPROTO_IPV4, NFNETLINK_V0, 0});
  bytes = set.bytes();
  EXPECT_FALSE(parse_counter(test::as_nlmsg(bytes), &c));
}

TEST(NftStateMessage, FlowMapDumpRequest) {
  alignas(nlmsghdr) std::uint8_t buf[kNftRequestSize];
  const std::size_t n = build_flow_map_dump(buf, 6, Family::v6, "vsd", "tcp_flows");
  ASSERT_GT(n, 0u);
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(buf);
  EXPECT_EQ(nlh->nlmsg_type, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETSETELEM);
  EXPECT_EQ(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
  EXPECT_EQ(reinterpret_cast<const nfgenmsg*>(buf + NLMSG_HDRLEN)->nfgen_family, NFPROTO_IPV6);
  const Attrs a = test::attributes(buf, sizeof(nfgenmsg));
  EXPECT_EQ(str(find(a, NFTA_SET_ELEM_LIST_TABLE)), "vsd");
  EXPECT_EQ(str(find(a, NFTA_SET_ELEM_LIST_SET)), "tcp_flows");
  EXPECT_FALSE(find(a, NFTA_SET_ELEM_LIST_ELEMENTS));
  EXPECT_EQ(build_flow_map_dump(buf, 6, Family::v4, "vsd", ""), 0u);
}

void be64(NetlinkMessage& m, std::uint16_t type, std::uint64_t v) {
  const std::uint64_t n = htobe64(v);
  m.attr(type, &n, 8);
}

// One element: KEY { VALUE }, DATA { VALUE }, and what else is given.
void element(NetlinkMessage& m, const Bytes& key, std::uint32_t mark, std::uint64_t timeout,
             std::uint64_t expires, bool counter) {
  m.begin_nest(NFTA_LIST_ELEM);
  m.begin_nest(NFTA_SET_ELEM_KEY).attr(NFTA_DATA_VALUE, key.data(), key.size()).end_nest();
  m.begin_nest(NFTA_SET_ELEM_DATA).attr(NFTA_DATA_VALUE, &mark, 4).end_nest();
  if (timeout) be64(m, NFTA_SET_ELEM_TIMEOUT, timeout);
  if (expires) be64(m, NFTA_SET_ELEM_EXPIRATION, expires);
  if (counter) {
    m.begin_nest(NFTA_SET_ELEM_EXPR).attr_str(NFTA_EXPR_NAME, "counter");
    m.begin_nest(NFTA_EXPR_DATA);
    be64(m, NFTA_COUNTER_BYTES, 1500);
    be64(m, NFTA_COUNTER_PACKETS, 3);
    m.end_nest().end_nest();
  }
  m.end_nest();
}

Bytes key_of(const FlowKey& k) {
  std::uint8_t key[kFlowKeyMax];
  return Bytes(key, key + encode_flow_key(k, key));
}

TEST(NftStateMessage, FlowElements) {
  NetlinkMessage m((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWSETELEM, NLM_F_MULTI, 6, 0);
  m.fixed(nfgenmsg{NFPROTO_IPV4, NFNETLINK_V0, 0});
  m.attr_str(NFTA_SET_ELEM_LIST_TABLE, "vsd").attr_str(NFTA_SET_ELEM_LIST_SET, "tcp_flows");
  m.begin_nest(NFTA_SET_ELEM_LIST_ELEMENTS);
  const FlowKey a{ep("198.51.100.2", 40000), ep("192.0.2.10", 80)};
  const FlowKey b{ep("198.51.100.3", 40001), ep("192.0.2.10", 80)};
  element(m, key_of(a), 0x10001, 100000, 99980, false);  // its own timeout
  element(m, key_of(b), 0x10002, 0, 899984, true);       // the map's timeout, counted
  element(m, Bytes{1, 2, 3, 4, 5}, 7, 0, 0, false);      // not a flow key
  m.end_nest();
  const auto bytes = m.bytes();
  std::vector<FlowElement> out;
  std::size_t skipped = 0;
  ASSERT_TRUE(parse_flow_elements(test::as_nlmsg(bytes), &out, &skipped));
  EXPECT_EQ(skipped, 1u);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].key(), a);
  EXPECT_EQ(out[0].mark, 0x10001u);
  EXPECT_EQ(out[0].timeout_ms, 100000u);
  EXPECT_EQ(out[0].expires_ms, 99980u);
  EXPECT_FALSE(out[0].counters.has_value());
  EXPECT_EQ(out[1].key(), b);
  EXPECT_EQ(out[1].mark, 0x10002u);
  EXPECT_FALSE(out[1].timeout_ms.has_value());
  EXPECT_EQ(out[1].expires_ms, 899984u);
  ASSERT_TRUE(out[1].counters.has_value());
  EXPECT_EQ(out[1].counters->packets, 3u);
  EXPECT_EQ(out[1].counters->bytes, 1500u);

  // A second message appends.
  ASSERT_TRUE(parse_flow_elements(test::as_nlmsg(bytes), &out));
  EXPECT_EQ(out.size(), 4u);

  auto obj = object(NFPROTO_IPV4, "in_1", NFT_OBJECT_COUNTER, 1, 1).bytes();
  EXPECT_FALSE(parse_flow_elements(test::as_nlmsg(obj), &out));
}

// libnftnl's parsers exit() the process on an attribute they cannot
// validate (found by tests/fuzz/kstate_fuzz): vsd reads the answers with
// libmnl instead, and a malformed element is skipped.
TEST(NftStateMessage, MalformedAttributesAreSkippedNotFatal) {
  NetlinkMessage m((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWSETELEM, NLM_F_MULTI, 6, 0);
  m.fixed(nfgenmsg{NFPROTO_IPV4, NFNETLINK_V0, 0});
  m.begin_nest(NFTA_SET_ELEM_LIST_ELEMENTS);
  m.begin_nest(NFTA_LIST_ELEM);
  m.begin_nest(NFTA_SET_ELEM_KEY);
  const std::uint8_t two[2] = {1, 2};
  m.attr(NFTA_DATA_VERDICT, two, sizeof two);  // a nest of 2 bytes: libnftnl exits here
  m.end_nest();
  m.attr(NFTA_SET_ELEM_TIMEOUT, two, sizeof two);  // a u64 of 2 bytes
  m.end_nest();
  m.end_nest();
  const auto bytes = m.bytes();
  std::vector<FlowElement> out;
  std::size_t skipped = 0;
  ASSERT_TRUE(parse_flow_elements(test::as_nlmsg(bytes), &out, &skipped));
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(skipped, 1u);

  // A counter object whose packets are 2 bytes: not a counter.
  NetlinkMessage o((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWOBJ, NLM_F_MULTI, 6, 0);
  o.fixed(nfgenmsg{NFPROTO_IPV4, NFNETLINK_V0, 0});
  o.attr_str(NFTA_OBJ_NAME, "in_1").attr_u32(NFTA_OBJ_TYPE, htonl(NFT_OBJECT_COUNTER));
  o.begin_nest(NFTA_OBJ_DATA);
  o.attr(NFTA_COUNTER_PACKETS, two, sizeof two);
  o.end_nest();
  const auto obj = o.bytes();
  NftCounter c;
  EXPECT_FALSE(parse_counter(test::as_nlmsg(obj), &c));
}

struct Decoded {
  std::uint16_t type = 0;
  std::uint32_t seq = 0;
  std::uint8_t family = 0;
  std::uint16_t flags = 0;
  std::string table, set;
  std::vector<FlowKey> keys;
};

std::vector<Decoded> decode(const Bytes& batch) {
  std::vector<Decoded> out;
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(batch.data());
  int len = static_cast<int>(batch.size());
  for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
    Decoded d;
    d.type = nlh->nlmsg_type;
    d.seq = nlh->nlmsg_seq;
    d.flags = nlh->nlmsg_flags;
    d.family = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh))->nfgen_family;
    if ((nlh->nlmsg_type >> 8) == NFNL_SUBSYS_NFTABLES) {
      // By hand: libnftnl numbers the element nests 1, 2, 3... (the kernel
      // ignores their type) and its own parser accepts only type 1.
      const Attrs a =
          test::attributes(reinterpret_cast<const std::uint8_t*>(nlh), sizeof(nfgenmsg));
      d.table = str(find(a, NFTA_SET_ELEM_LIST_TABLE));
      d.set = str(find(a, NFTA_SET_ELEM_LIST_SET));
      const Bytes* list = find(a, NFTA_SET_ELEM_LIST_ELEMENTS);
      EXPECT_TRUE(list);
      if (!list) continue;
      for (const auto& [type, elem] : nested(*list)) {
        const Attrs e = nested(elem);
        EXPECT_FALSE(find(e, NFTA_SET_ELEM_DATA));
        const Bytes* k = find(e, NFTA_SET_ELEM_KEY);
        EXPECT_TRUE(k);
        if (!k) continue;
        const Attrs kv = nested(*k);
        const Bytes* value = find(kv, NFTA_DATA_VALUE);
        FlowKey key;
        EXPECT_TRUE(value && decode_flow_key(*value, &key));
        d.keys.push_back(key);
      }
    }
    out.push_back(std::move(d));
  }
  EXPECT_EQ(len, 0);
  return out;
}

std::vector<FlowKey> keys(std::size_t n, bool v4 = true) {
  std::vector<FlowKey> out;
  for (std::size_t i = 0; i < n; ++i) {
    const auto port = static_cast<std::uint16_t>(10000 + i);
    out.push_back(v4 ? FlowKey{ep("198.51.100.2", port), ep("192.0.2.10", 80)}
                     : FlowKey{ep("2001:db8::2", port), ep("2001:db8::10", 80)});
  }
  return out;
}

TEST(NftStateMessage, DestroyBatch) {
  std::vector<FlowKey> k = keys(1001);
  k.insert(k.begin() + 3, FlowKey{ep("2001:db8::2", 1), ep("2001:db8::10", 2)});  // other family
  const Bytes batch =
      build_flow_delete_batch(Family::v4, "vsd", "tcp_flows", k, 100, DeleteOp::destroy);
  const auto msgs = decode(batch);
  ASSERT_EQ(msgs.size(), 5u);  // begin, 500 + 500 + 1, end
  EXPECT_EQ(msgs[0].type, NFNL_MSG_BATCH_BEGIN);
  EXPECT_EQ(msgs[0].seq, 100u);
  EXPECT_EQ(msgs[4].type, NFNL_MSG_BATCH_END);
  std::vector<FlowKey> all;
  for (std::size_t i = 1; i <= 3; ++i) {
    EXPECT_EQ(msgs[i].type, (NFNL_SUBSYS_NFTABLES << 8) | kNftMsgDestroySetElem);
    EXPECT_EQ(msgs[i].seq, 100u + i);
    EXPECT_EQ(msgs[i].family, NFPROTO_IPV4);
    EXPECT_TRUE(msgs[i].flags & NLM_F_ACK);
    EXPECT_EQ(msgs[i].table, "vsd");
    EXPECT_EQ(msgs[i].set, "tcp_flows");
    all.insert(all.end(), msgs[i].keys.begin(), msgs[i].keys.end());
  }
  EXPECT_EQ(msgs[1].keys.size(), 500u);
  EXPECT_EQ(msgs[3].keys.size(), 1u);
  EXPECT_EQ(all, keys(1001));
}

TEST(NftStateMessage, DeleteBatchOneMessagePerKey) {
  std::vector<FlowKey> k = keys(3, false);
  k.insert(k.begin() + 1, keys(1, true)[0]);  // other family: its seq stays unused
  const Bytes batch =
      build_flow_delete_batch(Family::v6, "vsd", "udp_flows", k, 200, DeleteOp::del);
  const auto msgs = decode(batch);
  ASSERT_EQ(msgs.size(), 5u);
  EXPECT_EQ(msgs[0].type, NFNL_MSG_BATCH_BEGIN);
  const std::uint32_t want_seq[] = {201, 203, 204};
  for (std::size_t i = 0; i < 3; ++i) {
    const Decoded& d = msgs[i + 1];
    EXPECT_EQ(d.type, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_DELSETELEM);
    EXPECT_EQ(d.seq, want_seq[i]);
    EXPECT_EQ(d.family, NFPROTO_IPV6);
    EXPECT_EQ(d.set, "udp_flows");
    ASSERT_EQ(d.keys.size(), 1u);
    EXPECT_EQ(d.keys[0], keys(3, false)[i]);
  }
  EXPECT_EQ(msgs[4].type, NFNL_MSG_BATCH_END);
  EXPECT_GT(msgs[4].seq, 204u);

  EXPECT_TRUE(
      build_flow_delete_batch(Family::v4, "vsd", "udp_flows", keys(2, false), 1, DeleteOp::destroy)
          .empty());
  EXPECT_TRUE(build_flow_delete_batch(Family::v4, "vsd", "", keys(2), 1, DeleteOp::del).empty());
}

}  // namespace
}  // namespace vsd::kstate
