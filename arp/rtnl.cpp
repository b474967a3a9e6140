#include "arp/rtnl.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <utility>

namespace vsd::arp {
namespace rtnl_detail {
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
  ifinfomsg* ifi;
  nlmsghdr* nlh = start(buf, RTM_GETLINK, ifindex ? NLM_F_ACK : NLM_F_DUMP, seq, &ifi);
  if (!nlh) return 0;
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
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
  *out = std::move(link);
  return true;
}

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
  for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
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

}  // namespace rtnl_detail

namespace {

using namespace rtnl_detail;

void set(std::string* error, std::string text) {
  if (error) *error = std::move(text);
}

std::uint32_t next_seq() {
  static std::atomic<std::uint32_t> seq{static_cast<std::uint32_t>(std::time(nullptr))};
  return ++seq;
}

// "eth0 (index 3)", or "interface index 3" when it has no name (any more).
std::string interface_label(int ifindex) {
  char name[IF_NAMESIZE] = {};
  if (ifindex > 0 && if_indextoname(static_cast<unsigned>(ifindex), name))
    return std::string(name) + " (index " + std::to_string(ifindex) + ")";
  return "interface index " + std::to_string(ifindex);
}

std::string kernel_says(const Ack& ack) {
  std::string text = std::strerror(-ack.error);
  if (!ack.message.empty()) text += " (kernel: " + ack.message + ")";
  return text;
}

// One NETLINK_ROUTE socket for one call: sends a request and reads answers
// until its ack, error or end of dump.
class Socket {
 public:
  Socket() = default;
  ~Socket() {
    if (nl_) mnl_socket_close(nl_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  bool open(std::string* error) {
    nl_ = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (!nl_) {
      set(error, std::string("cannot open a NETLINK_ROUTE socket: ") + std::strerror(errno) +
                     " (is the process in a sandbox that forbids netlink?)");
      return false;
    }
    if (mnl_socket_bind(nl_, 0, MNL_SOCKET_AUTOPID) < 0) {
      set(error, std::string("cannot bind the NETLINK_ROUTE socket: ") + std::strerror(errno));
      return false;
    }
    portid_ = mnl_socket_get_portid(nl_);
    // The kernel's reason in words (extended ack), and acks without a copy of
    // the request. Both are best effort: older kernels lack them.
    int one = 1;  // mnl_socket_setsockopt takes a non-const pointer
    mnl_socket_setsockopt(nl_, NETLINK_EXT_ACK, &one, sizeof one);
    mnl_socket_setsockopt(nl_, NETLINK_CAP_ACK, &one, sizeof one);
    // The kernel answers at once; the timeout only keeps a bug from hanging vsd.
    timeval tv{kTimeoutSeconds, 0};
    setsockopt(mnl_socket_get_fd(nl_), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return true;
  }

  // False (and *error) when the exchange itself failed; the kernel's verdict
  // on the request is in *ack.
  bool exchange(std::span<const std::uint8_t> request,
                const std::function<bool(const nlmsghdr*)>& on_message, Ack* ack,
                std::string* error) {
    const std::uint32_t seq = reinterpret_cast<const nlmsghdr*>(request.data())->nlmsg_seq;
    if (mnl_socket_sendto(nl_, request.data(), request.size()) < 0) {
      set(error, std::string("sending a netlink request failed: ") + std::strerror(errno));
      return false;
    }
    // A dump datagram is up to 32 KiB; a smaller buffer would truncate it.
    std::vector<std::uint8_t> buf(32768);
    for (;;) {
      const ssize_t n = mnl_socket_recvfrom(nl_, buf.data(), buf.size());
      if (n < 0) {
        const int err = errno;
        if (err == EINTR) continue;
        if (err == EAGAIN || err == EWOULDBLOCK)
          set(error, "no answer from the kernel within " + std::to_string(kTimeoutSeconds) + " s");
        else if (err == ENOSPC)  // libmnl's word for MSG_TRUNC
          set(error, "a netlink answer did not fit in " + std::to_string(buf.size()) + " bytes");
        else
          set(error, std::string("receiving the netlink answer failed: ") + std::strerror(err));
        return false;
      }
      switch (walk_reply({buf.data(), static_cast<std::size_t>(n)}, seq, portid_, on_message,
                         ack)) {
        case Walk::done: return true;
        case Walk::bad: set(error, "malformed netlink answer from the kernel"); return false;
        case Walk::more: break;
      }
    }
  }

 private:
  static constexpr int kTimeoutSeconds = 5;
  mnl_socket* nl_ = nullptr;
  std::uint32_t portid_ = 0;
};

// One request on a fresh socket; *error is prefixed with `what` on failure.
bool transact(std::span<const std::uint8_t> request,
              const std::function<bool(const nlmsghdr*)>& on_message, Ack* ack,
              const std::string& what, std::string* error) {
  Socket socket;
  std::string why;
  if (socket.open(&why) && socket.exchange(request, on_message, ack, &why)) return true;
  set(error, what + ": " + why);
  return false;
}

bool get_link(int ifindex, LinkInfo* link, std::string* error) {
  alignas(nlmsghdr) std::uint8_t req[kRequestSize];
  const std::size_t n = build_link_get(req, next_seq(), ifindex);
  bool found = false;
  Ack ack;
  const std::string what = "reading interface " + interface_label(ifindex);
  if (!transact({req, n},
                [&](const nlmsghdr* nlh) {
                  if (nlh->nlmsg_type == RTM_NEWLINK) found = parse_link(nlh, link);
                  return true;
                },
                &ack, what, error))
    return false;
  if (ack.error || !found) {
    set(error, what + ": " + (ack.error ? kernel_says(ack) : "no answer") +
                   ": check it with `ip link show`");
    return false;
  }
  return true;
}

// RTM_GETNEIGH; *found false (and no error) when the kernel has no entry.
bool get_neighbour(const IpAddress& addr, int ifindex, NeighbourEntry* entry, bool* found,
                   std::string* error) {
  alignas(nlmsghdr) std::uint8_t req[kRequestSize];
  const std::size_t n = build_neigh_get(req, next_seq(), addr, ifindex);
  const std::string where = addr.to_string() + " on " + interface_label(ifindex);
  *found = false;
  Ack ack;
  if (!transact({req, n},
                [&](const nlmsghdr* nlh) {
                  if (nlh->nlmsg_type == RTM_NEWNEIGH) *found = parse_neighbour(nlh, entry);
                  return true;
                },
                &ack, "looking up neighbour " + where, error))
    return false;
  if (ack.error == -ENOENT) {
    *found = false;
    return true;
  }
  if (ack.error) {
    std::string text = "looking up neighbour " + where + " failed: " + kernel_says(ack);
    if (ack.error == -ENODEV) text += ": no such interface (`ip link show`)";
    set(error, std::move(text));
    return false;
  }
  return true;
}

bool check_prefix(const IpAddress& addr, std::uint8_t prefix, std::string* error) {
  const unsigned max = addr.is_v4() ? 32 : 128;
  if (prefix <= max) return true;
  set(error, "prefix /" + std::to_string(prefix) + " is too long for " + addr.to_string() +
                 " (at most /" + std::to_string(max) + ")");
  return false;
}

bool check_ifindex(int ifindex, const std::string& what, std::string* error) {
  if (ifindex > 0) return true;
  set(error, what + ": needs an interface index (route_get or `ip link show` gives it), not " +
                 std::to_string(ifindex));
  return false;
}

}  // namespace

bool route_get(const IpAddress& dst, RouteInfo* out, std::string* error) {
  const std::string d = dst.to_string();
  const std::string check = ": check `ip route get " + d + "` in vsd's network namespace";
  alignas(nlmsghdr) std::uint8_t req[kRequestSize];
  const std::size_t n = build_route_get(req, next_seq(), dst);
  RouteInfo info;
  std::uint8_t type = RTN_UNSPEC;
  bool found = false;
  Ack ack;
  if (!transact({req, n},
                [&](const nlmsghdr* nlh) {
                  if (nlh->nlmsg_type == RTM_NEWROUTE) found = parse_route(nlh, &info, &type);
                  return true;
                },
                &ack, "looking up the route to " + d, error))
    return false;
  if (ack.error) {
    // IPv4 reports these route types as the lookup's error (fib_props).
    const char* hint = ack.error == -EINVAL        ? " (a blackhole route answers this)"
                       : ack.error == -EHOSTUNREACH ? " (an unreachable route answers this)"
                       : ack.error == -EACCES       ? " (a prohibit route answers this)"
                                                    : "";
    set(error, "no route to " + d + ": " + kernel_says(ack) + hint + check);
    return false;
  }
  if (!found) {
    set(error, "the kernel answered no route to " + d + check);
    return false;
  }
  if (type == RTN_UNREACHABLE || type == RTN_BLACKHOLE || type == RTN_PROHIBIT ||
      type == RTN_THROW) {
    static constexpr const char* names[] = {"unreachable", "blackhole", "prohibit", "throw"};
    const char* name = type == RTN_UNREACHABLE ? names[0]
                       : type == RTN_BLACKHOLE ? names[1]
                       : type == RTN_PROHIBIT  ? names[2]
                                               : names[3];
    set(error, "the route to " + d + " is of type " + name + ", nothing can be sent" + check);
    return false;
  }
  if (info.oif <= 0) {
    set(error, "the route to " + d + " has no output interface" + check);
    return false;
  }
  LinkInfo link;
  if (!get_link(info.oif, &link, error)) return false;
  info.ifname = link.ifname;
  if (info.mtu == 0) info.mtu = link.mtu;
  *out = std::move(info);
  return true;
}

bool local_addresses(std::vector<LocalAddress>* out, std::string* error) {
  // A dump that raced with a change is marked NLM_F_DUMP_INTR: run it again.
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::vector<LinkInfo> links;
    std::vector<LocalAddress> addrs;
    alignas(nlmsghdr) std::uint8_t req[kRequestSize];
    Ack link_ack, addr_ack;
    std::size_t n = build_link_get(req, next_seq(), 0);
    if (!transact({req, n},
                  [&](const nlmsghdr* nlh) {
                    LinkInfo link;
                    if (parse_link(nlh, &link)) links.push_back(std::move(link));
                    return true;
                  },
                  &link_ack, "listing interfaces", error))
      return false;
    n = build_addr_dump(req, next_seq());
    if (!transact({req, n},
                  [&](const nlmsghdr* nlh) {
                    LocalAddress a;
                    if (parse_address(nlh, &a)) addrs.push_back(std::move(a));
                    return true;
                  },
                  &addr_ack, "listing local addresses", error))
      return false;
    for (const Ack* ack : {&link_ack, &addr_ack}) {
      if (ack->error) {
        set(error, "listing local addresses failed: " + kernel_says(*ack));
        return false;
      }
    }
    if (link_ack.interrupted || addr_ack.interrupted) continue;
    for (auto& a : addrs) {
      for (const auto& link : links)
        if (link.ifindex == a.ifindex) a.ifname = link.ifname;
    }
    *out = std::move(addrs);
    return true;
  }
  set(error, "listing local addresses: the interfaces kept changing during 3 dumps; try again");
  return false;
}

bool neighbour_lookup(const IpAddress& addr, int ifindex, MacAddress* mac, std::string* error) {
  const std::string where = addr.to_string() + " on " + interface_label(ifindex);
  if (!check_ifindex(ifindex, "looking up neighbour " + addr.to_string(), error)) return false;
  NeighbourEntry entry;
  bool found = false;
  if (!get_neighbour(addr, ifindex, &entry, &found, error)) return false;
  const std::string show = " (`ip neigh show " + addr.to_string() + "`)";
  if (!found) {
    set(error, "no neighbour entry for " + where +
                   ": nothing has resolved it yet; call neighbour_resolve first" + show);
    return false;
  }
  if (!neighbour_usable(entry)) {
    std::string text = "neighbour " + where + " is " + nud_state_name(entry.state);
    if (entry.state & NUD_INCOMPLETE)
      text += ": its ARP request / neighbour solicitation is not answered yet";
    else if (entry.state & NUD_FAILED)
      text += ": nothing answered ARP / neighbour solicitation for it; check that the host is up "
              "on that link and that the address is right";
    else if (entry.lladdr_len != 6)
      text += " with a " + std::to_string(entry.lladdr_len) +
              "-byte link-layer address: not an Ethernet neighbour";
    else
      text += ", which gives no usable MAC address";
    set(error, text + show);
    return false;
  }
  *mac = entry.mac;
  return true;
}

bool neighbour_resolve(const IpAddress& addr, int ifindex, std::string* error) {
  const std::string where = addr.to_string() + " on " + interface_label(ifindex);
  if (!check_ifindex(ifindex, "resolving neighbour " + addr.to_string(), error)) return false;
  NeighbourEntry entry;
  bool found = false;
  if (!get_neighbour(addr, ifindex, &entry, &found, error)) return false;
  // Nothing to do for these; and NTF_USE on a PERMANENT entry would clear
  // NUD_PERMANENT (__neigh_update: new = old & ~NUD_PERMANENT), dropping
  // the static MAC and probing instead.
  if (found && (entry.state & (NUD_REACHABLE | NUD_PERMANENT | NUD_NOARP))) return true;
  alignas(nlmsghdr) std::uint8_t req[kRequestSize];
  const std::size_t n = build_neigh_use(req, next_seq(), addr, ifindex);
  Ack ack;
  if (!transact({req, n}, [](const nlmsghdr*) { return true; }, &ack,
                "resolving neighbour " + where, error))
    return false;
  if (ack.error) {
    std::string text = "asking the kernel to resolve neighbour " + where + " failed: " +
                       kernel_says(ack);
    if (ack.error == -EPERM)
      text += ": needs CAP_NET_ADMIN";
    else if (ack.error == -ENODEV)
      text += ": no such interface (`ip link show`)";
    else
      text += ": check that the interface is up, has an address in the neighbour's subnet, and "
              "(IPv6) that IPv6 is enabled on it";
    set(error, std::move(text));
    return false;
  }
  return true;
}

namespace {

bool change_address(bool add, int ifindex, const IpAddress& addr, std::uint8_t prefix,
                    bool* existed, std::string* error) {
  const std::string a = addr.to_string() + "/" + std::to_string(prefix);
  const std::string verb = add ? "adding " : "removing ";
  if (!check_prefix(addr, prefix, error) || !check_ifindex(ifindex, verb + a, error)) return false;
  const std::string where = a + (add ? " to " : " from ") + interface_label(ifindex);
  alignas(nlmsghdr) std::uint8_t req[kRequestSize];
  const std::size_t n = build_addr_change(req, next_seq(), add, ifindex, addr, prefix);
  Ack ack;
  if (!transact({req, n}, [](const nlmsghdr*) { return true; }, &ack, verb + where, error))
    return false;
  if (existed) *existed = add && ack.error == -EEXIST;
  if (ack.error == 0 || (add && ack.error == -EEXIST)) return true;
  std::string text = verb + where + " failed: " + kernel_says(ack);
  if (ack.error == -EPERM)
    text += ": needs CAP_NET_ADMIN (run vsd as root, or grant CAP_NET_ADMIN in its systemd unit)";
  else if (ack.error == -ENODEV)
    text += ": no such interface (`ip link show`)";
  else if (!add && ack.error == -EADDRNOTAVAIL)
    text += ": it is not there (the prefix must match too); check `ip addr show`";
  else
    text += ": check `ip addr show`";
  set(error, std::move(text));
  return false;
}

}  // namespace

bool address_add(int ifindex, const IpAddress& addr, std::uint8_t prefix, bool* existed,
                 std::string* error) {
  return change_address(true, ifindex, addr, prefix, existed, error);
}

bool address_del(int ifindex, const IpAddress& addr, std::uint8_t prefix, std::string* error) {
  return change_address(false, ifindex, addr, prefix, nullptr, error);
}

}  // namespace vsd::arp
