#include "nfq/rtnl_message.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
// glibc headers before the kernel uapi ones (linux/if_tunnel.h pulls in
// linux/if.h and linux/in6.h, which step aside for glibc's).
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/if_tunnel.h>
#include <linux/ip6_tunnel.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <utility>

namespace vsd::rtnl {
namespace {

// Attributes of one message by type; later duplicates win, types beyond the
// table are ignored (none that we read is that high).
struct Attrs {
  static constexpr std::size_t kMax = 128;
  std::array<const nlattr*, kMax> at{};
  const nlattr* operator[](std::size_t type) const { return type < kMax ? at[type] : nullptr; }
};

int collect_attr(const nlattr* attr, void* data) {
  auto* attrs = static_cast<Attrs*>(data);
  const std::uint16_t type = mnl_attr_get_type(attr);
  if (type < Attrs::kMax) attrs->at[type] = attr;
  return MNL_CB_OK;
}

std::size_t payload_len(const nlmsghdr* nlh) {
  return nlh->nlmsg_len >= NLMSG_HDRLEN ? nlh->nlmsg_len - NLMSG_HDRLEN : 0;
}

// The fixed header of type T that follows nlh, copied out (the buffer may be
// unaligned for T in a hand-built reply), and the attributes after it.
template <typename T>
bool parse_message(const nlmsghdr* nlh, std::uint16_t type, T* header, Attrs* attrs) {
  if (nlh->nlmsg_type != type || payload_len(nlh) < sizeof(T)) return false;
  std::memcpy(header, mnl_nlmsg_get_payload(nlh), sizeof(T));
  mnl_attr_parse(nlh, sizeof(T), collect_attr, attrs);
  return true;
}

bool attr_u32(const nlattr* attr, std::uint32_t* out) {
  if (!attr || mnl_attr_get_payload_len(attr) != 4) return false;
  *out = mnl_attr_get_u32(attr);
  return true;
}

bool ip_from(const void* data, std::size_t len, int family, IpAddress* out) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  if (family == AF_INET && len == 4) {
    *out = IpAddress::v4(p);
    return true;
  }
  if (family == AF_INET6 && len == 16) {
    *out = IpAddress::v6(p);
    return true;
  }
  return false;
}

bool attr_ip(const nlattr* attr, int family, IpAddress* out) {
  return attr && ip_from(mnl_attr_get_payload(attr), mnl_attr_get_payload_len(attr), family, out);
}

std::string attr_string(const nlattr* attr) {
  const auto* p = static_cast<const char*>(mnl_attr_get_payload(attr));
  return std::string(p, strnlen(p, mnl_attr_get_payload_len(attr)));
}

std::uint8_t family_of(const IpAddress& a) { return a.is_v4() ? AF_INET : AF_INET6; }

// Header and fixed part of a request; the whole kRequestSize is zeroed so
// padding and unset fields are 0.
template <typename T>
nlmsghdr* start(std::span<std::uint8_t> buf, std::uint16_t type, std::uint16_t flags,
                std::uint32_t seq, T** header) {
  if (buf.size() < kRequestSize) return nullptr;
  std::memset(buf.data(), 0, kRequestSize);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | flags);
  nlh->nlmsg_seq = seq;
  *header = static_cast<T*>(mnl_nlmsg_put_extra_header(nlh, sizeof(T)));
  return nlh;
}

// A link request (RTM_*LINK) about link `ifindex` (0: none, or every one),
// family AF_UNSPEC; *ifi for the fields a request sets beyond those.
nlmsghdr* start_link(std::span<std::uint8_t> buf, std::uint16_t type, std::uint16_t flags, std::uint32_t seq,
                     int ifindex, ifinfomsg** ifi = nullptr) {
  ifinfomsg* header;
  nlmsghdr* nlh = start(buf, type, flags, seq, &header);
  if (!nlh) return nullptr;
  header->ifi_family = AF_UNSPEC;
  header->ifi_index = ifindex;
  if (ifi) *ifi = header;
  return nlh;
}

}  // namespace

