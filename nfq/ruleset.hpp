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

struct DivertMatch {
  enum class Side { destination, source };  // client -> VIP:port, or NAT replies from RIP:port
  Side side = Side::destination;
  IpAddress addr;
  std::uint8_t l4proto = 0;  // IPPROTO_TCP / IPPROTO_UDP
  std::uint16_t port = 0;    // 0 = any port
  std::string comment;       // shown by `nft list ruleset`
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
