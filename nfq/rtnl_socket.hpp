// The socket half of vsd's rtnetlink adapter: the route and source address
// the kernel would use towards a real server, this node's own addresses,
// the neighbour (ARP / NDP) cache, and adding or removing a VIP. Each call
// opens its own netlink socket, blocks until the kernel answers (at most
// 5 s) and closes it; errors name the address or interface and say what to
// check. The messages are built and parsed by rtnl_message.hpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nfq/rtnl_message.hpp"

namespace vsd::rtnl {

// RTM_GETROUTE, as `ip route get DST`, then RTM_GETLINK for the interface's
// name and MTU. False when there is no route (or it is unreachable,
// blackhole or prohibit).
bool route_get(const IpAddress& dst, RouteInfo* out, std::string* error);

// RTM_GETADDR dump of both families, in the kernel's order (by interface).
// Includes lo and link-local addresses; callers filter.
bool local_addresses(std::vector<LocalAddress>* out, std::string* error);

// RTM_GETNEIGH for ADDR on interface `ifindex` (required: neighbour entries
// are per interface; route_get gives it). True, with *mac, when the entry is
// usable: NUD_REACHABLE, STALE, DELAY, PROBE, PERMANENT or NOARP, with a
// 6-byte link-layer address. Otherwise false and *error says whether there
// is no entry or which state it is in.
bool neighbour_lookup(const IpAddress& addr, int ifindex, MacAddress* mac, std::string* error);

// Asks the kernel to resolve ADDR on `ifindex` (RTM_NEWNEIGH with NTF_USE, as
// `ip neigh replace ADDR dev DEV use` minus the replace), so that a later
// neighbour_lookup finds it; the kernel sends the ARP request / neighbour
// solicitation at once. Returns without waiting for the answer. An entry
// that is already REACHABLE, PERMANENT or NOARP is left alone: NTF_USE would
// clear NUD_PERMANENT and turn a static entry into an INCOMPLETE one.
bool neighbour_resolve(const IpAddress& addr, int ifindex, std::string* error);

// `ip addr add ADDR/PREFIX dev IFINDEX` (scope global). *existed is true when
// the kernel already had it (EEXIST, not an error): for IPv4 the same address
// and prefix on that interface, for IPv6 the same address with any prefix.
// IPv6 addresses get IFA_F_NODAD, so they are usable at once instead of
// tentative for the ~1 s of duplicate address detection.
bool address_add(int ifindex, const IpAddress& addr, std::uint8_t prefix, bool* existed,
                 std::string* error);
// `ip addr del ADDR/PREFIX dev IFINDEX`. False when it is not there.
bool address_del(int ifindex, const IpAddress& addr, std::uint8_t prefix, std::string* error);

}  // namespace vsd::rtnl