std::size_t build_route_get(std::span<std::uint8_t> buf, std::uint32_t seq, const IpAddress& dst) {
  rtmsg* rtm;
  nlmsghdr* nlh = start(buf, RTM_GETROUTE, NLM_F_ACK, seq, &rtm);
  if (!nlh) return 0;
  rtm->rtm_family = family_of(dst);
  rtm->rtm_dst_len = static_cast<std::uint8_t>(dst.size() * 8);
  mnl_attr_put(nlh, RTA_DST, dst.size(), dst.data());
  return nlh->nlmsg_len;
}

std::size_t build_link_get(std::span<std::uint8_t> buf, std::uint32_t seq, int ifindex) {
  nlmsghdr* nlh = start_link(buf, RTM_GETLINK, ifindex ? NLM_F_ACK : NLM_F_DUMP, seq, ifindex);
  if (!nlh) return 0;
  // Counters are not needed, and without them a link fits in far less space.
  mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  return nlh->nlmsg_len;
}

std::size_t build_addr_dump(std::span<std::uint8_t> buf, std::uint32_t seq) {
  ifaddrmsg* ifa;
  nlmsghdr* nlh = start(buf, RTM_GETADDR, NLM_F_DUMP, seq, &ifa);
  if (!nlh) return 0;
  ifa->ifa_family = AF_UNSPEC;  // the kernel dumps each family in turn
  return nlh->nlmsg_len;
}

std::size_t build_neigh_get(std::span<std::uint8_t> buf, std::uint32_t seq, const IpAddress& addr,
                            int ifindex) {
  ndmsg* ndm;
  nlmsghdr* nlh = start(buf, RTM_GETNEIGH, NLM_F_ACK, seq, &ndm);
  if (!nlh) return 0;
  ndm->ndm_family = family_of(addr);
  ndm->ndm_ifindex = ifindex;
  mnl_attr_put(nlh, NDA_DST, addr.size(), addr.data());
  return nlh->nlmsg_len;
}

std::size_t build_neigh_use(std::span<std::uint8_t> buf, std::uint32_t seq, const IpAddress& addr,
                            int ifindex) {
  ndmsg* ndm;
  // neigh_add: without NLM_F_CREATE a missing entry is ENOENT; NLM_F_EXCL
  // would make an existing one EEXIST; NLM_F_REPLACE would allow overriding
  // its link-layer address (NTF_USE returns before that, but ask for no more
  // than needed).
  nlmsghdr* nlh = start(buf, RTM_NEWNEIGH, NLM_F_ACK | NLM_F_CREATE, seq, &ndm);
  if (!nlh) return 0;
  ndm->ndm_family = family_of(addr);
  ndm->ndm_ifindex = ifindex;
  // NUD_PERMANENT here would make a new entry exempt from garbage collection
  // (iproute2 sends it by default); the state is otherwise ignored with NTF_USE.
  ndm->ndm_state = NUD_NONE;
  ndm->ndm_flags = NTF_USE;
  mnl_attr_put(nlh, NDA_DST, addr.size(), addr.data());
  return nlh->nlmsg_len;
}

std::size_t build_addr_change(std::span<std::uint8_t> buf, std::uint32_t seq, bool add,
                              int ifindex, const IpAddress& addr, std::uint8_t prefix) {
  ifaddrmsg* ifa;
  nlmsghdr* nlh = start(buf, add ? RTM_NEWADDR : RTM_DELADDR,
                        add ? NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL : NLM_F_ACK, seq, &ifa);
  if (!nlh) return 0;
  const bool nodad = add && !addr.is_v4();
  ifa->ifa_family = family_of(addr);
  ifa->ifa_prefixlen = prefix;
  ifa->ifa_flags = nodad ? IFA_F_NODAD : 0;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = static_cast<std::uint32_t>(ifindex);
  // As iproute2: IFA_ADDRESS is the peer of a point-to-point address and
  // equals IFA_LOCAL otherwise.
  mnl_attr_put(nlh, IFA_LOCAL, addr.size(), addr.data());
  mnl_attr_put(nlh, IFA_ADDRESS, addr.size(), addr.data());
  if (nodad) mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
  return nlh->nlmsg_len;
}

