#include "nfq/ruleset.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
// glibc headers before the kernel uapi ones.
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <system_error>

namespace vsd::nfq {

const char* to_string(QueueForm f) {
  return f == QueueForm::native ? "nft queue" : "xt NFQUEUE target via nft_compat";
}

namespace {

// xt_NFQ_info_v3 from <linux/netfilter/xt_NFQUEUE.h>, padded to XT_ALIGN
// (8 bytes on 64-bit), as iptables-nft sends it.
struct XtNfqInfoV3 {
  std::uint16_t queuenum;
  std::uint16_t queues_total;
  std::uint16_t flags;
  std::uint16_t pad;
};
constexpr std::uint16_t kXtNfqBypass = 0x01;

// One table per family (ip vsd, ip6 vsd) rather than one inet table:
// nft prints xt targets in an inet table with libxtables warnings
// ("unhandled NFPROTO"), so with the compat form operators would read a
// noisy `nft list ruleset`. Both tables go in the same atomic batch.
constexpr std::uint16_t kFamilies[] = {NFPROTO_IPV4, NFPROTO_IPV6};

// Accumulates netlink messages into one batch buffer.
class Batch {
 public:
  explicit Batch(std::uint32_t seq) : seq_(seq) {
    buf_.reserve(64 * 1024);
    begin();
  }
  template <class Fn>
  void message(Fn&& build) {
    char tmp[MNL_SOCKET_BUFFER_SIZE];
    nlmsghdr* nlh = build(tmp, seq_++);
    append(nlh);
    ++count_;
  }
  std::vector<std::uint8_t> finish() {
    char tmp[64];
    append(nftnl_batch_end(tmp, seq_++));
    return std::move(buf_);
  }

 private:
  void begin() {
    char tmp[64];
    append(nftnl_batch_begin(tmp, seq_++));
  }
  void append(const nlmsghdr* nlh) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(nlh);
    buf_.insert(buf_.end(), p, p + NLMSG_ALIGN(nlh->nlmsg_len));
  }
  std::vector<std::uint8_t> buf_;
  std::uint32_t seq_;
  std::size_t count_ = 0;
};

template <class T, void (*Free)(const T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using TablePtr = std::unique_ptr<nftnl_table, Deleter<nftnl_table, nftnl_table_free>>;
using ChainPtr = std::unique_ptr<nftnl_chain, Deleter<nftnl_chain, nftnl_chain_free>>;
using RulePtr = std::unique_ptr<nftnl_rule, Deleter<nftnl_rule, nftnl_rule_free>>;
using SetPtr = std::unique_ptr<nftnl_set, Deleter<nftnl_set, nftnl_set_free>>;

TablePtr make_table(const std::string& name, std::uint16_t family) {
  TablePtr t(nftnl_table_alloc());
  nftnl_table_set_u32(t.get(), NFTNL_TABLE_FAMILY, family);
  nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, name.c_str());
  return t;
}

void add_table_msg(Batch& b, const std::string& name, std::uint16_t family, std::uint16_t type,
                   std::uint16_t flags) {
  auto t = make_table(name, family);
  b.message([&](char* buf, std::uint32_t seq) {
    nlmsghdr* nlh = nftnl_table_nlmsg_build_hdr(buf, type, family, flags | NLM_F_ACK, seq);
    nftnl_table_nlmsg_build_payload(nlh, t.get());
    return nlh;
  });
}

struct ChainSpec {
  const char* name;
  std::uint32_t hook;
  std::int32_t priority;
};
// prerouting at raw priority: `notrack` must run before conntrack (-200)
// and client packets must get their new destination before routing.
constexpr ChainSpec kPrerouting{kPreroutingChain, NF_INET_PRE_ROUTING, -300};
// NAT replies are rewritten after routing, as IPVS does in its FORWARD
// hook: turned into VIP-sourced packets before routing, they would carry a
// local source address and the kernel would drop them as martians.
constexpr ChainSpec kForward{kForwardChain, NF_INET_FORWARD, -150};

void add_chain_msg(Batch& b, const std::string& table, std::uint16_t family, const ChainSpec& cs) {
  ChainPtr c(nftnl_chain_alloc());
  nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_FAMILY, family);
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, table.c_str());
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, cs.name);
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TYPE, "filter");
  nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_HOOKNUM, cs.hook);
  nftnl_chain_set_s32(c.get(), NFTNL_CHAIN_PRIO, cs.priority);
  nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_POLICY, NF_ACCEPT);
  b.message([&](char* buf, std::uint32_t seq) {
    nlmsghdr* nlh =
        nftnl_chain_nlmsg_build_hdr(buf, NFT_MSG_NEWCHAIN, family, NLM_F_CREATE | NLM_F_ACK, seq);
    nftnl_chain_nlmsg_build_payload(nlh, c.get());
    return nlh;
  });
}

