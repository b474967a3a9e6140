// vsd's nftables ruleset: which packets the kernel queues to vsd, and with
// the kernel fast path what the kernel carries itself. Built with libnftnl,
// one object per kernel concept (table, chain, set, object, rule,
// expression), and committed in ONE atomic batch, so `nft list ruleset`
// never shows a half-made table. A re-install updates the tables in place
// in that one batch: the rules and the static maps are replaced, the state
// the kernel keeps (DR/TUN flows, counters, ct timeouts) stays.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "net/ip_address.hpp"

namespace vsd::nfq {

// How a rule hands packets to a queue. The native `queue` expression
// (nft_queue) is missing on some kernels; the xtables NFQUEUE target works
// there through nft_compat. vsd probes which one the kernel accepts.
enum class QueueForm { native, xt_compat };
const char* to_string(QueueForm);

// How a matched service's packets reach vsd and their real server.
enum class Path : std::uint8_t {
  // Every packet queued, `notrack`ed (today's all-userspace path; fast_path
  // off, one-packet scheduling, services mixing NAT with DR/TUN).
  userspace,
  // Conntrack on: only packets of flows not decided yet (original
  // direction, ct mark & id bits == 0) are queued; the verdict's mark
  // becomes the ct mark, the kernel DNATs by it and un-NATs the replies.
  // The verdict (NF_ACCEPT) carries mark = decision (id bits, a mark of
  // FastPathSpec::nat); packets that arrive before it are queued too and
  // must get the same answer (conntrack merges UDP, drops a TCP clash).
  nat_kernel,
  // No conntrack (the director sees one direction): a flow table in the
  // kernel (client . cport . VIP . vport -> mark, a dynamic map filled from
  // the verdict's mark) forwards by `dup` to the real server's address on
  // its device; unknown flows, a flow's second packet (pending bit) and
  // FIN/RST are queued so vsd follows the TCP state as IPVS's input-only
  // table does. A flow whose mark has no kernel destination (TUN without
  // ipip, DR without a route yet) is queued packet by packet.
  // The verdict (NF_ACCEPT) carries mark = decision | direct [| pending]
  // with the queue bit clear: the flow map stores that mark (pending makes
  // the next packet queued again; that verdict clears it). A verdict
  // without the direct bit keeps the flow out of the kernel.
  direct_kernel,
};

// nft synproxy in front of a destination match on the NAT fast path (TCP):
// the kernel answers each client SYN with a SYN cookie itself and drops it;
// a client whose ACK returns a valid cookie gets its connection opened by
// the kernel, which then sends a SYN of its own to the VIP. That SYN is
// locally generated: it is queued in the output hook (nat_out_queue), vsd
// decides it like any first packet, and nat_out DNATs it by the decision
// (prerouting's nat chain never sees it). Conntrack carries the rest of the
// flow with its sequence numbers shifted (seqadj). Needs conntrack's TCP
// pickup off (net.netfilter.nf_conntrack_tcp_loose = 0): the cookie's ACK
// must be INVALID to conntrack to reach the proxy.
struct SynProxy {
  bool on = false;
  std::uint16_t mss = 0;    // announced to the client; 0 = 1460 (IPv4), 1440 (IPv6)
  std::uint8_t wscale = 7;  // announced window scale: the real servers'
  bool operator==(const SynProxy&) const = default;
};

struct DivertMatch {
  enum class Side { destination, source };  // client -> VIP:port, or NAT replies from RIP:port
  Side side = Side::destination;
  IpAddress addr;
  std::uint8_t l4proto = 0;  // IPPROTO_TCP / IPPROTO_UDP
  std::uint16_t port = 0;    // 0 = any port
  std::string comment;       // shown by `nft list ruleset`
  Path path = Path::userspace;  // destination side only (NAT replies: userspace)
  SynProxy synproxy = {};       // destination side, TCP, Path::nat_kernel only
};

// A firewall-mark service (ipvsadm -f): packets carrying `mark` are queued.
// Its members (VIP:port pairs, TCP or UDP) are a named set `fwmark_<mark>`
// in the members' family; a rule marks what the set matches, so one
// `nft list ruleset` shows the whole grouping. Without members the
// operator marks packets with their own rules (at a priority below -300).
struct MarkGroup {
  std::uint32_t mark = 0;
  std::vector<std::pair<IpAddress, std::uint16_t>> members;
  std::string comment;
  Path path = Path::userspace;
  // The mark is compared under this mask (meta mark & match_mask == mark);
  // all ones: the whole mark, as without the fast path. A fast-path group
  // leaves fast.bits.mask out of it.
  std::uint32_t match_mask = 0xffffffff;
};

// The kernel fast path's bits of the packet mark and the ct mark, all
// within `mask` (the operator keeps the rest): `queue` (vsd must see this
// packet), `pending` (a DR/TUN flow's next packet must be seen too),
// `direct` (a DR/TUN flow's packet, for the forward chain) and `id` (the
// decision: which real server), a contiguous run of bits. The four are
// disjoint, non-zero and within mask (check_spec refuses anything else).
struct MarkBits {
  std::uint32_t mask = 0, queue = 0, pending = 0, direct = 0, id = 0;
  bool operator==(const MarkBits&) const = default;
};

// A decision's real server, by its mark (id bits only, non-zero).
struct NatDestination {
  std::uint32_t mark = 0;
  Endpoint rip;  // port 0: the packet's own port (port-0 and fwmark services)
};
struct DirectDestination {
  std::uint32_t mark = 0;
  IpAddress rip;
  std::string device;  // the interface the route to rip leaves by
  // The kernel's `dup ... device` takes an interface index, fixed when the
  // rule is added (nft resolves the name the same way): 0 = look `device`
  // up (if_nametoindex) when the batch is built. A renamed or re-created
  // device needs a re-install.
  std::uint32_t ifindex = 0;
};

// IPVS's timeouts for kernel-carried flows: conntrack timeout policies
// (NAT) and the flow tables' idle timeouts (DR/TUN), in seconds.
struct FlowTimeouts {
  std::uint32_t tcp_syn = 60, tcp_established = 900, tcp_fin_wait = 120, tcp_close_wait = 60,
                tcp_last_ack = 30, tcp_time_wait = 120, tcp_close = 10, udp = 300;
  bool operator==(const FlowTimeouts&) const = default;
};

struct FastPathSpec {
  MarkBits bits;  // bits.mask == 0: no fast-path objects at all
  std::vector<NatDestination> nat;
  std::vector<DirectDestination> direct;
  // Every decision mark that has traffic counters (in_<n>, out_<n>, n =
  // (mark & id) >> id's shift). A mark left out loses its counters.
  std::vector<std::uint32_t> counted;
  FlowTimeouts timeouts;
  std::uint32_t flow_table_size = 65536;  // elements per DR/TUN flow map
};

struct RulesetSpec {
  std::string table = "vsd";
  std::uint16_t queue_first = 0, queue_count = 1;
  bool bypass = false;  // fail_open: accept instead of drop while nobody listens
  // false: queue client-side matches without `notrack`. The real server's
  // IP-in-IP rule: what vsd hands back is the decapsulated packet, which
  // conntrack should then see like any other (the director's flows stay
  // out of conntrack on purpose, see below).
  bool notrack = true;
  std::vector<DivertMatch> matches;
  std::vector<MarkGroup> mark_groups;
  FastPathSpec fast;  // empty: every service on the userspace path
};

// Two tables named spec.table, `ip` and `ip6` (see ruleset.cpp for why not
// inet). Without the fast path each has two chains:
//   prerouting (raw, -300): `notrack` for every diverted flow, before
//     conntrack, so the flows never enter the conntrack table; client
//     packets to a VIP are queued here, before routing;
//   forward (-150): NAT replies from real servers are queued here, after
//     routing (see ruleset.cpp).
// The fast path adds, in a family that has such matches (ruleset.cpp tells
// each rule's job):
//   direct_flows (regular, jumped to from prerouting), direct_forward
//     (-290: after the queue returns the packet), the flow maps tcp_flows
//     and udp_flows, one map direct_<device> per egress device;
//   nat_queue (mangle, -150), nat_decide (-140), nat (nat, dstnat -100),
//     the maps nat_dests / nat_hosts, ct timeout objects;
//   counters in_<n> / out_<n> and the maps in_counters / out_counters;
//   with a SYN proxy (SynProxy): synproxy (input, filter 0), nat_out_queue
//     (output, -150), nat_out_decide (output, -140), nat_out (nat, output
//     -100), and rules in prerouting (notrack of client SYNs) and forward.
inline constexpr const char* kPreroutingChain = "prerouting";
inline constexpr const char* kForwardChain = "forward";
inline constexpr const char* kDirectFlowsChain = "direct_flows";
inline constexpr const char* kDirectForwardChain = "direct_forward";
inline constexpr const char* kNatQueueChain = "nat_queue";
inline constexpr const char* kNatDecideChain = "nat_decide";
inline constexpr const char* kNatChain = "nat";
inline constexpr const char* kSynproxyChain = "synproxy";
inline constexpr const char* kNatOutQueueChain = "nat_out_queue";
inline constexpr const char* kNatOutDecideChain = "nat_out_decide";
inline constexpr const char* kNatOutChain = "nat_out";
inline constexpr const char* kTcpFlowsMap = "tcp_flows";
inline constexpr const char* kUdpFlowsMap = "udp_flows";
inline constexpr const char* kNatDestsMap = "nat_dests";
inline constexpr const char* kNatHostsMap = "nat_hosts";
inline constexpr const char* kInCountersMap = "in_counters";
inline constexpr const char* kOutCountersMap = "out_counters";

// Object names, for readers of the table (counters) and the tests.
std::string counter_name(const MarkBits& bits, std::uint32_t mark, bool in);  // "in_1"
std::string direct_map_name(const std::string& device);                     // "direct_eth0"
// Named by the configurable values, "tcp_900_120" (established, fin_wait;
// every other TCP value spelled out too when it differs from the default)
// and "udp_300": a changed policy is a new object and flows already bound
// to the old one keep it (an object cannot be changed in place).
std::string tcp_timeout_name(const FlowTimeouts& t);
std::string udp_timeout_name(const FlowTimeouts& t);

// What one family's table holds now, read from the kernel before an
// in-place update (anonymous sets left out).
struct TableContents {
  bool exists = false;
  std::vector<std::string> chains;
  std::vector<std::string> sets;           // named sets and maps
  std::vector<std::string> constant_sets;  // those of them flagged constant
  std::vector<std::string> counters;       // counter objects
  std::vector<std::string> ct_timeouts;    // ct timeout objects
};
struct InstalledTables {
  TableContents ip, ip6;
};

// Pure: the complete nfnetlink batch (BATCH_BEGIN ... BATCH_END) that
// turns the tables `now` holds into `spec`'s, in place: objects created if
// missing, every chain flushed, the static maps flushed and refilled (the
// constant fwmark sets deleted and re-created), what `spec` no longer has
// deleted, the rules added again. The DR/TUN flow maps, the counters of
// counted marks and the ct timeout objects keep their state. With `now`
// empty it creates the tables. Throws std::invalid_argument on a spec the
// kernel would refuse (queue_count 0, inconsistent fast-path bits, ...).
std::vector<std::uint8_t> build_install_batch(const RulesetSpec& spec, QueueForm form,
                                              std::uint32_t seq, const InstalledTables& now = {});
// Pure: delete-then-create of both tables in one batch (all state lost):
// what install() falls back to when the kernel refuses the in-place update
// of a table an older vsd left with another layout.
std::vector<std::uint8_t> build_replace_batch(const RulesetSpec& spec, QueueForm form,
                                              std::uint32_t seq);
std::vector<std::uint8_t> build_delete_batch(const std::string& table, std::uint32_t seq);
// A throwaway table with one queue rule, added and deleted in the same
// batch: the kernel accepts it only if it knows the queue form.
std::vector<std::uint8_t> build_probe_batch(QueueForm form, std::uint32_t seq);

// A throwaway table with one IPv4 and one IPv6 service on `path`
// (nat_kernel or direct_kernel) and every fast-path object that path uses
// (maps, counters, ct timeouts, dup on lo), added and deleted in the same
// batch: the kernel accepts it only if it has every module the path needs.
std::vector<std::uint8_t> build_fast_path_probe_batch(Path path, QueueForm form, std::uint32_t seq);

// Kernel adapters: send a batch on a NETLINK_NETFILTER socket and wait for
// every ack. Errors are std::system_error with a message that says what to do.
QueueForm probe_queue_form();
// "" when the kernel takes `path`'s objects, else what it refused and why.
std::string probe_fast_path(Path path, QueueForm form);
// Reads what the tables hold (read_installed), commits the in-place update
// batch; if the kernel refuses it while a table exists, retries once with
// the replace batch (an incompatible layout left by an older vsd: a set of
// the same name with another type, a chain at another priority). A
// refused batch changes nothing; if both are refused the old tables stay.
void install(const RulesetSpec& spec, QueueForm form);
InstalledTables read_installed(const std::string& table);
void remove(const std::string& table);  // absent table: no error

}  // namespace vsd::nfq
