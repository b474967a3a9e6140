// ctnetlink messages without the socket, the pure half of vsd's conntrack
// reader for the kernel fast path (NAT flows are carried by conntrack, the
// ct mark holding vsd's decision): one flow parsed out of an event or dump
// message (libnetfilter_conntrack's parser), and the requests vsd sends —
// a dump, a delete by original tuple. Tested without root; the socket half
// is conntrack_socket.hpp.
#pragma once

#include <linux/netlink.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "net/ip_address.hpp"

namespace vsd::kstate {

struct FlowCounters {
  std::uint64_t packets = 0, bytes = 0;
};

// One conntrack entry, as the kernel reported it.
struct ConntrackFlow {
  std::uint8_t l4proto = 0;  // IPPROTO_TCP, IPPROTO_UDP, ... (ports are 0 for others)
  Endpoint orig_src;         // the client
  Endpoint orig_dst;         // what it asked for: VIP:port
  Endpoint reply_src;        // who answers: the real server after DNAT (= orig_dst without NAT)
  Endpoint reply_dst;        // whom the answers go to (= orig_src without SNAT)
  std::uint32_t mark = 0;    // ct mark: vsd's decision
  std::uint8_t tcp_state =
      0;                     // TCP_CONNTRACK_* (SYN_SENT 1 .. ESTABLISHED 3 .. CLOSE 8); 0 for UDP
  std::uint32_t status = 0;  // IPS_* bits (IPS_SEEN_REPLY, IPS_ASSURED, IPS_DST_NAT_DONE, ...)
  std::uint32_t id = 0;      // the kernel's id of the entry (CTA_ID); 0 when absent
  std::optional<std::uint32_t> timeout_s;  // seconds left; dumps, NEW and UPDATE events carry it
  // Per direction, with net.netfilter.nf_conntrack_acct = 1: dumps and
  // DESTROY events carry them (NEW and UPDATE events do not).
  std::optional<FlowCounters> orig_counters, reply_counters;

  Family family() const { return orig_src.addr.family(); }
};

enum class ConntrackEvent { created, updated, destroyed };
const char* to_string(ConntrackEvent kind);

// Parses one ctnetlink conntrack message (an event, or one entry of a dump)
// into *flow; *kind says which event it was (NEW with NLM_F_CREATE: created,
// NEW otherwise: updated — a dump's entries come out as updated — DELETE:
// destroyed). False when the message is not a ctnetlink conntrack message or
// carries no original tuple of IPv4/IPv6 addresses.
bool parse_conntrack_message(const nlmsghdr* nlh, ConntrackFlow* flow, ConntrackEvent* kind);

// The ct mark of such a message without parsing the rest (a dump filters
// with it): 0 when the message has none (the kernel leaves out a 0 mark in
// events).
std::uint32_t conntrack_message_mark(const nlmsghdr* nlh);

// Builders: each writes one request into `buf` and returns its length, or 0
// when `buf` is shorter than kConntrackRequestSize (every request fits) or
// the request cannot be built. `buf` must be aligned for nlmsghdr.
inline constexpr std::size_t kConntrackRequestSize = 512;

// IPCTNL_MSG_CT_GET dump of both families. With `exact`, the kernel sends
// only the entries whose ct mark & exact->mask == exact->value (the
// kernel's dump filter knows only equality; "!= 0" is filtered by the
// reader).
struct MarkMatch {
  std::uint32_t value = 0, mask = 0;
};
std::size_t build_conntrack_dump(std::span<std::uint8_t> buf, std::uint32_t seq,
                                 const MarkMatch* exact = nullptr);

// IPCTNL_MSG_CT_DELETE of one entry by its original tuple (l4proto,
// orig_src, orig_dst) and, when flow.id is not 0, its id: the kernel then
// refuses (ENOENT) to delete a newer entry that reuses the tuple. NLM_F_ACK.
// TCP and UDP only. 0 when the tuple is incomplete (both addresses of one
// family, both ports): a delete request without a tuple would flush the
// whole table, so none is ever built.
std::size_t build_conntrack_delete(std::span<std::uint8_t> buf, std::uint32_t seq,
                                   const ConntrackFlow& flow);

// "tcp 198.51.100.2:40000 -> 192.0.2.10:80 reply 203.0.113.11:8080 mark 0x10001
// ESTABLISHED 431999s id 123": for logs and test messages.
std::string to_string(const ConntrackFlow& flow);
// "ESTABLISHED", "SYN_SENT", ...; "NONE" for 0, the number when unknown.
std::string tcp_state_name(std::uint8_t state);

}  // namespace vsd::kstate