const char* to_string(TunnelKind kind) { return kind == TunnelKind::ipip ? "ipip" : "ip6tnl"; }

TunnelKind tunnel_kind_for(const IpAddress& remote) {
  return remote.is_v4() ? TunnelKind::ipip : TunnelKind::ip6tnl;
}

bool tunnel_carries(TunnelKind kind, bool inner_v6) { return kind == TunnelKind::ip6tnl || !inner_v6; }

IpAddress tunnel_nexthop(const IpAddress& remote, bool inner_v6) {
  if (inner_v6) return IpAddress::v6(kTunnelNexthop6);
  return remote.is_v4() ? remote : IpAddress::v4(kTunnelNexthop4);
}

std::size_t build_tunnel(std::span<std::uint8_t> buf, std::uint32_t seq, const TunnelParams& p,
                         int ifindex) {
  const bool v4 = p.kind == TunnelKind::ipip;
  if (p.name.empty() || p.name.size() >= IF_NAMESIZE || p.local.is_v4() != v4 ||
      p.remote.is_v4() != v4 || ifindex < 0)
    return 0;
  const std::uint16_t flags = ifindex ? NLM_F_ACK : NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
  nlmsghdr* nlh = start_link(buf, RTM_NEWLINK, flags, seq, ifindex);
  if (!nlh) return 0;
  // The name only to create: on an existing device IFLA_IFNAME is a rename,
  // which older kernels (Debian's 6.1) refuse with EBUSY while the device
  // is up, even to the same name.
  if (!ifindex) mnl_attr_put_strz(nlh, IFLA_IFNAME, p.name.c_str());
  nlattr* linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, to_string(p.kind));
  nlattr* data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  mnl_attr_put(nlh, IFLA_IPTUN_LOCAL, p.local.size(), p.local.data());
  mnl_attr_put(nlh, IFLA_IPTUN_REMOTE, p.remote.size(), p.remote.data());
  mnl_attr_put_u8(nlh, IFLA_IPTUN_TTL, 0);  // inherit the inner TTL / hop limit
  if (v4) {
    mnl_attr_put_u8(nlh, IFLA_IPTUN_TOS, 1);  // 1 = inherit (iproute2's `tos inherit`)
    mnl_attr_put_u8(nlh, IFLA_IPTUN_PMTUDISC, 1);
    mnl_attr_put_u8(nlh, IFLA_IPTUN_PROTO, IPPROTO_IPIP);
  } else {
    // Without IGN_ENCAP_LIMIT the kernel inserts a destination option with
    // an encapsulation limit of 0 (the attribute's default).
    mnl_attr_put_u32(nlh, IFLA_IPTUN_FLAGS, IP6_TNL_F_IGN_ENCAP_LIMIT | IP6_TNL_F_USE_ORIG_TCLASS);
    mnl_attr_put_u8(nlh, IFLA_IPTUN_PROTO, 0);  // any: IPv6 and IPv4 inside
  }
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, linkinfo);
  return nlh->nlmsg_len;
}

std::size_t build_link_up(std::span<std::uint8_t> buf, std::uint32_t seq, int ifindex) {
  if (ifindex <= 0) return 0;
  ifinfomsg* ifi;
  nlmsghdr* nlh = start_link(buf, RTM_NEWLINK, NLM_F_ACK, seq, ifindex, &ifi);
  if (!nlh) return 0;
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;  // only this flag changes
  return nlh->nlmsg_len;
}

