// nftables state messages without the socket, the pure half of vsd's
// nftables reader for the kernel fast path: the named counters of a table
// (in_<n> / out_<n>: traffic per decision) and the DR/TUN flow maps
// (`tcp_flows` / `udp_flows`: client . cport . VIP . vport -> mark), read
// with dumps and parsed with libnftnl; deleting flow map elements as one
// batch. Tested without root; the socket half is nft_state.hpp.
#pragma once

#include <linux/netlink.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "net/ip_address.hpp"
#include "nfq/conntrack_message.hpp"  // FlowCounters

namespace vsd::kstate {

// A named counter object (`counter NAME { }`, referenced by `counter name
// NAME` in rules).
struct NftCounter {
  Family family = Family::v4;  // its table's: ip or ip6
  std::string name;
  std::uint64_t packets = 0, bytes = 0;
};

// A flow map's key: client . cport . VIP . vport.
struct FlowKey {
  Endpoint client, vip;
  friend bool operator==(const FlowKey&, const FlowKey&) = default;
};

// One element of a flow map.
struct FlowElement {
  Endpoint client;                          // key: client . cport
  Endpoint vip;                             //      . VIP . vport
  std::uint32_t mark = 0;                   // data: the decision
  std::optional<std::uint64_t> timeout_ms;  // the element's own timeout; absent: the map's
  std::optional<std::uint64_t> expires_ms;  // time left before the kernel drops it
  std::optional<FlowCounters> counters;     // when the map counts per element (`counter`)
  FlowKey key() const { return {client, vip}; }
};

// The key as the kernel stores it: each component in network order, padded
// to 4 bytes (registers are 32 bits): 4+4+4+4 bytes for IPv4, 16+4+16+4 for
// IPv6. Returns the length, 0 when client and VIP are of different families.
inline constexpr std::size_t kFlowKeyMax = 40;
std::size_t encode_flow_key(const FlowKey& key, std::span<std::uint8_t, kFlowKeyMax> out);
// The reverse; false for any other length.
bool decode_flow_key(std::span<const std::uint8_t> bytes, FlowKey* key);

// Builders of dump requests: the length written, 0 when `buf` is shorter than
// kNftRequestSize or a name is empty or longer than nftables allows (255).
// `buf` must be aligned for nlmsghdr.
inline constexpr std::size_t kNftRequestSize = 1024;

// NFT_MSG_GETOBJ dump of the counter objects of every table named `table`,
// both families in one dump (NFPROTO_UNSPEC; the kernel filters by table
// name and object type).
std::size_t build_counter_dump(std::span<std::uint8_t> buf, std::uint32_t seq,
                               const std::string& table);
// One NFT_MSG_NEWOBJ message of such a dump. False when it is another
// message, another object type, or from a family other than ip / ip6.
bool parse_counter(const nlmsghdr* nlh, NftCounter* out);

// NFT_MSG_GETSETELEM dump of one map in table `ip TABLE` (v4) or `ip6 TABLE`.
std::size_t build_flow_map_dump(std::span<std::uint8_t> buf, std::uint32_t seq, Family family,
                                const std::string& table, const std::string& map);
// Appends the elements of one NFT_MSG_NEWSETELEM message of that dump to
// *out. Elements whose key or data has another shape are skipped and
// counted in *skipped. False when the message is not a set element message.
bool parse_flow_elements(const nlmsghdr* nlh, std::vector<FlowElement>* out,
                         std::size_t* skipped = nullptr);

// NFT_MSG_DESTROYSETELEM (kernel >= 6.3) succeeds for elements that are
// not there; older kernels know only NFT_MSG_DELSETELEM, which fails the
// whole transaction with ENOENT.
inline constexpr std::uint16_t kNftMsgDestroySetElem = 30;
enum class DeleteOp { destroy, del };
// One transaction (BATCH_BEGIN with `seq` .. BATCH_END) removing `keys`
// from map `map` of `ip|ip6 TABLE`, every message with NLM_F_ACK. destroy:
// the keys in as few messages as fit (500 per message), seq + 1, seq + 2...;
// del: one message per key, keys[i]'s with seq + 1 + i, so the kernel's
// error answer names the missing one. Keys of the other family are left out
// (their seq unused). Empty when no key is left or a name is invalid.
std::vector<std::uint8_t> build_flow_delete_batch(Family family, const std::string& table,
                                                  const std::string& map,
                                                  std::span<const FlowKey> keys, std::uint32_t seq,
                                                  DeleteOp op);

}  // namespace vsd::kstate
