// What vsd's tables hold, rule by rule; the libnftnl words are in
// ruleset_nftnl.cpp, the kernel I/O in ruleset_kernel.cpp.
//
// Without the fast path (fast.bits.mask == 0) each table has the two chains
// of ruleset.hpp and nothing else. With it, per family and only where that
// family has matches of the path (B = fast.bits, nft's spelling):
//
//  DR/TUN (Path::direct_kernel), no conntrack, a flow table in the kernel:
//   prerouting   MATCH jump direct_flows
//                meta mark & B.queue == B.queue counter queue   (once, after
//                the last jump: what direct_flows flagged goes to vsd)
//   direct_flows notrack
//                tcp SYN: delete @tcp_flows {flow : meta mark} (a reused port
//                is a new flow, IPVS's conn_reuse_mode)
//                meta mark set <flow> map @tcp_flows / @udp_flows
//                unknown flow (mark & id == 0), pending bit (its element
//                deleted: `update` never changes an element's data), FIN/RST:
//                meta mark set meta mark | B.queue
//   direct_forward (-290, after the queue: a verdict resumes at the next
//                hook entry) for mark & (queue|direct) == direct:
//                update @tcp_flows / @udp_flows {flow : meta mark} (adds the
//                verdict's flow, refreshes its idle timeout), counter name
//                meta mark & id map @in_counters, per egress device
//                dup to meta mark & id map @direct_<dev> device DEV drop,
//                and a queue rule for a decision in none of those maps.
//  NAT (Path::nat_kernel), conntrack on, the decision in the ct mark:
//   nat_queue (-150, after conntrack) MATCH ct direction original
//                ct mark & id == 0 counter queue
//   nat_decide (-140, after the verdict) the verdict's id into the ct mark
//                and the IPVS timeouts into the ct (`ct timeout set` only
//                works on the unconfirmed ct, so here and not in raw), then
//                counter name ct mark & id map @in_counters / @out_counters
//                by direction
//   nat (dstnat) meta l4proto { tcp, udp } ct mark & id != 0
//                dnat to ct mark & id map @nat_dests / @nat_hosts
//                (nat chains see a conntrack's first packet only; conntrack
//                un-NATs the replies)
//  SYN proxy (DivertMatch::synproxy, on NAT services): nft synproxy answers
//  the client's SYN with a cookie; once the client's ACK proves it, the
//  kernel sends its own SYN to the VIP, from the output hook:
//   prerouting   MATCH tcp flags & (syn|ack) == syn notrack (the proxy takes
//                untracked SYNs; the cookie's ACK is INVALID to conntrack
//                with nf_conntrack_tcp_loose = 0)
//   synproxy (input, filter 0) and forward (a VIP the director does not
//                hold): MATCH ct state invalid,untracked counter synproxy
//                mss M wscale W timestamp sack-perm; MATCH ct state invalid
//                counter drop (an ACK the proxy refused, a stray segment)
//   nat_out_queue (output, -150) MATCH ct direction original ct mark & id
//                == 0 counter queue: the proxy's SYN, decided by vsd
//   nat_out_decide (output, -140) as nat_decide without the counters
//   nat_out (nat, output -100) as nat: DNAT of the proxy's SYN (the flow's
//                later packets follow conntrack's NAT from prerouting)
#include "nfq/ruleset.hpp"

#include <arpa/inet.h>
#include <net/if.h>
// glibc headers before the kernel uapi ones.
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_synproxy.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <set>
#include <stdexcept>

#include "nfq/ruleset_nftnl.hpp"

namespace vsd::nfq {

const char* to_string(QueueForm f) {
  return f == QueueForm::native ? "nft queue" : "xt NFQUEUE target via nft_compat";
}

namespace {

using nftnl::Batch;
using nftnl::ChainDef;
using nftnl::ObjDef;
using nftnl::RulePtr;
using nftnl::SetDef;
using nftnl::SetElem;

// One table per family (ip vsd, ip6 vsd) rather than one inet table:
// nft prints xt targets in an inet table with libxtables warnings
// ("unhandled NFPROTO"), so with the compat form operators would read a
// noisy `nft list ruleset`. Both tables go in the same atomic batch.
constexpr std::uint16_t kFamilies[] = {NFPROTO_IPV4, NFPROTO_IPV6};

// prerouting at raw priority: `notrack` must run before conntrack (-200)
// and client packets must get their new destination before routing.
const ChainDef kPrerouting{kPreroutingChain, true, "filter", NF_INET_PRE_ROUTING, -300};
// NAT replies are rewritten after routing, as IPVS does in its FORWARD
// hook: turned into VIP-sourced packets before routing, they would carry a
// local source address and the kernel would drop them as martians.
const ChainDef kForward{kForwardChain, true, "filter", NF_INET_FORWARD, -150};
const ChainDef kDirectFlows{kDirectFlowsChain, false, "filter", 0, 0};
const ChainDef kDirectForward{kDirectForwardChain, true, "filter", NF_INET_PRE_ROUTING, -290};
const ChainDef kNatQueue{kNatQueueChain, true, "filter", NF_INET_PRE_ROUTING, -150};
const ChainDef kNatDecide{kNatDecideChain, true, "filter", NF_INET_PRE_ROUTING, -140};
const ChainDef kNat{kNatChain, true, "nat", NF_INET_PRE_ROUTING, -100};
// The SYN proxy: its rule where a SYN to a VIP the director holds arrives
// (filter priority), the output hook for the SYN it sends on.
const ChainDef kSynproxy{kSynproxyChain, true, "filter", NF_INET_LOCAL_IN, 0};
const ChainDef kNatOutQueue{kNatOutQueueChain, true, "filter", NF_INET_LOCAL_OUT, -150};
const ChainDef kNatOutDecide{kNatOutDecideChain, true, "filter", NF_INET_LOCAL_OUT, -140};
const ChainDef kNatOut{kNatOutChain, true, "nat", NF_INET_LOCAL_OUT, -100};

// nft's datatype ids, concatenated as nft does (6 bits per component), so
// `nft list` prints the types by name.
constexpr std::uint32_t kTypeIpv4 = 7, kTypeIpv6 = 8, kTypeInetProto = 12, kTypeInetService = 13,
                        kTypeMark = 19;
// nft's enum byteorder, for sets' user data.
constexpr std::uint32_t kConcatOrder = 0, kHostOrder = 1, kNetworkOrder = 2;
// enum ip_conntrack_dir
constexpr std::uint8_t kCtOriginal = 0, kCtReply = 1;
// ct state bits (NF_CT_STATE_*_BIT)
constexpr std::uint32_t kCtStateInvalid = 1, kCtStateUntracked = 1u << 6;

constexpr std::uint32_t concat(std::uint32_t a, std::uint32_t b) { return (a << 6) | b; }

std::string mark_set_name(std::uint32_t mark) { return "fwmark_" + std::to_string(mark); }

std::uint16_t family_of(const IpAddress& a) { return a.is_v4() ? NFPROTO_IPV4 : NFPROTO_IPV6; }

bool in_family(const IpAddress& a, std::uint16_t family) { return family_of(a) == family; }

// A mark group with members acts in its members' families; without
// members (the operator marks packets) in both.
bool group_in_family(const MarkGroup& g, std::uint16_t family) {
  if (g.members.empty()) return true;
  for (const auto& m : g.members)
    if (in_family(m.first, family)) return true;
  return false;
}

std::vector<std::uint8_t> u32_bytes(std::uint32_t host) {
  std::vector<std::uint8_t> v(4);
  std::memcpy(v.data(), &host, 4);
  return v;
}

std::vector<std::uint8_t> addr_bytes(const IpAddress& a) {
  return std::vector<std::uint8_t>(a.data(), a.data() + a.size());
}

// An address and a port as nft stores `ipv4_addr . inet_service`: the port
// in network order, padded to a whole 32-bit register.
std::vector<std::uint8_t> addr_port_bytes(const IpAddress& a, std::uint16_t port) {
  std::vector<std::uint8_t> v = addr_bytes(a);
  v.push_back(static_cast<std::uint8_t>(port >> 8));
  v.push_back(static_cast<std::uint8_t>(port));
  v.push_back(0);
  v.push_back(0);
  return v;
}

struct TableDef {
  std::uint16_t family = 0;
  std::vector<ChainDef> chains;
  std::vector<ObjDef> objs;
  std::vector<SetDef> sets;       // named
  std::vector<SetDef> anon_sets;  // each bound to one rule
  std::vector<RulePtr> rules;     // in chain order