std::size_t build_link_no_addrconf(std::span<std::uint8_t> buf, std::uint32_t seq, int ifindex) {
  if (ifindex <= 0) return 0;
  nlmsghdr* nlh = start_link(buf, RTM_NEWLINK, NLM_F_ACK, seq, ifindex);
  if (!nlh) return 0;
  nlattr* spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
  nlattr* inet6 = mnl_attr_nest_start(nlh, AF_INET6);
  mnl_attr_put_u8(nlh, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
  mnl_attr_nest_end(nlh, inet6);
  mnl_attr_nest_end(nlh, spec);
  return nlh->nlmsg_len;
}

std::size_t build_link_delete(std::span<std::uint8_t> buf, std::uint32_t seq, int ifindex) {
  if (ifindex <= 0) return 0;
  nlmsghdr* nlh = start_link(buf, RTM_DELLINK, NLM_F_ACK, seq, ifindex);
  if (!nlh) return 0;
  return nlh->nlmsg_len;
}

std::size_t build_route_onlink(std::span<std::uint8_t> buf, std::uint32_t seq, const IpAddress& dst,
                               std::uint8_t prefix, int ifindex) {
  if (ifindex <= 0 || prefix > dst.size() * 8) return 0;
  rtmsg* rtm;
  nlmsghdr* nlh = start(buf, RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE, seq, &rtm);
  if (!nlh) return 0;
  rtm->rtm_family = family_of(dst);
  rtm->rtm_dst_len = prefix;
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_protocol = RTPROT_STATIC;
  rtm->rtm_scope = RT_SCOPE_LINK;  // directly on the device, no gateway
  rtm->rtm_type = RTN_UNICAST;
  mnl_attr_put(nlh, RTA_DST, dst.size(), dst.data());
  mnl_attr_put_u32(nlh, RTA_OIF, static_cast<std::uint32_t>(ifindex));
  return nlh->nlmsg_len;
}

bool parse_route(const nlmsghdr* nlh, RouteInfo* out, std::uint8_t* rtm_type) {
  rtmsg rtm;
  Attrs a;
  if (!parse_message(nlh, RTM_NEWROUTE, &rtm, &a)) return false;
  RouteInfo info;
  std::uint32_t u = 0;
  if (attr_u32(a[RTA_OIF], &u)) info.oif = static_cast<int>(u);
  if (!attr_ip(a[RTA_GATEWAY], rtm.rtm_family, &info.gateway) && a[RTA_VIA]) {
    // An IPv4 route via an IPv6 next hop (RFC 5549): struct rtvia.
    const std::size_t len = mnl_attr_get_payload_len(a[RTA_VIA]);
    const auto* p = static_cast<const std::uint8_t*>(mnl_attr_get_payload(a[RTA_VIA]));
    if (len >= sizeof(__kernel_sa_family_t)) {
      __kernel_sa_family_t family;
      std::memcpy(&family, p, sizeof family);
      ip_from(p + sizeof family, len - sizeof family, family, &info.gateway);
    }
  }
  attr_ip(a[RTA_PREFSRC], rtm.rtm_family, &info.prefsrc);
  if (a[RTA_METRICS]) {
    Attrs m;
    mnl_attr_parse_nested(a[RTA_METRICS], collect_attr, &m);
    attr_u32(m[RTAX_MTU], &info.mtu);
  }
  info.local = rtm.rtm_type == RTN_LOCAL;
  *out = std::move(info);
  if (rtm_type) *rtm_type = rtm.rtm_type;
  return true;
}

bool parse_link(const nlmsghdr* nlh, LinkInfo* out) {
  ifinfomsg ifi;
  Attrs a;
  if (!parse_message(nlh, RTM_NEWLINK, &ifi, &a)) return false;
  LinkInfo link;
  link.ifindex = ifi.ifi_index;
  link.type = ifi.ifi_type;
  link.flags = ifi.ifi_flags;
  if (a[IFLA_IFNAME]) link.ifname = attr_string(a[IFLA_IFNAME]);
  attr_u32(a[IFLA_MTU], &link.mtu);
  if (a[IFLA_LINKINFO]) {
    Attrs info;
    mnl_attr_parse_nested(a[IFLA_LINKINFO], collect_attr, &info);
    if (info[IFLA_INFO_KIND]) link.kind = attr_string(info[IFLA_INFO_KIND]);
    // IFLA_INFO_DATA is numbered per kind: IFLA_IPTUN_* only for these.
    if (info[IFLA_INFO_DATA] && (link.kind == "ipip" || link.kind == "ip6tnl" || link.kind == "sit")) {
      Attrs data;
      mnl_attr_parse_nested(info[IFLA_INFO_DATA], collect_attr, &data);
      for (auto [type, addr] : {std::pair{IFLA_IPTUN_LOCAL, &link.tunnel_local},
                                std::pair{IFLA_IPTUN_REMOTE, &link.tunnel_remote}}) {
        const nlattr* at = data[type];
        if (!at) continue;
        const std::size_t len = mnl_attr_get_payload_len(at);
        ip_from(mnl_attr_get_payload(at), len, len == 4 ? AF_INET : AF_INET6, addr);
      }
      if (data[IFLA_IPTUN_PROTO] && mnl_attr_get_payload_len(data[IFLA_IPTUN_PROTO]) == 1)
        link.tunnel_proto = mnl_attr_get_u8(data[IFLA_IPTUN_PROTO]);
    }
  }
  *out = std::move(link);
  return true;
}

bool LinkInfo::up() const { return (flags & IFF_UP) != 0; }

bool parse_address(const nlmsghdr* nlh, LocalAddress* out) {
  ifaddrmsg ifa;
  Attrs a;
  if (!parse_message(nlh, RTM_NEWADDR, &ifa, &a)) return false;
  LocalAddress addr;
  // IFA_LOCAL is this node's side of a point-to-point address, where
  // IFA_ADDRESS is the peer; otherwise only IFA_ADDRESS may be present.
  if (!attr_ip(a[IFA_LOCAL], ifa.ifa_family, &addr.addr) &&
      !attr_ip(a[IFA_ADDRESS], ifa.ifa_family, &addr.addr))
    return false;
  addr.ifindex = static_cast<int>(ifa.ifa_index);
  addr.prefix = ifa.ifa_prefixlen;
  // ifa_flags has only 8 bits; IFA_FLAGS carries all of them.
  if (!attr_u32(a[IFA_FLAGS], &addr.flags)) addr.flags = ifa.ifa_flags;
  *out = std::move(addr);
  return true;
}

bool parse_neighbour(const nlmsghdr* nlh, NeighbourEntry* out) {
  ndmsg ndm;
  Attrs a;
  if (!parse_message(nlh, RTM_NEWNEIGH, &ndm, &a)) return false;
  NeighbourEntry entry;
  if (!attr_ip(a[NDA_DST], ndm.ndm_family, &entry.addr)) return false;
  entry.ifindex = ndm.ndm_ifindex;
  entry.state = ndm.ndm_state;
  entry.flags = ndm.ndm_flags;
  if (a[NDA_LLADDR]) {
    entry.lladdr_len = mnl_attr_get_payload_len(a[NDA_LLADDR]);
    std::memcpy(entry.mac.data(), mnl_attr_get_payload(a[NDA_LLADDR]),
                std::min(entry.lladdr_len, entry.mac.size()));
  }
  *out = entry;
  return true;
}

bool neighbour_usable(const NeighbourEntry& entry) {
  constexpr std::uint16_t usable =
      NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP;
  return (entry.state & usable) != 0 && entry.lladdr_len == 6;
}

std::string nud_state_name(std::uint16_t state) {
  static constexpr std::pair<std::uint16_t, const char*> names[] = {
      {NUD_INCOMPLETE, "INCOMPLETE"}, {NUD_REACHABLE, "REACHABLE"}, {NUD_STALE, "STALE"},
      {NUD_DELAY, "DELAY"},           {NUD_PROBE, "PROBE"},         {NUD_FAILED, "FAILED"},
      {NUD_NOARP, "NOARP"},           {NUD_PERMANENT, "PERMANENT"}};
  std::string text;
  for (const auto& [bit, name] : names) {
    if (!(state & bit)) continue;
    if (!text.empty()) text += '|';
    text += name;
  }
  return text.empty() ? "NONE" : text;
}

bool parse_ack(const nlmsghdr* nlh, Ack* out) {
  const std::size_t len = payload_len(nlh);
  const auto* p = static_cast<const std::uint8_t*>(mnl_nlmsg_get_payload(nlh));
  std::size_t tlv_offset = 0;
  if (nlh->nlmsg_type == NLMSG_ERROR) {
    if (len < sizeof(nlmsgerr)) return false;
    nlmsgerr e;
    std::memcpy(&e, p, sizeof e);
    out->error = e.error > 0 ? -e.error : e.error;
    // The request's header follows the error code, and its payload too
    // unless the ack is capped (NETLINK_CAP_ACK, or any success ack).
    tlv_offset = (nlh->nlmsg_flags & NLM_F_CAPPED)
                     ? sizeof e
                     : sizeof e.error + NLMSG_ALIGN(static_cast<std::size_t>(e.msg.nlmsg_len));
  } else if (nlh->nlmsg_type == NLMSG_DONE) {
    // A dump's end carries the dump's error code (0 when it worked).
    int error = 0;
    if (len >= sizeof error) std::memcpy(&error, p, sizeof error);
    out->error = error < 0 ? error : 0;
    tlv_offset = NLMSG_ALIGN(sizeof error);
  } else {
    return false;
  }
  out->seen = true;
  out->message.clear();
  if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) && tlv_offset < len) {
    Attrs a;
    mnl_attr_parse_payload(p + tlv_offset, len - tlv_offset, collect_attr, &a);
    if (a[NLMSGERR_ATTR_MSG]) out->message = attr_string(a[NLMSGERR_ATTR_MSG]);
  }
  return true;
}

