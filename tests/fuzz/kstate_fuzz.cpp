// nfq/conntrack_message and nfq/nft_state_message: the kernel fast path's
// state readers over a netlink buffer as recv() returns it (libmnl's
// message walk, as the socket halves hand messages over): conntrack events
// and dump entries (libnetfilter_conntrack's parser), nft counter objects
// and flow map elements (vsd's own libmnl reader), and the flow key encoding. Besides
// ASan/UBSan it checks:
//  - a flow parsed from a message and deleted by tuple: the delete request
//    parses back to the same tuple;
//  - a flow key encodes and decodes to itself;
//  - the builders refuse buffers that are too short and never overrun one.
//
// Input: 8 parameter bytes (0: flags, 1: buffer size, 2-5: an address,
// 6-7: a port), then the netlink buffer.
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <string>

#include "fuzz_common.hpp"
#include "nfq/conntrack_message.hpp"
#include "nfq/nft_state_message.hpp"

namespace vsd {
namespace {

using namespace kstate;

// libnetfilter_conntrack's parser calls exit() ("ctnetlink kernel ABI is
// broken") on an attribute of the wrong length, which would end the fuzzer
// (and vsd: see tests/fuzz/README.md). Messages the library would refuse
// that way are left out here, by its own rules (libmnl's
// mnl_attr_validate per attribute type).
enum class Kind { any, u8, u16, u32, u64, bin16, bin2, str, nest };
struct Rule {
  std::uint16_t type;
  Kind kind;
  const struct Rules* nested = nullptr;
};
struct Rules {
  std::initializer_list<Rule> rules;
};
const Rules kIp{{{CTA_IP_V4_SRC, Kind::u32}, {CTA_IP_V4_DST, Kind::u32}, {CTA_IP_V6_SRC, Kind::bin16},
                 {CTA_IP_V6_DST, Kind::bin16}}};
const Rules kProto{{{CTA_PROTO_NUM, Kind::u8}, {CTA_PROTO_SRC_PORT, Kind::u16}, {CTA_PROTO_DST_PORT, Kind::u16},
                    {CTA_PROTO_ICMP_ID, Kind::u16}, {CTA_PROTO_ICMP_TYPE, Kind::u8}, {CTA_PROTO_ICMP_CODE, Kind::u8},
                    {CTA_PROTO_ICMPV6_ID, Kind::u16}, {CTA_PROTO_ICMPV6_TYPE, Kind::u8},
                    {CTA_PROTO_ICMPV6_CODE, Kind::u8}}};
const Rules kTuple{{{CTA_TUPLE_IP, Kind::nest, &kIp}, {CTA_TUPLE_PROTO, Kind::nest, &kProto}, {CTA_TUPLE_ZONE, Kind::u16}}};
const Rules kTcp{{{CTA_PROTOINFO_TCP_STATE, Kind::u8}, {CTA_PROTOINFO_TCP_WSCALE_ORIGINAL, Kind::u8},
                  {CTA_PROTOINFO_TCP_WSCALE_REPLY, Kind::u8}, {CTA_PROTOINFO_TCP_FLAGS_ORIGINAL, Kind::bin2},
                  {CTA_PROTOINFO_TCP_FLAGS_REPLY, Kind::bin2}}};
const Rules kSctp{{{CTA_PROTOINFO_SCTP_STATE, Kind::u8}, {CTA_PROTOINFO_SCTP_VTAG_ORIGINAL, Kind::u32},
                   {CTA_PROTOINFO_SCTP_VTAG_REPLY, Kind::u32}}};
const Rules kDccp{{{CTA_PROTOINFO_DCCP_STATE, Kind::u8}, {CTA_PROTOINFO_DCCP_ROLE, Kind::u8},
                   {CTA_PROTOINFO_DCCP_HANDSHAKE_SEQ, Kind::u64}}};
const Rules kProtoinfo{{{CTA_PROTOINFO_TCP, Kind::nest, &kTcp}, {CTA_PROTOINFO_SCTP, Kind::nest, &kSctp},
                        {CTA_PROTOINFO_DCCP, Kind::nest, &kDccp}}};
const Rules kCounters{{{CTA_COUNTERS_PACKETS, Kind::u64}, {CTA_COUNTERS_BYTES, Kind::u64},
                       {CTA_COUNTERS32_PACKETS, Kind::u32}, {CTA_COUNTERS32_BYTES, Kind::u32}}};
const Rules kSeqAdj{{{CTA_SEQADJ_CORRECTION_POS, Kind::u32}, {CTA_SEQADJ_OFFSET_BEFORE, Kind::u32},
                     {CTA_SEQADJ_OFFSET_AFTER, Kind::u32}}};
const Rules kHelp{{{CTA_HELP_NAME, Kind::str}}};
const Rules kSecctx{{{CTA_SECCTX_NAME, Kind::str}}};
const Rules kTimestamp{{{CTA_TIMESTAMP_START, Kind::u64}, {CTA_TIMESTAMP_STOP, Kind::u64}}};
const Rules kSynproxy{{{CTA_SYNPROXY_ISN, Kind::u32}, {CTA_SYNPROXY_ITS, Kind::u32}, {CTA_SYNPROXY_TSOFF, Kind::u32}}};
const Rules kConntrack{{{CTA_TUPLE_ORIG, Kind::nest, &kTuple}, {CTA_TUPLE_REPLY, Kind::nest, &kTuple},
                        {CTA_TUPLE_MASTER, Kind::nest, &kTuple}, {CTA_STATUS, Kind::u32},
                        {CTA_PROTOINFO, Kind::nest, &kProtoinfo}, {CTA_HELP, Kind::nest, &kHelp},
                        {CTA_TIMEOUT, Kind::u32}, {CTA_MARK, Kind::u32},
                        {CTA_COUNTERS_ORIG, Kind::nest, &kCounters}, {CTA_COUNTERS_REPLY, Kind::nest, &kCounters},
                        {CTA_USE, Kind::u32}, {CTA_ID, Kind::u32}, {CTA_SEQ_ADJ_ORIG, Kind::nest, &kSeqAdj},
                        {CTA_SEQ_ADJ_REPLY, Kind::nest, &kSeqAdj}, {CTA_SECMARK, Kind::u32},
                        {CTA_ZONE, Kind::u16}, {CTA_SECCTX, Kind::nest, &kSecctx},
                        {CTA_TIMESTAMP, Kind::nest, &kTimestamp}, {CTA_LABELS, Kind::any},
                        {CTA_SYNPROXY, Kind::nest, &kSynproxy}}};

bool library_accepts(const std::uint8_t* p, std::size_t len, const Rules& rules) {
  while (len >= 4) {  // mnl_attr_ok: the walk stops at the first malformed attribute
    std::uint16_t alen, type;
    std::memcpy(&alen, p, 2);
    std::memcpy(&type, p + 2, 2);
    if (alen < 4 || alen > len) return true;
    type &= NLA_TYPE_MASK;
    const std::size_t plen = alen - 4u;
    for (const Rule& r : rules.rules) {
      if (r.type != type) continue;
      switch (r.kind) {
        case Kind::any: break;
        case Kind::u8: if (plen != 1) return false; break;
        case Kind::u16: if (plen != 2) return false; break;
        case Kind::u32: if (plen != 4) return false; break;
        case Kind::u64: if (plen != 8) return false; break;
        case Kind::bin16: if (plen != 16) return false; break;
        case Kind::bin2: if (plen != 2) return false; break;
        case Kind::str: if (plen == 0) return false; break;
        case Kind::nest:
          if (plen != 0 && plen < 4) return false;
          if (!library_accepts(p + 4, plen, *r.nested)) return false;
          break;
      }
    }
    const std::size_t step = NLA_ALIGN(std::size_t{alen});
    if (step >= len) return true;
    p += step;
    len -= step;
  }
  return true;
}

bool conntrack_library_accepts(const nlmsghdr* nlh) {
  const std::size_t hdr = NLMSG_HDRLEN + sizeof(nfgenmsg);
  if (nlh->nlmsg_len < hdr) return true;
  return library_accepts(reinterpret_cast<const std::uint8_t*>(nlh) + hdr, nlh->nlmsg_len - hdr, kConntrack);
}

void delete_round_trip(const ConntrackFlow& f) {
  std::vector<std::uint8_t> buf(kConntrackRequestSize);
  const std::size_t n = build_conntrack_delete(buf, 9, f);
  if (!n) return;
  FUZZ_CHECK(n <= buf.size(), "a delete longer than its buffer");
  buf.resize(n);
  ConntrackFlow back;
  ConntrackEvent kind;
  FUZZ_CHECK(parse_conntrack_message(reinterpret_cast<const nlmsghdr*>(buf.data()), &back, &kind),
             "our own delete request does not parse: %s", to_string(f).c_str());
  FUZZ_CHECK(kind == ConntrackEvent::destroyed, "a delete reads as %s", to_string(kind));
  FUZZ_CHECK(back.l4proto == f.l4proto && back.orig_src == f.orig_src && back.orig_dst == f.orig_dst,
             "a delete request names another tuple: %s -> %s", to_string(f).c_str(), to_string(back).c_str());
  FUZZ_CHECK(back.id == f.id, "a delete request names another id");
}

void key_round_trip(const FlowKey& k) {
  std::array<std::uint8_t, kFlowKeyMax> bytes{};
  const std::size_t n = encode_flow_key(k, bytes);
  if (!n) {
    FUZZ_CHECK(k.client.addr.is_v4() != k.vip.addr.is_v4(), "a key of one family not encoded");
    return;
  }
  FlowKey back;
  FUZZ_CHECK(decode_flow_key(std::span<const std::uint8_t>(bytes.data(), n), &back), "own key does not decode");
  FUZZ_CHECK(back == k, "a key decodes as another");
}

void message(const nlmsghdr* nlh) {
  ConntrackFlow f;
  ConntrackEvent kind;
  if (conntrack_library_accepts(nlh) && parse_conntrack_message(nlh, &f, &kind)) {
    (void)to_string(f);
    (void)tcp_state_name(f.tcp_state);
    (void)f.family();
    delete_round_trip(f);
  }
  (void)conntrack_message_mark(nlh);
  NftCounter c;
  if (parse_counter(nlh, &c)) FUZZ_CHECK(c.family == Family::v4 || c.family == Family::v6, "counter family");
  std::vector<FlowElement> elements;
  std::size_t skipped = 0;
  if (parse_flow_elements(nlh, &elements, &skipped))
    for (const auto& e : elements) key_round_trip(e.key());
}

void builders(const fuzz::Params<8>& p, const std::string& name) {
  std::vector<std::uint8_t> buf(p.u8(1) % 2 ? kNftRequestSize : p.u8(1) * 4u);
  MarkMatch m{p.u32(2), p.u32(4)};
  std::size_t n = build_conntrack_dump(buf, 1, (p.u8(0) & 2) ? &m : nullptr);
  FUZZ_CHECK(n <= buf.size(), "a dump longer than its buffer");
  n = build_counter_dump(buf, 2, name);
  FUZZ_CHECK(n <= buf.size(), "a counter dump longer than its buffer");
  const Family fam = (p.u8(0) & 4) ? Family::v6 : Family::v4;
  n = build_flow_map_dump(buf, 3, fam, name, "tcp_flows");
  FUZZ_CHECK(n <= buf.size(), "a map dump longer than its buffer");
  FUZZ_CHECK(buf.size() >= kNftRequestSize || n == 0, "a dump built in a short buffer");
  ConntrackFlow f;
  f.l4proto = (p.u8(0) & 8) ? IPPROTO_UDP : IPPROTO_TCP;
  f.orig_src = {fuzz::address(p.b + 2, fam == Family::v6), p.u16(6)};
  f.orig_dst = {fuzz::address(p.b + 3, fam == Family::v6), p.u16(5)};
  f.id = p.u8(0) & 16 ? p.u32(1) : 0;
  delete_round_trip(f);
  key_round_trip({f.orig_src, f.orig_dst});
  const FlowKey keys[] = {{f.orig_src, f.orig_dst}, {f.orig_dst, f.orig_src}};
  auto batch = build_flow_delete_batch(fam, name, "udp_flows", keys, 4,
                                       (p.u8(0) & 32) ? DeleteOp::del : DeleteOp::destroy);
  (void)batch;
}

}  // namespace
}  // namespace vsd

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vsd;
  fuzz::Params<8> p(data, size);
  std::vector<std::uint8_t> buf = fuzz::copy(p.rest, p.rest_len);
  builders(p, std::string(reinterpret_cast<const char*>(p.rest), std::min<std::size_t>(p.rest_len, p.u8(1) % 300)));
  fuzz::for_each_message(buf, [](const nlmsghdr* nlh) { message(nlh); });
  // The raw bytes as a flow key, too.
  FlowKey k;
  if (kstate::decode_flow_key(std::span<const std::uint8_t>(buf.data(), std::min<std::size_t>(buf.size(), 40)), &k))
    key_round_trip(k);
  return 0;
}