  const SetDef* set(const std::string& name) const {
    for (const auto& s : sets)
      if (s.name == name) return &s;
    return nullptr;
  }
  bool has_chain(const std::string& name) const {
    return std::any_of(chains.begin(), chains.end(), [&](const ChainDef& c) { return c.name == name; });
  }
  bool has_nat() const { return has_chain(kNatChain); }
  bool has_counter(const std::string& name) const {
    return std::any_of(objs.begin(), objs.end(), [&](const ObjDef& o) {
      return o.type == NFT_OBJECT_COUNTER && o.name == name;
    });
  }
};

// Builds one family's table from the spec.
class TableBuilder {
 public:
  TableBuilder(const RulesetSpec& spec, QueueForm form, std::uint16_t family, std::uint32_t& set_ids)
      : spec_(spec), bits_(spec.fast.bits), form_(form), family_(family), v4_(family == NFPROTO_IPV4),
        set_ids_(set_ids) {}

  TableDef build() {
    t_.family = family_;
    find_paths();
    t_.chains = {kPrerouting, kForward};
    if (direct_) {
      t_.chains.push_back(kDirectFlows);
      t_.chains.push_back(kDirectForward);
    }
    if (nat_) {
      t_.chains.push_back(kNatQueue);
      t_.chains.push_back(kNatDecide);
      t_.chains.push_back(kNat);
    }
    if (synproxy_) {
      t_.chains.push_back(kSynproxy);
      t_.chains.push_back(kNatOutQueue);
      t_.chains.push_back(kNatOutDecide);
      t_.chains.push_back(kNatOut);
    }
    add_objects();
    add_maps();
    divert_rules();
    if (direct_) {
      direct_flows_rules();
      direct_forward_rules();
    }
    if (nat_) {
      nat_decide_rules();
      nat_rules(kNat, nat_chain_);
    }
    if (synproxy_) {
      decide_rules(kNatOutDecide, nat_out_decide_);
      nat_rules(kNatOut, nat_out_);
    }
    for (auto* list : {&prerouting_, &direct_flows_, &direct_forward_, &nat_queue_, &nat_decide_, &nat_chain_,
                       &synproxy_chain_, &nat_out_queue_, &nat_out_decide_, &nat_out_, &forward_})
      for (auto& r : *list) t_.rules.push_back(std::move(r));
    return std::move(t_);
  }

 private:
  void find_paths() {
    for (const auto& m : spec_.matches) {
      if (m.side != DivertMatch::Side::destination || !in_family(m.addr, family_)) continue;
      direct_ |= m.path == Path::direct_kernel;
      nat_ |= m.path == Path::nat_kernel;
      synproxy_ |= m.synproxy.on;
    }
    for (const auto& g : spec_.mark_groups) {
      if (!group_in_family(g, family_)) continue;
      direct_ |= g.path == Path::direct_kernel;
      nat_ |= g.path == Path::nat_kernel;
    }
    counted_ = (direct_ || nat_) && !spec_.fast.counted.empty();
  }

  void add_objects() {
    const FlowTimeouts& to = spec_.fast.timeouts;
    if (nat_) {
      ObjDef tcp{tcp_timeout_name(to), NFT_OBJECT_CT_TIMEOUT, IPPROTO_TCP, {}};
      tcp.policy[NFTNL_CTTIMEOUT_TCP_SYN_SENT] = to.tcp_syn;
      tcp.policy[NFTNL_CTTIMEOUT_TCP_SYN_RECV] = to.tcp_syn;
      tcp.policy[NFTNL_CTTIMEOUT_TCP_ESTABLISHED] = to.tcp_established;
      tcp.policy[NFTNL_CTTIMEOUT_TCP_FIN_WAIT] = to.tcp_fin_wait;
      tcp.policy[NFTNL_CTTIMEOUT_TCP_CLOSE_WAIT] = to.tcp_close_wait;
      tcp.policy[NFTNL_CTTIMEOUT_TCP_LAST_ACK] = to.tcp_last_ack;
      tcp.policy[NFTNL_CTTIMEOUT_TCP_TIME_WAIT] = to.tcp_time_wait;
      tcp.policy[NFTNL_CTTIMEOUT_TCP_CLOSE] = to.tcp_close;
      // The states IPVS has no timeout for keep the kernel's defaults (nft
      // sends them the same way).
      tcp.policy[NFTNL_CTTIMEOUT_TCP_SYN_SENT2] = 120;
      tcp.policy[NFTNL_CTTIMEOUT_TCP_RETRANS] = 300;
      tcp.policy[NFTNL_CTTIMEOUT_TCP_UNACK] = 300;
      t_.objs.push_back(tcp);
      ObjDef udp{udp_timeout_name(to), NFT_OBJECT_CT_TIMEOUT, IPPROTO_UDP, {}};
      udp.policy[NFTNL_CTTIMEOUT_UDP_UNREPLIED] = to.udp;
      udp.policy[NFTNL_CTTIMEOUT_UDP_REPLIED] = to.udp;
      t_.objs.push_back(udp);
    }
    if (counted_) {
      for (std::uint32_t m : spec_.fast.counted) {
        t_.objs.push_back({counter_name(bits_, m, true), NFT_OBJECT_COUNTER, 0, {}});
        if (nat_) t_.objs.push_back({counter_name(bits_, m, false), NFT_OBJECT_COUNTER, 0, {}});
      }
    }
  }

