// rtnetlink (NETLINK_ROUTE) messages, the pure half of vsd's rtnetlink
// adapter: request builders and reply parsers for routes, links, addresses
// and neighbours, tested without root. The socket half (rtnl_socket.hpp)
// sends them; arp/ and the director's egress watch use both.
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
// when `buf` is shorter than kRequestSize (every request fits in it). `buf`
// must be aligned for nlmsghdr.
inline constexpr std::size_t kRequestSize = 128;

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

// Parsers: one message each; false when it is of another type or too short.
// Attributes with the wrong length are ignored.
bool parse_route(const nlmsghdr* nlh, RouteInfo* out, std::uint8_t* rtm_type);  // no ifname

struct LinkInfo {
  int ifindex = 0;
  std::string ifname;
  std::uint32_t mtu = 0;
  std::uint16_t type = 0;  // ARPHRD_*
  std::uint32_t flags = 0;  // IFF_*
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
