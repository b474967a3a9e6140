// The socket half of vsd's rtnetlink adapter: the route and source address
// the kernel would use towards a real server, this node's own addresses,
// the neighbour (ARP / NDP) cache, adding or removing a VIP, and the
// director's IP-in-IP tunnel devices (kernel TUN path). Each call
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

// --- Tunnel devices (rtnl_message.hpp says what they are and why) ---

// Whether this kernel makes ipip and ip6tnl devices: each is tried with a
// throwaway device in the current network namespace ("vsdp4"/"vsdp6" and
// the process id in hex; remote RFC 7600's 192.0.0.8 / RFC 6666's
// 100::8, never used: created down and deleted at once). Creating one
// loads the module where it exists (the kernel's request_module), which
// also adds its fallback device (tunl0 / ip6tnl0, down). *_why says why
// not ("" when it can).
struct TunnelSupport {
  bool ipip = false, ip6tnl = false;
  std::string ipip_why, ip6tnl_why;
  bool has(TunnelKind kind) const { return kind == TunnelKind::ipip ? ipip : ip6tnl; }
};
TunnelSupport kernel_tunnels();

// Creates a tunnel device and brings it into service: RTM_NEWLINK create,
// IPv6 address generation off, (ip6tnl) IPv6 enabled on it, up, and
// (ip6tnl) the route kTunnelNexthop6/128 through it. *ifindex is the new
// device's. On any failure the device is deleted again and *error names
// it and what to check (`modprobe ipip`, CAP_NET_ADMIN, a tunnel with the
// same endpoints).
bool tunnel_create(const TunnelParams& p, int* ifindex, std::string* error);
// Changes an existing tunnel device in place (new local address), keeping
// its ifindex; then tunnel_up.
bool tunnel_change(int ifindex, const TunnelParams& p, std::string* error);
// Up, and (ip6tnl) the nexthop route again: IPv6 drops a device's routes
// when it goes down. An existing route is not an error.
bool tunnel_up(int ifindex, const TunnelParams& p, std::string* error);
// IPv6 address generation off on a link that is still down (no link-local
// address when it goes up); tunnel_create's second step. EAFNOSUPPORT
// (no IPv6 on the link or in the kernel) is reported as an error.
bool link_no_addrconf(int ifindex, const std::string& name, std::string* error);
// `ip link del` by index; `name` is for the messages. A device already
// gone is not an error.
bool link_delete(int ifindex, const std::string& name, std::string* error);
// Every link whose name starts with `prefix`, with its kind and (tunnels)
// endpoints (a dump, repeated if the links changed during it).
bool links_with_prefix(const std::string& prefix, std::vector<LinkInfo>* out, std::string* error);

}  // namespace vsd::rtnl