  SetDef mark_map(const std::string& name) {
    SetDef s;
    s.name = name;
    s.id = set_ids_++;
    s.flags = NFT_SET_MAP;
    s.key_type = kTypeMark;
    s.key_len = 4;
    s.byteorder_udata = true;
    s.key_byteorder = kHostOrder;
    s.data_byteorder = kNetworkOrder;  // addresses; a concatenation: none
    return s;
  }

  SetDef flow_map(const char* name, std::uint32_t timeout_s) {
    // client . cport . VIP . vport -> mark; the ports padded to 4 bytes.
    const std::uint32_t addr_type = v4_ ? kTypeIpv4 : kTypeIpv6;
    SetDef s;
    s.name = name;
    s.id = set_ids_++;
    s.flags = NFT_SET_MAP | NFT_SET_TIMEOUT | NFT_SET_EVAL;
    s.key_type = concat(concat(concat(addr_type, kTypeInetService), addr_type), kTypeInetService);
    s.key_len = 2 * (addr_len() + 4);
    s.data_type = kTypeMark;
    s.data_len = 4;
    s.byteorder_udata = true;
    s.key_byteorder = kConcatOrder;
    s.data_byteorder = kHostOrder;
    s.timeout_ms = std::uint64_t{timeout_s} * 1000;
    s.size = spec_.fast.flow_table_size;
    s.keep_elements = true;
    return s;
  }

  void add_maps() {
    const std::uint32_t addr_type = v4_ ? kTypeIpv4 : kTypeIpv6;
    if (direct_) {
      t_.sets.push_back(flow_map(kTcpFlowsMap, spec_.fast.timeouts.tcp_established));
      t_.sets.push_back(flow_map(kUdpFlowsMap, spec_.fast.timeouts.udp));
      for (const auto& d : spec_.fast.direct) {
        if (!in_family(d.rip, family_)) continue;
        const std::string name = direct_map_name(d.device);
        auto it = std::find_if(devices_.begin(), devices_.end(),
                               [&](const Device& dev) { return dev.name == d.device; });
        if (it == devices_.end()) {
          devices_.push_back({d.device, d.ifindex ? d.ifindex : if_nametoindex(d.device.c_str())});
          if (devices_.back().ifindex == 0)
            throw std::invalid_argument("no network interface '" + d.device + "' for DR/TUN real server " +
                                        d.rip.to_string());
          SetDef s = mark_map(name);
          s.data_type = addr_type;
          s.data_len = addr_len();
          t_.sets.push_back(s);
        }
        set_mut(name).elems.push_back({u32_bytes(d.mark & bits_.id), addr_bytes(d.rip), {}});
      }
    }
    if (nat_) {
      SetDef dests = mark_map(kNatDestsMap);
      dests.data_type = concat(addr_type, kTypeInetService);
      dests.data_len = addr_len() + 4;
      dests.data_byteorder = kConcatOrder;
      SetDef hosts = mark_map(kNatHostsMap);
      hosts.data_type = addr_type;
      hosts.data_len = addr_len();
      for (const auto& n : spec_.fast.nat) {
        if (!in_family(n.rip.addr, family_)) continue;
        if (n.rip.port)
          dests.elems.push_back({u32_bytes(n.mark & bits_.id), addr_port_bytes(n.rip.addr, n.rip.port), {}});
        else
          hosts.elems.push_back({u32_bytes(n.mark & bits_.id), addr_bytes(n.rip.addr), {}});
      }
      if (!dests.elems.empty()) t_.sets.push_back(dests);
      if (!hosts.elems.empty()) t_.sets.push_back(hosts);
    }
    if (counted_) {
      for (bool in : {true, false}) {
        if (!in && !nat_) continue;  // DR/TUN: the director sees no replies
        SetDef s = mark_map(in ? kInCountersMap : kOutCountersMap);
        s.flags = NFT_SET_OBJECT;  // not NFT_SET_MAP: the data is an object
        s.obj_type = NFT_OBJECT_COUNTER;
        for (std::uint32_t m : spec_.fast.counted)
          s.elems.push_back({u32_bytes(m & bits_.id), {}, counter_name(bits_, m, in)});
        t_.sets.push_back(s);
      }
    }
  }

  SetDef& set_mut(const std::string& name) {
    for (auto& s : t_.sets)
      if (s.name == name) return s;
    throw std::logic_error("no set " + name);
  }
  std::uint32_t set_id(const std::string& name) const {
    const SetDef* s = t_.set(name);
    return s ? s->id : 0;
  }

  // --- rule pieces ---

  std::uint32_t addr_len() const { return v4_ ? 4 : 16; }
  std::uint32_t saddr_off() const { return v4_ ? 12 : 8; }
  std::uint32_t daddr_off() const { return v4_ ? 16 : 24; }

  RulePtr rule(const ChainDef& chain) const { return nftnl::new_rule(spec_.table, family_, chain.name); }