Walk walk_reply(std::span<const std::uint8_t> buf, std::uint32_t seq, std::uint32_t portid,
                const std::function<bool(const nlmsghdr*)>& on_message, Ack* ack) {
  int len = static_cast<int>(buf.size());
  auto* nlh = reinterpret_cast<const nlmsghdr*>(buf.data());
  // mnl_nlmsg_ok compares nlmsg_len as an int: a length of 2^31 or more
  // passes it, and the next message would be read far outside the buffer.
  // The parsers (libmnl) read a message up to its 4-byte-aligned end, so
  // that end must be in the buffer too (the kernel pads every message).
  // (Aligned in 64 bits: NLMSG_ALIGN masks to 32 and takes 0xfffffffd to 0.)
  auto fits = [&] { return ((std::size_t{nlh->nlmsg_len} + 3) & ~std::size_t{3}) <= static_cast<std::size_t>(len); };
  for (; mnl_nlmsg_ok(nlh, len) && fits(); nlh = mnl_nlmsg_next(nlh, &len)) {
    // Another request's late answer, or a message not from the kernel.
    if (nlh->nlmsg_seq != seq || (nlh->nlmsg_pid != 0 && nlh->nlmsg_pid != portid)) continue;
    if (nlh->nlmsg_flags & NLM_F_DUMP_INTR) ack->interrupted = true;
    switch (nlh->nlmsg_type) {
      case NLMSG_NOOP: break;
      case NLMSG_OVERRUN: return Walk::bad;
      case NLMSG_ERROR:
      case NLMSG_DONE: return parse_ack(nlh, ack) ? Walk::done : Walk::bad;
      default:
        if (!on_message(nlh)) return Walk::bad;
    }
  }
  // The kernel pads every message, so a datagram ends exactly; anything left
  // is a truncated message.
  return len <= 0 ? Walk::more : Walk::bad;
}

}  // namespace vsd::rtnl
