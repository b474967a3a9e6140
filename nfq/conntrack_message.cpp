#include "nfq/conntrack_message.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
// libnetfilter_conntrack brings its own copies of the ctnetlink uapi headers
// (CTA_*, nfgenmsg): no <linux/netfilter/nfnetlink*.h> next to it.
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack_tcp.h>

#include <cstdio>
#include <cstring>
#include <iterator>
#include <memory>

namespace vsd::kstate {
namespace {

struct CtDeleter {
  void operator()(nf_conntrack* ct) const { nfct_destroy(ct); }
};
using CtPtr = std::unique_ptr<nf_conntrack, CtDeleter>;

bool is_ctnetlink(const nlmsghdr* nlh) {
  return (nlh->nlmsg_type >> 8) == NFNL_SUBSYS_CTNETLINK &&
         nlh->nlmsg_len >= NLMSG_HDRLEN + sizeof(nfgenmsg);
}

bool attr(const nf_conntrack* ct, nf_conntrack_attr a) { return nfct_attr_is_set(ct, a) > 0; }

// One direction's addresses and ports out of a parsed entry.
bool read_tuple(const nf_conntrack* ct, bool v4, bool original, Endpoint* src, Endpoint* dst) {
  const nf_conntrack_attr s = v4 ? (original ? ATTR_ORIG_IPV4_SRC : ATTR_REPL_IPV4_SRC)
                                 : (original ? ATTR_ORIG_IPV6_SRC : ATTR_REPL_IPV6_SRC);
  const nf_conntrack_attr d = v4 ? (original ? ATTR_ORIG_IPV4_DST : ATTR_REPL_IPV4_DST)
                                 : (original ? ATTR_ORIG_IPV6_DST : ATTR_REPL_IPV6_DST);
  if (!attr(ct, s) || !attr(ct, d)) return false;
  const auto* sp = static_cast<const std::uint8_t*>(nfct_get_attr(ct, s));
  const auto* dp = static_cast<const std::uint8_t*>(nfct_get_attr(ct, d));
  src->addr = v4 ? IpAddress::v4(sp) : IpAddress::v6(sp);
  dst->addr = v4 ? IpAddress::v4(dp) : IpAddress::v6(dp);
  const nf_conntrack_attr ps = original ? ATTR_ORIG_PORT_SRC : ATTR_REPL_PORT_SRC;
  const nf_conntrack_attr pd = original ? ATTR_ORIG_PORT_DST : ATTR_REPL_PORT_DST;
  src->port = attr(ct, ps) ? ntohs(nfct_get_attr_u16(ct, ps)) : 0;
  dst->port = attr(ct, pd) ? ntohs(nfct_get_attr_u16(ct, pd)) : 0;
  return true;
}

std::optional<FlowCounters> counters(const nf_conntrack* ct, nf_conntrack_attr packets,
                                     nf_conntrack_attr bytes) {
  if (!attr(ct, packets) || !attr(ct, bytes)) return std::nullopt;
  return FlowCounters{nfct_get_attr_u64(ct, packets), nfct_get_attr_u64(ct, bytes)};
}

// nlmsghdr + nfgenmsg of a ctnetlink request.
nlmsghdr* put_header(std::span<std::uint8_t> buf, std::uint8_t msg, std::uint16_t flags,
                     std::uint32_t seq, std::uint8_t family) {
  std::memset(buf.data(), 0, kConntrackRequestSize);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = static_cast<std::uint16_t>((NFNL_SUBSYS_CTNETLINK << 8) | msg);
  nlh->nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | flags);
  nlh->nlmsg_seq = seq;
  auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = family;
  nfg->version = NFNETLINK_V0;
  nfg->res_id = 0;
  return nlh;
}

}  // namespace

const char* to_string(ConntrackEvent kind) {
  switch (kind) {
    case ConntrackEvent::created: return "created";
    case ConntrackEvent::updated: return "updated";
    case ConntrackEvent::destroyed: return "destroyed";
  }
  return "?";
}

bool parse_conntrack_message(const nlmsghdr* nlh, ConntrackFlow* flow, ConntrackEvent* kind) {
  if (!is_ctnetlink(nlh)) return false;
  const std::uint8_t msg = nlh->nlmsg_type & 0xff;
  ConntrackEvent k;
  if (msg == IPCTNL_MSG_CT_NEW)
    k = (nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL)) ? ConntrackEvent::created
                                                         : ConntrackEvent::updated;
  else if (msg == IPCTNL_MSG_CT_DELETE)
    k = ConntrackEvent::destroyed;
  else
    return false;
  CtPtr ct(nfct_new());
  if (!ct) return false;
  // The parser validates each attribute's length (libmnl) and skips what it
  // does not know; a malformed message leaves the entry incomplete, which
  // the checks below turn into a refusal.
  nfct_nlmsg_parse(nlh, ct.get());
  if (!attr(ct.get(), ATTR_ORIG_L3PROTO)) return false;
  const std::uint8_t l3 = nfct_get_attr_u8(ct.get(), ATTR_ORIG_L3PROTO);
  if (l3 != AF_INET && l3 != AF_INET6) return false;
  const bool v4 = l3 == AF_INET;
  ConntrackFlow f;
  if (!read_tuple(ct.get(), v4, true, &f.orig_src, &f.orig_dst)) return false;
  if (!read_tuple(ct.get(), v4, false, &f.reply_src, &f.reply_dst)) {
    // The kernel always sends both; should one be missing, no NAT is the
    // honest guess.
    f.reply_src = f.orig_dst;
    f.reply_dst = f.orig_src;
  }
  if (attr(ct.get(), ATTR_ORIG_L4PROTO)) f.l4proto = nfct_get_attr_u8(ct.get(), ATTR_ORIG_L4PROTO);
  if (attr(ct.get(), ATTR_MARK)) f.mark = nfct_get_attr_u32(ct.get(), ATTR_MARK);
  if (attr(ct.get(), ATTR_TCP_STATE)) f.tcp_state = nfct_get_attr_u8(ct.get(), ATTR_TCP_STATE);
  if (attr(ct.get(), ATTR_STATUS)) f.status = nfct_get_attr_u32(ct.get(), ATTR_STATUS);
  if (attr(ct.get(), ATTR_ID)) f.id = nfct_get_attr_u32(ct.get(), ATTR_ID);
  if (attr(ct.get(), ATTR_TIMEOUT)) f.timeout_s = nfct_get_attr_u32(ct.get(), ATTR_TIMEOUT);
  f.orig_counters = counters(ct.get(), ATTR_ORIG_COUNTER_PACKETS, ATTR_ORIG_COUNTER_BYTES);
  f.reply_counters = counters(ct.get(), ATTR_REPL_COUNTER_PACKETS, ATTR_REPL_COUNTER_BYTES);
  *flow = f;
  *kind = k;
  return true;
}