  // meta mark [& mask] OP value (the whole mark: no bitwise, as today)
  static void mark_is(nftnl_rule* r, std::uint32_t mask, std::uint32_t value, std::uint32_t op = NFT_CMP_EQ) {
    nftnl::meta_load(r, NFT_META_MARK);
    if (mask != 0xffffffff) nftnl::bitwise(r, 4, mask, 0);
    nftnl::cmp_u32(r, op, value);
  }
  static void ct_mark_is(nftnl_rule* r, std::uint32_t mask, std::uint32_t value, std::uint32_t op) {
    nftnl::ct_load(r, NFT_CT_MARK);
    nftnl::bitwise(r, 4, mask, 0);
    nftnl::cmp_u32(r, op, value);
  }
  // meta mark set meta mark | bits
  static void mark_or(nftnl_rule* r, std::uint32_t bits) {
    nftnl::meta_load(r, NFT_META_MARK);
    nftnl::bitwise(r, 4, ~bits, bits);
    nftnl::meta_set(r, NFT_META_MARK);
  }
  static void l4proto_is(nftnl_rule* r, std::uint8_t proto) {
    nftnl::meta_load(r, NFT_META_L4PROTO);
    nftnl::cmp_u8(r, NFT_CMP_EQ, proto);
  }
  // ct direction original|reply
  static void ct_direction_is(nftnl_rule* r, std::uint8_t dir) {
    nftnl::ct_load(r, NFT_CT_DIRECTION);
    nftnl::cmp_u8(r, NFT_CMP_EQ, dir);
  }
  void queue(nftnl_rule* r) const {
    nftnl::queue(r, form_ == QueueForm::native, spec_.queue_first, spec_.queue_count, spec_.bypass);
  }
  // ip[6] saddr . th sport . ip[6] daddr . th dport, from register 1 on;
  // returns the first free 32-bit word after it.
  std::uint32_t flow_key(nftnl_rule* r) const {
    const std::uint32_t aw = addr_len() / 4;
    nftnl::payload_load(r, NFT_PAYLOAD_NETWORK_HEADER, saddr_off(), addr_len(), nftnl::reg_at_word(0));
    nftnl::payload_load(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2, nftnl::reg_at_word(aw));
    nftnl::payload_load(r, NFT_PAYLOAD_NETWORK_HEADER, daddr_off(), addr_len(), nftnl::reg_at_word(aw + 1));
    nftnl::payload_load(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, nftnl::reg_at_word(2 * aw + 1));
    return 2 * aw + 2;
  }
  // tcp flags & mask OP value
  static void tcp_flags_are(nftnl_rule* r, std::uint8_t mask, std::uint8_t value, std::uint32_t op) {
    l4proto_is(r, IPPROTO_TCP);
    nftnl::payload_load(r, NFT_PAYLOAD_TRANSPORT_HEADER, 13, 1);
    nftnl::bitwise(r, 1, mask, 0);
    nftnl::cmp_u8(r, op, value);
  }

  // --- the divert rules: prerouting, forward, nat_queue ---

  // Queue, jump or hand over, by path: the rules of one destination match
  // or mark group after its own match.
  void divert(RulePtr r, Path path, const std::string& comment, bool notrack) {
    switch (path) {
      case Path::userspace:
        if (notrack) nftnl::plain(r.get(), "notrack");
        nftnl::plain(r.get(), "counter");
        queue(r.get());
        nftnl::set_comment(r.get(), comment);
        prerouting_.push_back(std::move(r));
        return;
      case Path::direct_kernel:
        nftnl::verdict(r.get(), NFT_JUMP, kDirectFlowsChain);
        nftnl::set_comment(r.get(), comment);
        prerouting_.push_back(std::move(r));
        last_jump_ = prerouting_.size();
        return;
      case Path::nat_kernel:
        ct_direction_is(r.get(), kCtOriginal);
        ct_mark_is(r.get(), bits_.id, 0, NFT_CMP_EQ);
        nftnl::plain(r.get(), "counter");
        queue(r.get());
        nftnl::set_comment(r.get(), comment);
        nat_queue_.push_back(std::move(r));
        return;
    }
  }

  // ip[6] daddr|saddr ADDR meta l4proto P [th dport|sport PORT]
  void match(nftnl_rule* r, const DivertMatch& m) const {
    const bool dst = m.side == DivertMatch::Side::destination;
    nftnl::payload_load(r, NFT_PAYLOAD_NETWORK_HEADER, dst ? daddr_off() : saddr_off(), addr_len());
    nftnl::cmp(r, NFT_CMP_EQ, m.addr.data(), addr_len());
    l4proto_is(r, m.l4proto);
    if (m.port != 0) {
      std::uint16_t port_be = htons(m.port);
      nftnl::payload_load(r, NFT_PAYLOAD_TRANSPORT_HEADER, dst ? 2 : 0, 2);
      nftnl::cmp(r, NFT_CMP_EQ, &port_be, 2);
    }
  }

  // The named set of a mark group's members in this family, and the rule
  // ip[6] daddr . th dport @fwmark_N meta mark set N
  void mark_members(const MarkGroup& g) {
    SetDef s;
    s.name = mark_set_name(g.mark);
    s.id = set_ids_++;
    s.flags = NFT_SET_CONSTANT;
    s.key_type = concat(v4_ ? kTypeIpv4 : kTypeIpv6, kTypeInetService);
    // Each concatenated component takes whole 32-bit registers: the port is padded to 4.
    s.key_len = addr_len() + 4;
    for (const auto& [addr, port] : g.members)
      if (in_family(addr, family_)) s.elems.push_back({addr_port_bytes(addr, port), {}, {}});
    t_.sets.push_back(s);
    RulePtr r = rule(kPrerouting);
    nftnl::payload_load(r.get(), NFT_PAYLOAD_NETWORK_HEADER, daddr_off(), addr_len(), NFT_REG_1);
    nftnl::payload_load(r.get(), NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, nftnl::reg_at_word(addr_len() / 4));
    nftnl::lookup(r.get(), s.name, s.id);
    nftnl::immediate_u32(r.get(), g.mark);
    nftnl::meta_set(r.get(), NFT_META_MARK);
    nftnl::set_comment(r.get(), g.comment + ": mark its members");
    prerouting_.push_back(std::move(r));
  }

  void divert_rules() {
    for (const auto& g : spec_.mark_groups) {
      bool members = std::any_of(g.members.begin(), g.members.end(),
                                 [&](const auto& m) { return in_family(m.first, family_); });
      if (members) mark_members(g);
      // A userspace group's queue rule is in both tables, as it always was.
      if (g.path != Path::userspace && !group_in_family(g, family_)) continue;
      RulePtr r = rule(g.path == Path::nat_kernel ? kNatQueue : kPrerouting);
      mark_is(r.get(), g.match_mask, g.mark);
      divert(std::move(r), g.path, g.comment, true);
    }
    for (const auto& m : spec_.matches) {
      if (!in_family(m.addr, family_)) continue;
      if (m.side == DivertMatch::Side::destination) {
        RulePtr r = rule(m.path == Path::nat_kernel ? kNatQueue : kPrerouting);
        match(r.get(), m);
        divert(std::move(r), m.path, m.comment, spec_.notrack);
        if (m.synproxy.on) synproxy_rules(m);
      } else {
        // NAT replies: notrack before routing, queued after it.
        RulePtr n = rule(kPrerouting);
        match(n.get(), m);
        nftnl::plain(n.get(), "notrack");
        nftnl::set_comment(n.get(), m.comment);
        prerouting_.push_back(std::move(n));
        RulePtr q = rule(kForward);
        match(q.get(), m);
        nftnl::plain(q.get(), "counter");
        queue(q.get());
        nftnl::set_comment(q.get(), m.comment);
        forward_.push_back(std::move(q));
      }
    }
    if (last_jump_) {
      // meta mark & queue == queue counter queue: what direct_flows flagged.
      RulePtr r = rule(kPrerouting);
      mark_is(r.get(), bits_.queue, bits_.queue);
      nftnl::plain(r.get(), "counter");
      queue(r.get());
      nftnl::set_comment(r.get(), "vsd: DR/TUN packets vsd decides (new flow, its second packet, FIN/RST)");
      prerouting_.insert(prerouting_.begin() + static_cast<std::ptrdiff_t>(last_jump_), std::move(r));
    }
  }