// --- expressions: one helper per nftables expression kind ---

void expr_meta(nftnl_rule* r, std::uint32_t key) {
  nftnl_expr* e = nftnl_expr_alloc("meta");
  nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
  nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
  nftnl_rule_add_expr(r, e);
}

void expr_payload(nftnl_rule* r, std::uint32_t base, std::uint32_t offset, std::uint32_t len,
                  std::uint32_t dreg = NFT_REG_1) {
  nftnl_expr* e = nftnl_expr_alloc("payload");
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
  nftnl_rule_add_expr(r, e);
}

void expr_lookup(nftnl_rule* r, const std::string& set, std::uint32_t set_id) {
  nftnl_expr* e = nftnl_expr_alloc("lookup");
  nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
  nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set.c_str());
  nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set_id);
  nftnl_rule_add_expr(r, e);
}

void expr_immediate_u32(nftnl_rule* r, std::uint32_t value) {
  nftnl_expr* e = nftnl_expr_alloc("immediate");
  nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
  nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, &value, sizeof value);
  nftnl_rule_add_expr(r, e);
}

void expr_meta_set(nftnl_rule* r, std::uint32_t key) {
  nftnl_expr* e = nftnl_expr_alloc("meta");
  nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
  nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, NFT_REG_1);
  nftnl_rule_add_expr(r, e);
}

void expr_cmp_eq(nftnl_rule* r, const void* data, std::uint32_t len) {
  nftnl_expr* e = nftnl_expr_alloc("cmp");
  nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
  nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
  nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
  nftnl_rule_add_expr(r, e);
}

void expr_plain(nftnl_rule* r, const char* name) { nftnl_rule_add_expr(r, nftnl_expr_alloc(name)); }

void expr_queue(nftnl_rule* r, const RulesetSpec& spec, QueueForm form) {
  if (form == QueueForm::native) {
    nftnl_expr* e = nftnl_expr_alloc("queue");
    nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_NUM, spec.queue_first);
    nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_TOTAL, spec.queue_count);
    nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_FLAGS, spec.bypass ? NFT_QUEUE_FLAG_BYPASS : 0);
    nftnl_rule_add_expr(r, e);
    return;
  }
  XtNfqInfoV3 info{spec.queue_first, spec.queue_count,
                   static_cast<std::uint16_t>(spec.bypass ? kXtNfqBypass : 0), 0};
  nftnl_expr* e = nftnl_expr_alloc("target");
  nftnl_expr_set_str(e, NFTNL_EXPR_TG_NAME, "NFQUEUE");
  nftnl_expr_set_u32(e, NFTNL_EXPR_TG_REV, 3);
  // libnftnl keeps the pointer it is given: hand it a heap copy it frees.
  void* copy = malloc(sizeof info);
  std::memcpy(copy, &info, sizeof info);
  nftnl_expr_set(e, NFTNL_EXPR_TG_INFO, copy, sizeof info);
  nftnl_rule_add_expr(r, e);
}

void set_comment(nftnl_rule* r, const std::string& comment) {
  if (comment.empty()) return;
  nftnl_udata_buf* ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
  // nft limits comments to 128 bytes.
  std::string c = comment.substr(0, 127);
  nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, c.c_str());
  nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(ud), nftnl_udata_buf_len(ud));
  nftnl_udata_buf_free(ud);
}

std::uint16_t family_of(const IpAddress& a) { return a.is_v4() ? NFPROTO_IPV4 : NFPROTO_IPV6; }

// What a rule does after its match.
enum class Action { notrack_and_queue, notrack_only, queue_only };