std::uint32_t conntrack_message_mark(const nlmsghdr* nlh) {
  if (!is_ctnetlink(nlh)) return 0;
  std::uint32_t mark = 0;
  mnl_attr_parse(
      nlh, sizeof(nfgenmsg),
      [](const nlattr* a, void* data) {
        if (mnl_attr_get_type(a) == CTA_MARK && mnl_attr_get_payload_len(a) == 4) {
          *static_cast<std::uint32_t*>(data) = ntohl(mnl_attr_get_u32(a));
          return MNL_CB_STOP;
        }
        return MNL_CB_OK;
      },
      &mark);
  return mark;
}

std::size_t build_conntrack_dump(std::span<std::uint8_t> buf, std::uint32_t seq,
                                 const MarkMatch* exact) {
  if (buf.size() < kConntrackRequestSize) return 0;
  nlmsghdr* nlh = put_header(buf, IPCTNL_MSG_CT_GET, NLM_F_DUMP, seq, AF_UNSPEC);
  if (exact) {
    mnl_attr_put_u32(nlh, CTA_MARK, htonl(exact->value & exact->mask));
    mnl_attr_put_u32(nlh, CTA_MARK_MASK, htonl(exact->mask));
  }
  return nlh->nlmsg_len;
}

std::size_t build_conntrack_delete(std::span<std::uint8_t> buf, std::uint32_t seq,
                                   const ConntrackFlow& flow) {
  if (buf.size() < kConntrackRequestSize) return 0;
  const bool v4 = flow.orig_src.addr.is_v4();
  if (v4 != flow.orig_dst.addr.is_v4()) return 0;
  if (flow.l4proto != IPPROTO_TCP && flow.l4proto != IPPROTO_UDP) return 0;
  if (flow.orig_src.port == 0 || flow.orig_dst.port == 0) return 0;
  CtPtr ct(nfct_new());
  if (!ct) return 0;
  nfct_set_attr_u8(ct.get(), ATTR_ORIG_L3PROTO, v4 ? AF_INET : AF_INET6);
  nfct_set_attr(ct.get(), v4 ? ATTR_ORIG_IPV4_SRC : ATTR_ORIG_IPV6_SRC, flow.orig_src.addr.data());
  nfct_set_attr(ct.get(), v4 ? ATTR_ORIG_IPV4_DST : ATTR_ORIG_IPV6_DST, flow.orig_dst.addr.data());
  nfct_set_attr_u8(ct.get(), ATTR_ORIG_L4PROTO, flow.l4proto);
  nfct_set_attr_u16(ct.get(), ATTR_ORIG_PORT_SRC, htons(flow.orig_src.port));
  nfct_set_attr_u16(ct.get(), ATTR_ORIG_PORT_DST, htons(flow.orig_dst.port));
  nlmsghdr* nlh = put_header(buf, IPCTNL_MSG_CT_DELETE, NLM_F_ACK, seq, v4 ? AF_INET : AF_INET6);
  if (nfct_nlmsg_build(nlh, ct.get()) < 0) return 0;
  // nfct_nlmsg_build leaves CTA_ID out (it builds what creating an entry needs).
  if (flow.id != 0) mnl_attr_put_u32(nlh, CTA_ID, htonl(flow.id));
  return nlh->nlmsg_len <= kConntrackRequestSize ? nlh->nlmsg_len : 0;
}

std::string tcp_state_name(std::uint8_t state) {
  static constexpr const char* names[] = {"NONE",     "SYN_SENT",   "SYN_RECV", "ESTABLISHED",
                                          "FIN_WAIT", "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT",
                                          "CLOSE",    "SYN_SENT2"};
  if (state < std::size(names)) return names[state];
  return std::to_string(state);
}

std::string to_string(const ConntrackFlow& f) {
  std::string proto = f.l4proto == IPPROTO_TCP   ? "tcp"
                      : f.l4proto == IPPROTO_UDP ? "udp"
                                                 : "proto " + std::to_string(f.l4proto);
  char mark[16];
  std::snprintf(mark, sizeof mark, "0x%x", f.mark);
  std::string text = proto + " " + f.orig_src.to_string() + " -> " + f.orig_dst.to_string() +
                     " reply " + f.reply_src.to_string() + " mark " + mark;
  if (f.l4proto == IPPROTO_TCP) text += " " + tcp_state_name(f.tcp_state);
  if (f.timeout_s) text += " " + std::to_string(*f.timeout_s) + "s";
  text += " id " + std::to_string(f.id);
  return text;
}

}  // namespace vsd::kstate