  // --- the SYN proxy ---

  // ct state & bits != 0
  static void ct_state_any(nftnl_rule* r, std::uint32_t bits) {
    nftnl::ct_load(r, NFT_CT_STATE);
    nftnl::bitwise(r, 4, bits, 0);
    nftnl::cmp_u32(r, NFT_CMP_NEQ, 0);
  }

  void synproxy_rules(const DivertMatch& m) {
    const std::string what = m.comment + " (SYN proxy)";
    // The client's SYN untracked: the proxy answers it with a cookie.
    RulePtr r = rule(kPrerouting);
    match(r.get(), m);
    nftnl::payload_load(r.get(), NFT_PAYLOAD_TRANSPORT_HEADER, 13, 1);
    nftnl::bitwise(r.get(), 1, 0x12, 0);
    nftnl::cmp_u8(r.get(), NFT_CMP_EQ, 0x02);
    nftnl::plain(r.get(), "notrack");
    nftnl::set_comment(r.get(), what + ": client SYNs untracked, answered with cookies");
    prerouting_.push_back(std::move(r));
    // Input (a VIP the director holds) and forward (one it routes on).
    const std::uint16_t mss = m.synproxy.mss ? m.synproxy.mss : (v4_ ? 1460 : 1440);
    for (auto* chain : {&synproxy_chain_, &forward_}) {
      const ChainDef& def = chain == &forward_ ? kForward : kSynproxy;
      r = rule(def);
      match(r.get(), m);
      ct_state_any(r.get(), kCtStateInvalid | kCtStateUntracked);
      nftnl::plain(r.get(), "counter");
      nftnl::synproxy(r.get(), mss, m.synproxy.wscale,
                      NF_SYNPROXY_OPT_MSS | NF_SYNPROXY_OPT_WSCALE | NF_SYNPROXY_OPT_TIMESTAMP |
                          NF_SYNPROXY_OPT_SACK_PERM);
      nftnl::set_comment(r.get(), what);
      chain->push_back(std::move(r));
      r = rule(def);
      match(r.get(), m);
      ct_state_any(r.get(), kCtStateInvalid);
      nftnl::plain(r.get(), "counter");
      nftnl::verdict(r.get(), NF_DROP);
      nftnl::set_comment(r.get(), what + ": refused cookies, stray segments");
      chain->push_back(std::move(r));
    }
    // The proxy's own SYN to the VIP, once the client's ACK came back:
    // locally generated, so decided in the output hook.
    r = rule(kNatOutQueue);
    match(r.get(), m);
    ct_direction_is(r.get(), kCtOriginal);
    ct_mark_is(r.get(), bits_.id, 0, NFT_CMP_EQ);
    nftnl::plain(r.get(), "counter");
    queue(r.get());
    nftnl::set_comment(r.get(), what + ": the proxy's SYN, decided by vsd");
    nat_out_queue_.push_back(std::move(r));
  }

  // --- direct_flows: the flow table, before the queue ---

  void direct_flows_rules() {
    RulePtr r = rule(kDirectFlows);
    nftnl::plain(r.get(), "notrack");
    direct_flows_.push_back(std::move(r));

    // tcp flags & (syn | ack) == syn delete @tcp_flows { flow : meta mark }
    // (a map's delete needs a data register, though it ignores it)
    r = rule(kDirectFlows);
    tcp_flags_are(r.get(), 0x12, 0x02, NFT_CMP_EQ);
    std::uint32_t data = nftnl::reg_at_word(flow_key(r.get()));
    nftnl::meta_load(r.get(), NFT_META_MARK, data);
    nftnl::dynset(r.get(), NFT_DYNSET_OP_DELETE, kTcpFlowsMap, set_id(kTcpFlowsMap), NFT_REG_1, data);
    direct_flows_.push_back(std::move(r));

    // meta l4proto tcp|udp meta mark set <flow> map @tcp_flows|@udp_flows
    for (auto [proto, map] : {std::pair{std::uint8_t{IPPROTO_TCP}, kTcpFlowsMap},
                              std::pair{std::uint8_t{IPPROTO_UDP}, kUdpFlowsMap}}) {
      r = rule(kDirectFlows);
      l4proto_is(r.get(), proto);
      flow_key(r.get());
      nftnl::lookup_map(r.get(), map, set_id(map), NFT_REG_1);
      nftnl::meta_set(r.get(), NFT_META_MARK);
      direct_flows_.push_back(std::move(r));
    }

    // Queued: an unknown flow, a flow whose next packet vsd wants, FIN/RST.
    r = rule(kDirectFlows);
    mark_is(r.get(), bits_.id, 0);
    mark_or(r.get(), bits_.queue);
    direct_flows_.push_back(std::move(r));
    // The pending flow's element goes too: `update` refreshes an element's
    // timeout but never its data, so the verdict's mark without the pending
    // bit must make a new one (meanwhile the flow is unknown: queued, and
    // vsd answers from its connection table).
    r = rule(kDirectFlows);
    l4proto_is(r.get(), IPPROTO_TCP);
    mark_is(r.get(), bits_.pending, bits_.pending);
    data = nftnl::reg_at_word(flow_key(r.get()));
    nftnl::meta_load(r.get(), NFT_META_MARK, data);
    nftnl::dynset(r.get(), NFT_DYNSET_OP_DELETE, kTcpFlowsMap, set_id(kTcpFlowsMap), NFT_REG_1, data);
    mark_or(r.get(), bits_.queue);
    direct_flows_.push_back(std::move(r));
    r = rule(kDirectFlows);
    tcp_flags_are(r.get(), 0x05, 0, NFT_CMP_NEQ);
    mark_or(r.get(), bits_.queue);
    direct_flows_.push_back(std::move(r));
  }

  // --- direct_forward: after the queue, for mark & (queue|direct) == direct ---

  RulePtr forwarded() const {
    RulePtr r = rule(kDirectForward);
    mark_is(r.get(), bits_.queue | bits_.direct, bits_.direct);
    return r;
  }