// ip[6] daddr|saddr ADDR meta l4proto P [th dport|sport PORT] [notrack] [counter queue]
RulePtr make_rule(const std::string& table, const DivertMatch& m, const RulesetSpec& spec,
                  QueueForm form, const ChainSpec& chain, Action action) {
  RulePtr r(nftnl_rule_alloc());
  nftnl_rule_set_u32(r.get(), NFTNL_RULE_FAMILY, family_of(m.addr));
  nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, table.c_str());
  nftnl_rule_set_str(r.get(), NFTNL_RULE_CHAIN, chain.name);
  const bool v4 = m.addr.is_v4();
  const bool dst = m.side == DivertMatch::Side::destination;
  const std::uint32_t addr_off = v4 ? (dst ? 16 : 12) : (dst ? 24 : 8);
  expr_payload(r.get(), NFT_PAYLOAD_NETWORK_HEADER, addr_off, static_cast<std::uint32_t>(m.addr.size()));
  expr_cmp_eq(r.get(), m.addr.data(), static_cast<std::uint32_t>(m.addr.size()));
  expr_meta(r.get(), NFT_META_L4PROTO);
  expr_cmp_eq(r.get(), &m.l4proto, 1);
  if (m.port != 0) {
    std::uint16_t port_be = htons(m.port);
    expr_payload(r.get(), NFT_PAYLOAD_TRANSPORT_HEADER, dst ? 2 : 0, 2);
    expr_cmp_eq(r.get(), &port_be, 2);
  }
  if (action != Action::queue_only) expr_plain(r.get(), "notrack");
  if (action != Action::notrack_only) {
    expr_plain(r.get(), "counter");
    expr_queue(r.get(), spec, form);
  }
  set_comment(r.get(), m.comment);
  return r;
}

// nft's datatype ids (ipv4_addr 7, ipv6_addr 8, inet_service 13),
// concatenated as nft does (6 bits per component), so `nft list` prints
// the set as `type ipv4_addr . inet_service`.
constexpr std::uint32_t kConcatAddrPort4 = (7u << 6) | 13u;
constexpr std::uint32_t kConcatAddrPort6 = (8u << 6) | 13u;

std::string mark_set_name(std::uint32_t mark) { return "fwmark_" + std::to_string(mark); }

// The named set of a mark group's members in one family, with its elements.
void add_mark_set_msgs(Batch& b, const std::string& table, std::uint16_t family,
                       const MarkGroup& g, std::uint32_t set_id) {
  const bool v4 = family == NFPROTO_IPV4;
  const std::uint32_t addr_len = v4 ? 4 : 16;
  SetPtr s(nftnl_set_alloc());
  nftnl_set_set_str(s.get(), NFTNL_SET_TABLE, table.c_str());
  nftnl_set_set_str(s.get(), NFTNL_SET_NAME, mark_set_name(g.mark).c_str());
  nftnl_set_set_u32(s.get(), NFTNL_SET_FAMILY, family);
  nftnl_set_set_u32(s.get(), NFTNL_SET_KEY_TYPE, v4 ? kConcatAddrPort4 : kConcatAddrPort6);
  // Each concatenated component takes whole 32-bit registers: the port is padded to 4.
  nftnl_set_set_u32(s.get(), NFTNL_SET_KEY_LEN, addr_len + 4);
  nftnl_set_set_u32(s.get(), NFTNL_SET_FLAGS, NFT_SET_CONSTANT);
  nftnl_set_set_u32(s.get(), NFTNL_SET_ID, set_id);
  b.message([&](char* buf, std::uint32_t seq) {
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWSET, family, NLM_F_CREATE | NLM_F_ACK, seq);
    nftnl_set_nlmsg_build_payload(nlh, s.get());
    return nlh;
  });
  for (const auto& [addr, port] : g.members) {
    if (addr.is_v4() != v4) continue;
    std::uint8_t key[20] = {};
    std::memcpy(key, addr.data(), addr_len);
    key[addr_len] = static_cast<std::uint8_t>(port >> 8);
    key[addr_len + 1] = static_cast<std::uint8_t>(port);
    nftnl_set_elem* e = nftnl_set_elem_alloc();
    nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, addr_len + 4);
    nftnl_set_elem_add(s.get(), e);
  }
  b.message([&](char* buf, std::uint32_t seq) {
    nlmsghdr* nlh =
        nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWSETELEM, family, NLM_F_CREATE | NLM_F_ACK, seq);
    nftnl_set_elems_nlmsg_build_payload(nlh, s.get());
    return nlh;
  });
}

RulePtr new_rule(const std::string& table, std::uint16_t family, const ChainSpec& chain) {
  RulePtr r(nftnl_rule_alloc());
  nftnl_rule_set_u32(r.get(), NFTNL_RULE_FAMILY, family);
  nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, table.c_str());
  nftnl_rule_set_str(r.get(), NFTNL_RULE_CHAIN, chain.name);
  return r;
}

