// vsd's nftables ruleset: which packets the kernel queues to vsd. Built with
// libnftnl, one object per kernel concept (table, chain, rule, expression),
// and committed in ONE atomic batch, so `nft list ruleset` never shows a
// half-made table and a re-install replaces the old one in one step.
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
  nat_kernel,
  // No conntrack (the director sees one direction): a flow table in the
  // kernel (client . cport . VIP . vport -> mark, a dynamic map filled from
  // the verdict's mark) forwards by `dup` to the real server's address on
  // its device; unknown flows, a flow's second packet (pending bit) and
  // FIN/RST are queued so vsd follows the TCP state as IPVS's input-only
  // table does. A flow whose mark has no kernel destination (TUN without
  // ipip, DR without a route yet) is queued packet by packet.
  direct_kernel,
};

struct DivertMatch {
  enum class Side { destination, source };  // client -> VIP:port, or NAT replies from RIP:port
  Side side = Side::destination;
  IpAddress addr;
  std::uint8_t l4proto = 0;  // IPPROTO_TCP / IPPROTO_UDP
  std::uint16_t port = 0;    // 0 = any port
  std::string comment;       // shown by `nft list ruleset`
  Path path = Path::userspace;  // destination side only
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
  std::uint32_t match_mask = 0xffffffff;  // the mark is compared under this mask
};

// The kernel fast path's bits of the packet mark and the ct mark, all
// within `mask` (the operator keeps the rest): `queue` (vsd must see this
// packet), `pending` (a DR/TUN flow's next packet must be seen too),
// `direct` (a DR/TUN flow's packet, for the forward chain) and `id` (the
// decision: which real server), a contiguous run of bits.
struct MarkBits {
  std::uint32_t mask = 0, queue = 0, pending = 0, direct = 0, id = 0;
};

// A decision's real server, by its mark (id bits only).
struct NatDestination {
  std::uint32_t mark = 0;
  Endpoint rip;  // port 0: the packet's own port (port-0 and fwmark services)
};
struct DirectDestination {
  std::uint32_t mark = 0;
  IpAddress rip;
  std::string device;  // the interface the route to rip leaves by
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
  // Every decision mark that has traffic counters (in_<n>, out_<n>).
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
// inet), each with two chains:
//   prerouting (raw, -300): `notrack` for every diverted flow, before
//     conntrack, so the flows never enter the conntrack table; client
//     packets to a VIP are queued here, before routing;
//   forward (-150): NAT replies from real servers are queued here, after
//     routing (see ruleset.cpp).
inline constexpr const char* kPreroutingChain = "prerouting";
inline constexpr const char* kForwardChain = "forward";

// Pure: the complete nfnetlink batch (BATCH_BEGIN ... BATCH_END). Throws
// std::invalid_argument on a spec the kernel would refuse (queue_count 0).
std::vector<std::uint8_t> build_install_batch(const RulesetSpec& spec, QueueForm form,
                                              std::uint32_t seq);
std::vector<std::uint8_t> build_delete_batch(const std::string& table, std::uint32_t seq);
// A throwaway table with one queue rule, added and deleted in the same
// batch: the kernel accepts it only if it knows the queue form.
std::vector<std::uint8_t> build_probe_batch(QueueForm form, std::uint32_t seq);

// Kernel adapters: send a batch on a NETLINK_NETFILTER socket and wait for
// every ack. Errors are std::system_error with a message that says what to do.
QueueForm probe_queue_form();
void install(const RulesetSpec& spec, QueueForm form);
void remove(const std::string& table);  // absent table: no error

}  // namespace vsd::nfq