  void direct_forward_rules() {
    // update @tcp_flows|@udp_flows { flow : meta mark }: the verdict's flow
    // in, every later packet refreshes its timeout.
    for (auto [proto, map] : {std::pair{std::uint8_t{IPPROTO_TCP}, kTcpFlowsMap},
                              std::pair{std::uint8_t{IPPROTO_UDP}, kUdpFlowsMap}}) {
      RulePtr r = forwarded();
      l4proto_is(r.get(), proto);
      std::uint32_t data = nftnl::reg_at_word(flow_key(r.get()));
      nftnl::meta_load(r.get(), NFT_META_MARK, data);
      nftnl::dynset(r.get(), NFT_DYNSET_OP_UPDATE, map, set_id(map), NFT_REG_1, data);
      direct_forward_.push_back(std::move(r));
    }
    if (counted_) {
      // counter name meta mark & id map @in_counters (a mark without
      // counters ends this rule only)
      RulePtr r = forwarded();
      nftnl::meta_load(r.get(), NFT_META_MARK);
      nftnl::bitwise(r.get(), 4, bits_.id, 0);
      nftnl::objref_map(r.get(), kInCountersMap, set_id(kInCountersMap));
      direct_forward_.push_back(std::move(r));
    }
    // dup to meta mark & id map @direct_<dev> device DEV drop: one rule per
    // device (a mark in none of the maps goes on to the next rule).
    for (const auto& dev : devices_) {
      const std::string map = direct_map_name(dev.name);
      RulePtr r = forwarded();
      nftnl::meta_load(r.get(), NFT_META_MARK);
      nftnl::bitwise(r.get(), 4, bits_.id, 0);
      nftnl::lookup_map(r.get(), map, set_id(map), NFT_REG_1);
      nftnl::immediate_u32(r.get(), dev.ifindex, NFT_REG_2);
      nftnl::dup(r.get(), NFT_REG_1, NFT_REG_2);
      nftnl::verdict(r.get(), NF_DROP);
      nftnl::set_comment(r.get(), "vsd: DR real servers on " + dev.name);
      direct_forward_.push_back(std::move(r));
    }
    // A flow whose decision is in no map (its real server was removed, or
    // its device changed) is queued: vsd forwards it itself or drops it.
    RulePtr r = forwarded();
    nftnl::plain(r.get(), "counter");
    queue(r.get());
    nftnl::set_comment(r.get(), "vsd: DR/TUN flows without a kernel destination");
    direct_forward_.push_back(std::move(r));
  }

  // --- nat_decide and nat ---

  void nat_decide_rules() {
    decide_rules(kNatDecide, nat_decide_);
    if (!counted_) return;
    // ct direction original|reply counter name ct mark & id map @in|out_counters
    for (bool in : {true, false}) {
      RulePtr r = rule(kNatDecide);
      ct_direction_is(r.get(), in ? kCtOriginal : kCtReply);
      nftnl::ct_load(r.get(), NFT_CT_MARK);
      nftnl::bitwise(r.get(), 4, bits_.id, 0);
      const char* map = in ? kInCountersMap : kOutCountersMap;
      nftnl::objref_map(r.get(), map, set_id(map));
      nat_decide_.push_back(std::move(r));
    }
  }

  // The verdict's decision into the ct mark, and the ct timeout policy.
  void decide_rules(const ChainDef& chain, std::vector<RulePtr>& out) {
    // ct mark & id == 0 meta mark & id != 0 meta l4proto P
    //   ct mark set meta mark & id ct timeout set "P_..."
    const FlowTimeouts& to = spec_.fast.timeouts;
    for (auto [proto, timeout] : {std::pair{std::uint8_t{IPPROTO_TCP}, tcp_timeout_name(to)},
                                  std::pair{std::uint8_t{IPPROTO_UDP}, udp_timeout_name(to)}}) {
      RulePtr r = rule(chain);
      ct_mark_is(r.get(), bits_.id, 0, NFT_CMP_EQ);
      mark_is(r.get(), bits_.id, 0, NFT_CMP_NEQ);
      l4proto_is(r.get(), proto);
      nftnl::meta_load(r.get(), NFT_META_MARK);
      nftnl::bitwise(r.get(), 4, bits_.id, 0);
      nftnl::ct_set(r.get(), NFT_CT_MARK);
      nftnl::objref(r.get(), NFT_OBJECT_CT_TIMEOUT, timeout);
      out.push_back(std::move(r));
    }
  }

  void nat_rules(const ChainDef& chain, std::vector<RulePtr>& out) {
    // meta l4proto { tcp, udp } ct mark & id != 0 dnat to ct mark & id map @M
    // (nft wants a transport match before a port mapping)
    for (const char* map : {kNatDestsMap, kNatHostsMap}) {
      const SetDef* m = t_.set(map);
      if (!m) continue;
      SetDef protos;
      protos.name = "__set%d";
      protos.id = set_ids_++;
      protos.flags = NFT_SET_ANONYMOUS | NFT_SET_CONSTANT;
      protos.key_type = kTypeInetProto;
      protos.key_len = 1;
      protos.size = 2;
      protos.elems = {{{IPPROTO_TCP}, {}, {}}, {{IPPROTO_UDP}, {}, {}}};
      RulePtr r = rule(chain);
      nftnl::meta_load(r.get(), NFT_META_L4PROTO);
      nftnl::lookup(r.get(), protos.name, protos.id);
      ct_mark_is(r.get(), bits_.id, 0, NFT_CMP_NEQ);
      nftnl::ct_load(r.get(), NFT_CT_MARK);
      nftnl::bitwise(r.get(), 4, bits_.id, 0);
      nftnl::lookup_map(r.get(), map, m->id, NFT_REG_1);
      const bool port = std::string(map) == kNatDestsMap;
      nftnl::nat(r.get(), NFT_NAT_DNAT, family_, NFT_REG_1, port ? nftnl::reg_at_word(addr_len() / 4) : 0);
      t_.anon_sets.push_back(std::move(protos));
      out.push_back(std::move(r));
    }
  }

  struct Device {
    std::string name;
    std::uint32_t ifindex;
  };