// ip[6] daddr . th dport @fwmark_N meta mark set N
RulePtr make_mark_rule(const std::string& table, std::uint16_t family, const MarkGroup& g,
                       std::uint32_t set_id) {
  RulePtr r = new_rule(table, family, kPrerouting);
  const bool v4 = family == NFPROTO_IPV4;
  expr_payload(r.get(), NFT_PAYLOAD_NETWORK_HEADER, v4 ? 16 : 24, v4 ? 4 : 16, NFT_REG_1);
  expr_payload(r.get(), NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, v4 ? NFT_REG32_01 : NFT_REG_2);
  expr_lookup(r.get(), mark_set_name(g.mark), set_id);
  expr_immediate_u32(r.get(), g.mark);
  expr_meta_set(r.get(), NFT_META_MARK);
  set_comment(r.get(), g.comment + ": mark its members");
  return r;
}

// meta mark N notrack counter queue
RulePtr make_mark_queue_rule(const std::string& table, std::uint16_t family, const MarkGroup& g,
                             const RulesetSpec& spec, QueueForm form) {
  RulePtr r = new_rule(table, family, kPrerouting);
  expr_meta(r.get(), NFT_META_MARK);
  expr_cmp_eq(r.get(), &g.mark, sizeof g.mark);
  expr_plain(r.get(), "notrack");
  expr_plain(r.get(), "counter");
  expr_queue(r.get(), spec, form);
  set_comment(r.get(), g.comment);
  return r;
}

void add_rule_msg(Batch& b, nftnl_rule* r) {
  const auto family = static_cast<std::uint16_t>(nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY));
  b.message([&](char* buf, std::uint32_t seq) {
    nlmsghdr* nlh = nftnl_rule_nlmsg_build_hdr(buf, NFT_MSG_NEWRULE, family,
                                               NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK, seq);
    nftnl_rule_nlmsg_build_payload(nlh, r);
    return nlh;
  });
}

void check_spec(const RulesetSpec& spec) {
  if (spec.table.empty() || spec.table.size() > 255)
    throw std::invalid_argument("nft table name must be 1..255 characters");
  if (spec.queue_count == 0) throw std::invalid_argument("queue count must be at least 1");
  if (std::uint32_t{spec.queue_first} + spec.queue_count - 1 > 65535)
    throw std::invalid_argument("queue numbers must stay within 0..65535");
}

}  // namespace

std::vector<std::uint8_t> build_install_batch(const RulesetSpec& spec, QueueForm form,
                                              std::uint32_t seq) {
  check_spec(spec);
  Batch b(seq);
  for (std::uint16_t family : kFamilies) {
    // Create-if-missing, delete, create: in one transaction this replaces
    // any old table atomically and never fails for a missing one.
    add_table_msg(b, spec.table, family, NFT_MSG_NEWTABLE, NLM_F_CREATE);
    add_table_msg(b, spec.table, family, NFT_MSG_DELTABLE, 0);
    add_table_msg(b, spec.table, family, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL);
    add_chain_msg(b, spec.table, family, kPrerouting);
    add_chain_msg(b, spec.table, family, kForward);
  }
  std::uint32_t set_id = 1;
  for (const auto& g : spec.mark_groups) {
    for (std::uint16_t family : kFamilies) {
      bool any = false;
      for (const auto& m : g.members) any |= m.first.is_v4() == (family == NFPROTO_IPV4);
      if (any) {
        add_mark_set_msgs(b, spec.table, family, g, set_id);
        add_rule_msg(b, make_mark_rule(spec.table, family, g, set_id).get());
        ++set_id;
      }
      add_rule_msg(b, make_mark_queue_rule(spec.table, family, g, spec, form).get());
    }
  }
  for (const auto& m : spec.matches) {
    if (m.side == DivertMatch::Side::destination) {
      add_rule_msg(b, make_rule(spec.table, m, spec, form, kPrerouting,
                                spec.notrack ? Action::notrack_and_queue : Action::queue_only)
                          .get());
    } else {
      add_rule_msg(b, make_rule(spec.table, m, spec, form, kPrerouting, Action::notrack_only).get());
      add_rule_msg(b, make_rule(spec.table, m, spec, form, kForward, Action::queue_only).get());
    }
  }
  return b.finish();
}

std::vector<std::uint8_t> build_delete_batch(const std::string& table, std::uint32_t seq) {
  Batch b(seq);
  for (std::uint16_t family : kFamilies) {
    add_table_msg(b, table, family, NFT_MSG_NEWTABLE, NLM_F_CREATE);
    add_table_msg(b, table, family, NFT_MSG_DELTABLE, 0);
  }
  return b.finish();
}

