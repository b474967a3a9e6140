// The socket half of vsd's nftables state reader (libmnl, the messages of
// nft_state_message.hpp): the per-decision counters and the DR/TUN flow
// maps of the fast path, read with dumps; flow map elements removed in one
// batch. Each call opens its own SOCK_CLOEXEC NETLINK_NETFILTER socket,
// blocks until the kernel answers (at most 5 s) and closes it. Errors are
// std::system_error whose text names the table or map and says what to
// check. Reads need CAP_NET_ADMIN in the network namespace, as `nft list`.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "nfq/nft_state_message.hpp"

namespace vsd::kstate {

// The counter objects of `table ip TABLE` and `table ip6 TABLE` (both in
// one dump), in the kernel's order. No such table: an empty result.
std::vector<NftCounter> read_counters(const std::string& table);

// Every element of flow map `map` in `ip TABLE` (v4) or `ip6 TABLE`. No such
// table or map: an empty result. Elements of another shape (not
// addr . port . addr . port : mark) are left out. A dump that raced with a
// ruleset change is run again (up to 3 times).
std::vector<FlowElement> read_flow_map(Family family, const std::string& table,
                                       const std::string& map);

// Removes `keys` (those of `family`) from that map, one transaction per 2000
// keys. Keys that are not there, and a missing table or map, are not
// errors. Kernels older than 6.3 (no NFT_MSG_DESTROYSETELEM) get one
// NFT_MSG_DELSETELEM per key, sent again without the missing ones (what the
// kernel's answers name); `allow_destroy = false` forces that path (tests).
void delete_flows(Family family, const std::string& table, const std::string& map,
                  std::span<const FlowKey> keys, bool allow_destroy = true);

}  // namespace vsd::kstate