  const RulesetSpec& spec_;
  const MarkBits bits_;
  const QueueForm form_;
  const std::uint16_t family_;
  const bool v4_;
  std::uint32_t& set_ids_;
  bool direct_ = false, nat_ = false, counted_ = false, synproxy_ = false;
  std::vector<Device> devices_;
  std::size_t last_jump_ = 0;  // prerouting index after the last jump to direct_flows
  TableDef t_;
  std::vector<RulePtr> prerouting_, direct_flows_, direct_forward_, nat_queue_, nat_decide_, nat_chain_,
      synproxy_chain_, nat_out_queue_, nat_out_decide_, nat_out_, forward_;
};

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// The messages that make `now` into `t` (now.exists false: a new table).
// The order matters within the transaction: rules go before what they
// reference, references before what is deleted.
void emit(Batch& b, const std::string& table, const TableDef& t, const TableContents& now) {
  const std::uint16_t fam = t.family;
  std::set<std::string> recreated;
  if (now.exists) {
    for (const auto& c : now.chains) nftnl::flush_chain_msg(b, table, fam, c);
    for (const auto& s : now.sets) {
      const SetDef* want = t.set(s);
      // A constant set cannot take new elements once a rule used it: it
      // is deleted and made again (so is a set that became constant).
      if (!want || want->constant() || contains(now.constant_sets, s)) {
        nftnl::del_set_msg(b, table, fam, s);
        if (want) recreated.insert(s);
      }
    }
    for (const auto& c : now.chains)
      if (!t.has_chain(c)) nftnl::del_chain_msg(b, table, fam, c);
  }
  for (const auto& o : t.objs) nftnl::obj_msg(b, table, fam, o);
  for (const auto& c : t.chains) nftnl::chain_msg(b, table, fam, c);
  for (const auto& s : t.sets) {
    nftnl::set_msg(b, table, fam, s);
    const bool kept = now.exists && contains(now.sets, s.name) && !recreated.count(s.name);
    if (kept && !s.keep_elements) nftnl::flush_set_msg(b, table, fam, s.name);
    nftnl::set_elems_msgs(b, table, fam, s);
  }
  // After the rules and maps that referenced them were flushed or
  // deleted: the kernel refuses (EBUSY) to delete an object in use.
  if (now.exists) {
    for (const auto& c : now.counters)
      if (!t.has_counter(c)) nftnl::del_obj_msg(b, table, fam, c, NFT_OBJECT_COUNTER);
    // ct timeout objects outlive a change of the timeouts: conntrack
    // entries may still use the old one, and deleting it resets them to the
    // kernel's defaults. They go with the NAT path itself (its flows stay
    // NATed by conntrack, on default timeouts).
    if (!t.has_nat())
      for (const auto& c : now.ct_timeouts) nftnl::del_obj_msg(b, table, fam, c, NFT_OBJECT_CT_TIMEOUT);
  }
  for (const auto& s : t.anon_sets) {
    nftnl::set_msg(b, table, fam, s);
    nftnl::set_elems_msgs(b, table, fam, s);
  }
  for (const auto& r : t.rules) nftnl::rule_msg(b, r.get());
}

bool is_contiguous(std::uint32_t bits) {
  if (bits == 0) return false;
  std::uint32_t shifted = bits >> std::countr_zero(bits);
  return (shifted & (shifted + 1)) == 0;
}

void check_fast(const RulesetSpec& spec) {
  const MarkBits& b = spec.fast.bits;
  bool fast_paths = false;
  for (const auto& m : spec.matches) {
    if (m.side == DivertMatch::Side::source && m.path != Path::userspace)
      throw std::invalid_argument("a NAT reply match (" + m.comment + ") has no fast path");
    fast_paths |= m.path != Path::userspace;
    // The proxy hands the flow to conntrack (sequence adjustment): only the
    // kernel's NAT can carry it on.
    if (m.synproxy.on && (m.side != DivertMatch::Side::destination || m.path != Path::nat_kernel ||
                          m.l4proto != IPPROTO_TCP))
      throw std::invalid_argument("a SYN proxy (" + m.comment +
                                  ") needs a TCP destination match on the NAT fast path");
    if (m.synproxy.on && m.synproxy.wscale > 14)
      throw std::invalid_argument("a SYN proxy's window scale is at most 14 (" + m.comment + ")");
  }
  for (const auto& g : spec.mark_groups) fast_paths |= g.path != Path::userspace;
  if (b.mask == 0) {
    if (fast_paths) throw std::invalid_argument("the kernel fast path needs mark bits (fast.bits.mask is 0)");
    return;
  }
  const std::uint32_t parts[] = {b.queue, b.pending, b.direct, b.id};
  std::uint32_t seen = 0;
  for (std::uint32_t p : parts) {
    if (p == 0 || (p & ~b.mask) || (p & seen))
      throw std::invalid_argument("fast-path mark bits must be non-zero, disjoint and within the mask");
    seen |= p;
  }
  if (!is_contiguous(b.id)) throw std::invalid_argument("the fast path's id bits must be contiguous");
  auto check_mark = [&](std::uint32_t mark, const std::string& what) {
    if ((mark & b.id) == 0 || (mark & ~b.id)) {
      char hex[16];
      std::snprintf(hex, sizeof hex, "0x%08x", mark);
      throw std::invalid_argument(what + ": mark " + hex + " is not a decision (non-zero, id bits only)");
    }
  };
  std::set<std::pair<bool, std::uint32_t>> nat_marks, direct_marks;
  for (const auto& n : spec.fast.nat) {
    check_mark(n.mark, "NAT real server " + n.rip.to_string());
    if (!nat_marks.emplace(n.rip.addr.is_v4(), n.mark).second)
      throw std::invalid_argument("NAT real server " + n.rip.to_string() + ": its mark is used twice");
  }
  for (const auto& d : spec.fast.direct) {
    check_mark(d.mark, "DR/TUN real server " + d.rip.to_string());
    if (!direct_marks.emplace(d.rip.is_v4(), d.mark).second)
      throw std::invalid_argument("DR/TUN real server " + d.rip.to_string() + ": its mark is used twice");
    if (d.device.empty() || d.device.size() >= IF_NAMESIZE)
      throw std::invalid_argument("DR/TUN real server " + d.rip.to_string() + ": bad device name '" +
                                  d.device + "'");
  }
  for (std::uint32_t m : spec.fast.counted) check_mark(m, "counted");
  const FlowTimeouts& t = spec.fast.timeouts;
  for (std::uint32_t v : {t.tcp_syn, t.tcp_established, t.tcp_fin_wait, t.tcp_close_wait, t.tcp_last_ack,
                          t.tcp_time_wait, t.tcp_close, t.udp})
    if (v == 0) throw std::invalid_argument("fast-path timeouts must be at least 1 second");
  if (spec.fast.flow_table_size == 0) throw std::invalid_argument("the flow table size must be at least 1");
}

void check_spec(const RulesetSpec& spec) {
  if (spec.table.empty() || spec.table.size() > 255)
    throw std::invalid_argument("nft table name must be 1..255 characters");
  if (spec.queue_count == 0) throw std::invalid_argument("queue count must be at least 1");
  if (std::uint32_t{spec.queue_first} + spec.queue_count - 1 > 65535)
    throw std::invalid_argument("queue numbers must stay within 0..65535");
  check_fast(spec);
}

}  // namespace

std::string counter_name(const MarkBits& bits, std::uint32_t mark, bool in) {
  const int shift = bits.id ? std::countr_zero(bits.id) : 0;
  return (in ? "in_" : "out_") + std::to_string((mark & bits.id) >> shift);
}

std::string direct_map_name(const std::string& device) { return "direct_" + device; }

std::string tcp_timeout_name(const FlowTimeouts& t) {
  const FlowTimeouts d;
  auto n = [](std::uint32_t v) { return "_" + std::to_string(v); };
  if (t.tcp_syn == d.tcp_syn && t.tcp_close_wait == d.tcp_close_wait && t.tcp_last_ack == d.tcp_last_ack &&
      t.tcp_time_wait == d.tcp_time_wait && t.tcp_close == d.tcp_close)
    return "tcp" + n(t.tcp_established) + n(t.tcp_fin_wait);
  return "tcp" + n(t.tcp_syn) + n(t.tcp_established) + n(t.tcp_fin_wait) + n(t.tcp_close_wait) +
         n(t.tcp_last_ack) + n(t.tcp_time_wait) + n(t.tcp_close);
}

std::string udp_timeout_name(const FlowTimeouts& t) { return "udp_" + std::to_string(t.udp); }

std::vector<std::uint8_t> build_install_batch(const RulesetSpec& spec, QueueForm form, std::uint32_t seq,
                                              const InstalledTables& now) {
  check_spec(spec);
  Batch b(seq);
  std::uint32_t set_ids = 1;
  for (std::uint16_t family : kFamilies) {
    TableDef t = TableBuilder(spec, form, family, set_ids).build();
    // Create-if-missing: no NLM_F_EXCL, an existing table is updated.
    nftnl::table_msg(b, spec.table, family, NFT_MSG_NEWTABLE, NLM_F_CREATE);
    emit(b, spec.table, t, family == NFPROTO_IPV4 ? now.ip : now.ip6);
  }
  return b.finish();
}

std::vector<std::uint8_t> build_replace_batch(const RulesetSpec& spec, QueueForm form, std::uint32_t seq) {
  check_spec(spec);
  Batch b(seq);
  std::uint32_t set_ids = 1;
  for (std::uint16_t family : kFamilies) {
    TableDef t = TableBuilder(spec, form, family, set_ids).build();
    // Create-if-missing, delete, create: in one transaction this replaces
    // any old table atomically and never fails for a missing one.
    nftnl::table_msg(b, spec.table, family, NFT_MSG_NEWTABLE, NLM_F_CREATE);
    nftnl::table_msg(b, spec.table, family, NFT_MSG_DELTABLE, 0);
    nftnl::table_msg(b, spec.table, family, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL);
    emit(b, spec.table, t, TableContents{});
  }
  return b.finish();
}

std::vector<std::uint8_t> build_delete_batch(const std::string& table, std::uint32_t seq) {
  Batch b(seq);
  for (std::uint16_t family : kFamilies) {
    nftnl::table_msg(b, table, family, NFT_MSG_NEWTABLE, NLM_F_CREATE);
    nftnl::table_msg(b, table, family, NFT_MSG_DELTABLE, 0);
  }
  return b.finish();
}

std::vector<std::uint8_t> build_probe_batch(QueueForm form, std::uint32_t seq) {
  RulesetSpec spec;
  spec.table = "vsd-probe-" + std::to_string(::getpid());
  std::uint8_t doc[4] = {192, 0, 2, 255};  // never matched: the table lives for no time
  DivertMatch m;
  m.addr = IpAddress::v4(doc);
  m.l4proto = IPPROTO_UDP;
  m.port = 9;
  spec.matches.push_back(m);
  std::uint32_t set_ids = 1;
  TableDef t = TableBuilder(spec, form, NFPROTO_IPV4, set_ids).build();
  Batch b(seq);
  nftnl::table_msg(b, spec.table, NFPROTO_IPV4, NFT_MSG_NEWTABLE, NLM_F_CREATE);
  nftnl::chain_msg(b, spec.table, NFPROTO_IPV4, kPrerouting);
  nftnl::rule_msg(b, t.rules.at(0).get());
  nftnl::table_msg(b, spec.table, NFPROTO_IPV4, NFT_MSG_DELTABLE, 0);
  return b.finish();
}

std::vector<std::uint8_t> build_fast_path_probe_batch(Path path, QueueForm form, std::uint32_t seq) {
  RulesetSpec spec;
  spec.table = "vsd-probe-" + std::to_string(::getpid());
  // One service of each family on `path`, one destination each, counted:
  // every object kind the real tables use (never matched: the table lives
  // for no time). The bits are those of the default mark_mask.
  spec.fast.bits = {0xffff0000, 0x80000000, 0x40000000, 0x20000000, 0x1fff0000};
  const std::uint8_t vip4[4] = {192, 0, 2, 255}, rip4[4] = {203, 0, 113, 255};
  std::uint8_t vip6[16] = {0x20, 0x01, 0x0d, 0xb8}, rip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 2};
  vip6[15] = rip6[15] = 0xff;
  const IpAddress vips[] = {IpAddress::v4(vip4), IpAddress::v6(vip6)};
  const IpAddress rips[] = {IpAddress::v4(rip4), IpAddress::v6(rip6)};
  for (int i = 0; i < 2; ++i) {
    const std::uint32_t mark = static_cast<std::uint32_t>(i + 1) << 16;
    DivertMatch m;
    m.addr = vips[i];
    m.l4proto = IPPROTO_TCP;
    m.port = 9;
    m.path = path;
    m.comment = "vsd fast path probe";
    spec.matches.push_back(m);
    if (path == Path::nat_kernel) spec.fast.nat.push_back({mark, Endpoint{rips[i], 9}});
    if (path == Path::direct_kernel) spec.fast.direct.push_back({mark, rips[i], "lo", 1});
    spec.fast.counted.push_back(mark);
  }
  check_spec(spec);
  Batch b(seq);
  std::uint32_t set_ids = 1;
  for (std::uint16_t family : kFamilies) {
    TableDef t = TableBuilder(spec, form, family, set_ids).build();
    nftnl::table_msg(b, spec.table, family, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL);
    emit(b, spec.table, t, TableContents{});
    nftnl::table_msg(b, spec.table, family, NFT_MSG_DELTABLE, 0);
  }
  return b.finish();
}

}  // namespace vsd::nfq