std::vector<std::uint8_t> build_probe_batch(QueueForm form, std::uint32_t seq) {
  RulesetSpec spec;
  spec.table = "vsd-probe-" + std::to_string(::getpid());
  std::uint8_t doc[4] = {192, 0, 2, 255};  // never matched: the table lives for no time
  spec.matches.push_back({DivertMatch::Side::destination, IpAddress::v4(doc), IPPROTO_UDP, 9, ""});
  Batch b(seq);
  add_table_msg(b, spec.table, NFPROTO_IPV4, NFT_MSG_NEWTABLE, NLM_F_CREATE);
  add_chain_msg(b, spec.table, NFPROTO_IPV4, kPrerouting);
  add_rule_msg(b, make_rule(spec.table, spec.matches[0], spec, form, kPrerouting,
                            Action::notrack_and_queue).get());
  add_table_msg(b, spec.table, NFPROTO_IPV4, NFT_MSG_DELTABLE, 0);
  return b.finish();
}

namespace {

// Sends a batch and reads one answer per message (all carry NLM_F_ACK).
// Returns 0 or the first error's errno.
int commit(const std::vector<std::uint8_t>& batch) {
  mnl_socket* nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
  if (!nl) throw std::system_error(errno, std::generic_category(), "cannot open a netfilter netlink socket (run vsd as root)");
  std::unique_ptr<mnl_socket, int (*)(mnl_socket*)> guard(nl, mnl_socket_close);
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
    throw std::system_error(errno, std::generic_category(), "cannot bind the netfilter netlink socket");
  timeval tv{5, 0};
  setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  // Count the messages that expect an answer (all but BATCH_BEGIN/END).
  std::size_t expected = 0;
  for (std::size_t off = 0; off + sizeof(nlmsghdr) <= batch.size();) {
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(batch.data() + off);
    if (nlh->nlmsg_flags & NLM_F_ACK) ++expected;
    off += NLMSG_ALIGN(nlh->nlmsg_len);
  }
  if (mnl_socket_sendto(nl, batch.data(), batch.size()) < 0)
    throw std::system_error(errno, std::generic_category(), "cannot send the nftables batch");
  const std::uint32_t portid = mnl_socket_get_portid(nl);
  int first_error = 0;
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  while (expected > 0) {
    ssize_t n = mnl_socket_recvfrom(nl, buf.data(), buf.size());
    if (n < 0) {
      if (first_error) break;
      throw std::system_error(errno, std::generic_category(), "no answer from nftables");
    }
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(buf.data());
    int len = static_cast<int>(n);
    while (mnl_nlmsg_ok(nlh, len)) {
      if (nlh->nlmsg_pid == portid && nlh->nlmsg_type == NLMSG_ERROR) {
        const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
        if (err->error != 0 && !first_error) first_error = -err->error;
        if (expected > 0) --expected;
      }
      nlh = mnl_nlmsg_next(nlh, &len);
    }
  }
  return first_error;
}

std::uint32_t next_seq() {
  static std::uint32_t seq = static_cast<std::uint32_t>(time(nullptr));
  return seq += 1000;
}

}  // namespace

QueueForm probe_queue_form() {
  int native = commit(build_probe_batch(QueueForm::native, next_seq()));
  if (native == 0) return QueueForm::native;
  int compat = commit(build_probe_batch(QueueForm::xt_compat, next_seq()));
  if (compat == 0) return QueueForm::xt_compat;
  throw std::system_error(compat, std::generic_category(),
                          std::string("the kernel accepts neither the nft queue expression (") +
                              std::strerror(native) +
                              ") nor the xt NFQUEUE target; load nft_queue or nft_compat + "
                              "xt_NFQUEUE (modprobe nft_queue)");
}

void install(const RulesetSpec& spec, QueueForm form) {
  int err = commit(build_install_batch(spec, form, next_seq()));
  if (err)
    throw std::system_error(err, std::generic_category(),
                            "nftables refused table '" + spec.table +
                                "' (nothing was changed; the old table, if any, stays)");
}

void remove(const std::string& table) {
  int err = commit(build_delete_batch(table, next_seq()));
  if (err && err != ENOENT)
    throw std::system_error(err, std::generic_category(), "cannot delete nft table '" + table + "'");
}

}  // namespace vsd::nfq
