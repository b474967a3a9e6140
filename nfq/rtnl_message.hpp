// rtnetlink (NETLINK_ROUTE) messages, the pure half of vsd's rtnetlink
// adapter: request builders and reply parsers for routes, links, addresses,
// neighbours and the director's IP-in-IP tunnel devices, tested without
// root. The socket half (rtnl_socket.hpp) sends them; arp/, the director's
// egress watch and its tunnel devices use both.
#pragma once

#include <linux/netlink.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "net/ip_address.hpp"
#include "net/mac_address.hpp"

namespace vsd::rtnl {

struct RouteInfo {
  int oif = 0;            // output interface index
  std::string ifname;     // its name
  IpAddress gateway;      // unspecified when the destination is directly connected
  IpAddress prefsrc;      // the source address the kernel would use (RTA_PREFSRC)
  std::uint32_t mtu = 0;  // route MTU (RTAX_MTU) or else the interface MTU
  bool local = false;     // RTN_LOCAL: the address is this node's own
  bool has_gateway() const { return !gateway.is_unspecified(); }
};

struct LocalAddress {
  int ifindex = 0;
  std::string ifname;
  IpAddress addr;
  std::uint8_t prefix = 0;
  std::uint32_t flags = 0;  // IFA_F_*: IFA_F_TENTATIVE while IPv6 DAD runs, IFA_F_NODAD, ...
};

// Builders: each writes one request into `buf` and returns its length, or 0
// when `buf` is shorter than kRequestSize (every request fits in it) or the
// request is invalid (said at the builder). `buf` must be aligned for
// nlmsghdr.
inline constexpr std::size_t kRequestSize = 256;

// RTM_GETROUTE for one destination; NLM_F_ACK so the answer ends with an ack.
std::size_t build_route_get(std::span<std::uint8_t> buf, std::uint32_t seq, const IpAddress& dst);
// RTM_GETLINK for one interface, or a dump of all when ifindex is 0.
std::size_t build_link_get(std::span<std::uint8_t> buf, std::uint32_t seq, int ifindex);
// RTM_GETADDR dump, AF_UNSPEC: IPv4 then IPv6.
std::size_t build_addr_dump(std::span<std::uint8_t> buf, std::uint32_t seq);
// RTM_GETNEIGH for one entry (the strict request neigh_get wants: no state,
// no flags, NDA_DST only).
std::size_t build_neigh_get(std::span<std::uint8_t> buf, std::uint32_t seq, const IpAddress& addr,
                            int ifindex);
// RTM_NEWNEIGH, NLM_F_CREATE without NLM_F_REPLACE or NLM_F_EXCL, state
// NUD_NONE, flag NTF_USE: creates a missing entry (NUD_NONE, not exempt from
// garbage collection) and makes the kernel probe; on an existing entry it
// only triggers a probe (and would clear NUD_PERMANENT, see above).
std::size_t build_neigh_use(std::span<std::uint8_t> buf, std::uint32_t seq, const IpAddress& addr,
                            int ifindex);
// RTM_NEWADDR (NLM_F_CREATE|NLM_F_EXCL) or RTM_DELADDR; IFA_LOCAL and
// IFA_ADDRESS both ADDR; IPv6 adds get IFA_F_NODAD.
std::size_t build_addr_change(std::span<std::uint8_t> buf, std::uint32_t seq, bool add,
                              int ifindex, const IpAddress& addr, std::uint8_t prefix);

// --- The director's kernel TUN path: point-to-point IP-in-IP devices ---
//
// One device per TUN real server, remote = the real server, local = the
// director's outer source. nft's `dup to NEXTHOP device DEV` hands it the
// unchanged client packet and the tunnel's xmit adds the outer header
// toward its remote (what IPVS's ip_vs_tunnel_xmit writes by hand).
//   ipip    IPv4 real server, IPv4 inside (IPPROTO_IPIP);
//   ip6tnl  IPv6 real server, IPv6 or IPv4 inside (IFLA_IPTUN_PROTO 0,
//           `ip -6 tunnel ... mode any`: one device whatever the services'
//           families, so adding an IPv4 service never re-creates it).
// IPv6 inside IPv4 would need a third kind (sit); vsd leaves that
// combination to its own encapsulation (tunnel_carries).
enum class TunnelKind : std::uint8_t { ipip, ip6tnl };
const char* to_string(TunnelKind);  // the IFLA_INFO_KIND: "ipip", "ip6tnl"
TunnelKind tunnel_kind_for(const IpAddress& remote);
// Whether a device of `kind` carries packets of the inner family.
bool tunnel_carries(TunnelKind kind, bool inner_v6);

struct TunnelParams {
  std::string name;  // at most 15 characters (IFNAMSIZ - 1)
  TunnelKind kind = TunnelKind::ipip;
  IpAddress local, remote;  // the outer source and destination, of the kind's family
};

// The NEXTHOP of `dup to NEXTHOP device DEV` for a packet of the inner
// family. The packet keeps its own destination (the VIP); the next hop only
// steers nf_dup's route lookup, and a point-to-point device never resolves
// it (NOARP):
//   IPv4: a lookup with an output interface and no route through it is
//     taken as on-link (ip_route_output_key_full: "Apparently, routing
//     tables are wrong. Assume, that the destination is on link"): the
//     real server itself for ipip, and for IPv4 inside ip6tnl, where it
//     must be an IPv4 address, RFC 7600's dummy address 192.0.0.8.
//   IPv6: no such fallback; a lookup with an output interface and no
//     source is strict (RT6_LOOKUP_F_IFACE) and fails without a route
//     through the device, and the packet is lost silently. So every
//     ip6tnl device gets the route fe80::1/128 (kTunnelNexthop6) and the
//     dup names that: link-local, so only a lookup bound to that device
//     ever uses it; the real server's own address could not take a route
//     through the tunnel, the tunnel's outer packets to it would loop.
inline constexpr std::uint8_t kTunnelNexthop6[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0,
                                                     0,    0,    0, 0, 0, 0, 0, 1};
inline constexpr std::uint8_t kTunnelNexthop4[4] = {192, 0, 0, 8};
IpAddress tunnel_nexthop(const IpAddress& remote, bool inner_v6);

// RTM_NEWLINK for a tunnel device: ifindex 0 creates it (NLM_F_CREATE |
// NLM_F_EXCL, left down), otherwise changes that device in place (same
// ifindex, so rules that name it stay valid). Settings as IPVS sends:
// TTL / hop limit 0 = the inner packet's; ipip: TOS inherited (1), path MTU
// discovery on (outer DF, ICMP "fragmentation needed" back to the client);
// ip6tnl: traffic class inherited, no encapsulation-limit option (IPVS and
// vsd's own encapsulation send none, and it would cost 8 bytes of MTU), the
// outer flow label the kernel's (a hash of the flow, net.ipv6.auto_flowlabels;
// vsd's own encapsulation sends 0).
// No IFLA_MTU: the kernel sets the device's from the interface toward the
// remote, and the tunnel checks each packet against the outer route's MTU
// (answering too big ones with ICMP). 0 for a name that is empty or too
// long, or addresses not of the kind's family.
std::size_t build_tunnel(std::span<std::uint8_t> buf, std::uint32_t seq, const TunnelParams& p,
                         int ifindex);
// RTM_NEWLINK: IFF_UP on an existing link (`ip link set DEV up`).
std::size_t build_link_up(std::span<std::uint8_t> buf, std::uint32_t seq, int ifindex);
// RTM_NEWLINK: IPv6 address generation off on a link (IFLA_AF_SPEC /
// AF_INET6 / IFLA_INET6_ADDR_GEN_MODE = none), before it goes up: no
// link-local address, so no router solicitations or MLD reports through
// the tunnel to the real server.
std::size_t build_link_no_addrconf(std::span<std::uint8_t> buf, std::uint32_t seq, int ifindex);
// RTM_DELLINK by index.
std::size_t build_link_delete(std::span<std::uint8_t> buf, std::uint32_t seq, int ifindex);
// RTM_NEWROUTE DST/PREFIX dev IFINDEX in the main table, NLM_F_CREATE
// without NLM_F_EXCL: IPv6 keeps the same prefix on several devices (as
// every interface's fe80::/64), and an identical route is EEXIST.
std::size_t build_route_onlink(std::span<std::uint8_t> buf, std::uint32_t seq, const IpAddress& dst,
                               std::uint8_t prefix, int ifindex);

// Parsers: one message each; false when it is of another type or too short.
// Attributes with the wrong length are ignored.
bool parse_route(const nlmsghdr* nlh, RouteInfo* out, std::uint8_t* rtm_type);  // no ifname

struct LinkInfo {
  int ifindex = 0;
  std::string ifname;
  std::uint32_t mtu = 0;
  std::uint16_t type = 0;  // ARPHRD_*
  std::uint32_t flags = 0;  // IFF_*
  std::string kind;         // IFLA_INFO_KIND ("ipip", "ip6tnl", "veth"); empty: none
  // ipip, ip6tnl and sit (IFLA_INFO_DATA): the tunnel's endpoints (unset:
  // unspecified) and IFLA_IPTUN_PROTO.
  IpAddress tunnel_local, tunnel_remote;
  std::uint8_t tunnel_proto = 0;
  bool up() const;  // IFF_UP
};
bool parse_link(const nlmsghdr* nlh, LinkInfo* out);
bool parse_address(const nlmsghdr* nlh, LocalAddress* out);  // ifname left empty

struct NeighbourEntry {
  int ifindex = 0;
  IpAddress addr;
  std::uint16_t state = 0;  // NUD_*
  std::uint8_t flags = 0;   // NTF_*
  std::size_t lladdr_len = 0;
  MacAddress mac{};  // the first 6 bytes of the link-layer address
};
bool parse_neighbour(const nlmsghdr* nlh, NeighbourEntry* out);
bool neighbour_usable(const NeighbourEntry& entry);
// "REACHABLE", "STALE|..."; "NONE" for 0.
std::string nud_state_name(std::uint16_t state);

// The end of one exchange: the ack or error (NLMSG_ERROR) or the end of a
// dump (NLMSG_DONE), with the kernel's extended-ack text when it sent one.
struct Ack {
  bool seen = false;
  int error = 0;             // 0 or a negative errno
  std::string message;       // NLMSGERR_ATTR_MSG
  bool interrupted = false;  // a dump message had NLM_F_DUMP_INTR: the table changed meanwhile
};
bool parse_ack(const nlmsghdr* nlh, Ack* out);

enum class Walk { more, done, bad };
// Walks the messages of one recv() buffer, skipping those not for (seq,
// portid): data messages go to `on_message` (false = malformed, stop), the
// ack/error/done fills *ack. `more` when no final message came yet, `bad`
// when the buffer or a message is malformed.
Walk walk_reply(std::span<const std::uint8_t> buf, std::uint32_t seq, std::uint32_t portid,
                const std::function<bool(const nlmsghdr*)>& on_message, Ack* ack);

}  // namespace vsd::rtnl
