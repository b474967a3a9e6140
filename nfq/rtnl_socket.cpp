#include "nfq/rtnl_socket.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <utility>

namespace vsd::rtnl {
namespace {

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

}  // namespace vsd::rtnl

// --- Tunnel devices ---

namespace vsd::rtnl {
namespace {

// One request that only needs its ack: 0, the kernel's negative errno (its
// words in *ack), or kNoExchange when the exchange itself failed (*error
// says why).
constexpr int kNoExchange = 1;
int request(std::span<const std::uint8_t> req, const std::string& what, std::string* error,
            Ack* ack) {
  if (!transact(req, [](const nlmsghdr*) { return true; }, ack, what, error)) return kNoExchange;
  return ack->error;
}

std::string tunnel_label(const TunnelParams& p) {
  return std::string(to_string(p.kind)) + " device " + p.name + " (local " + p.local.to_string() +
         ", remote " + p.remote.to_string() + ")";
}

const char* module_of(TunnelKind kind) { return kind == TunnelKind::ipip ? "ipip" : "ip6_tunnel"; }

// What to check after the kernel refused to create or change a tunnel.
std::string tunnel_hint(TunnelKind kind, int error) {
  switch (-error) {
    case EOPNOTSUPP:
      return std::string(": this kernel has no ") + to_string(kind) + " devices; `modprobe " +
             module_of(kind) + "` (CONFIG_" + (kind == TunnelKind::ipip ? "NET_IPIP" : "IPV6_TUNNEL") +
             "), or vsd keeps encapsulating TUN packets itself";
    case EPERM: return ": needs CAP_NET_ADMIN (run vsd as root, or grant it in the systemd unit)";
    case EEXIST:
      return ": a device of that name, or a tunnel with the same local and remote addresses, "
             "exists already; check `ip -d link show`";
    default: return ": check `ip -d link show` and the kernel log (dmesg)";
  }
}

// IPv6 must be on for the device: ip6_output drops inner IPv6 packets on a
// device with disable_ipv6, and the nexthop route is refused there. A new
// device takes net.ipv6.conf.default.disable_ipv6; vsd's own device is
// switched on when that is 1.
bool enable_ipv6(const std::string& name, std::string* error) {
  const std::string path = "/proc/sys/net/ipv6/conf/" + name + "/disable_ipv6";
  char value = '0';
  if (FILE* f = std::fopen(path.c_str(), "re")) {
    if (std::fread(&value, 1, 1, f) != 1) value = '0';
    std::fclose(f);
  }
  if (value != '1') return true;
  FILE* f = std::fopen(path.c_str(), "we");
  bool ok = f != nullptr;
  if (f) {
    const bool wrote = std::fputs("0", f) >= 0;
    ok = std::fclose(f) == 0 && wrote;  // the write reaches the kernel at fclose
  }
  if (!ok)
    set(error, "IPv6 is disabled on " + name + " (net.ipv6.conf.default.disable_ipv6 = 1) and " + path +
                   " cannot be set to 0: " + std::strerror(errno));
  return ok;
}

}  // namespace

bool tunnel_up(int ifindex, const TunnelParams& p, std::string* error) {
  alignas(nlmsghdr) std::uint8_t req[kRequestSize];
  const std::string label = tunnel_label(p);
  std::size_t n = build_link_up(req, next_seq(), ifindex);
  Ack ack;
  if (int err = request({req, n}, "bringing up " + label, error, &ack)) {
    if (err != kNoExchange)
      set(error, "bringing up " + label + " failed: " + kernel_says(ack) + tunnel_hint(p.kind, err));
    return false;
  }
  if (p.kind != TunnelKind::ip6tnl) return true;
  n = build_route_onlink(req, next_seq(), IpAddress::v6(kTunnelNexthop6), 128, ifindex);
  const std::string what = "adding the route fe80::1/128 dev " + p.name;
  int err = request({req, n}, what, error, &ack);
  if (err == 0 || err == -EEXIST) return true;
  if (err != kNoExchange)
    set(error, what + " failed: " + kernel_says(ack) +
                   (err == -EACCES ? ": IPv6 is disabled on it (disable_ipv6)" : tunnel_hint(p.kind, err)));
  return false;
}

bool link_delete(int ifindex, const std::string& name, std::string* error) {
  alignas(nlmsghdr) std::uint8_t req[kRequestSize];
  const std::size_t n = build_link_delete(req, next_seq(), ifindex);
  const std::string what = "deleting " + name + " (index " + std::to_string(ifindex) + ")";
  Ack ack;
  const int err = request({req, n}, what, error, &ack);
  if (err == 0 || err == -ENODEV) return true;
  if (err != kNoExchange)
    set(error, what + " failed: " + kernel_says(ack) +
                   (err == -EPERM ? ": needs CAP_NET_ADMIN" : ": check `ip link show`"));
  return false;
}

bool link_no_addrconf(int ifindex, const std::string& name, std::string* error) {
  alignas(nlmsghdr) std::uint8_t req[kRequestSize];
  const std::size_t n = build_link_no_addrconf(req, next_seq(), ifindex);
  const std::string what = "switching IPv6 address generation off on " + name;
  Ack ack;
  const int err = request({req, n}, what, error, &ack);
  if (err == 0) return true;
  if (err != kNoExchange)
    set(error, what + " failed: " + kernel_says(ack) +
                   (err == -EAFNOSUPPORT ? ": no IPv6 on it" : ": check `ip -d link show`"));
  return false;
}

bool tunnel_create(const TunnelParams& p, int* ifindex, std::string* error) {
  alignas(nlmsghdr) std::uint8_t req[kRequestSize];
  const std::string label = tunnel_label(p);
  std::size_t n = build_tunnel(req, next_seq(), p, 0);
  if (n == 0) {
    set(error, "cannot create " + label + ": a name of 1.." + std::to_string(IF_NAMESIZE - 1) +
                   " characters and addresses of the " + (p.kind == TunnelKind::ipip ? "IPv4" : "IPv6") +
                   " family are needed");
    return false;
  }
  Ack ack;
  if (int err = request({req, n}, "creating " + label, error, &ack)) {
    if (err != kNoExchange)
      set(error, "creating " + label + " failed: " + kernel_says(ack) + tunnel_hint(p.kind, err));
    return false;
  }
  const int index = static_cast<int>(if_nametoindex(p.name.c_str()));
  std::string why;
  bool ok = index > 0;
  if (!ok) why = std::string("it is gone right after its creation: ") + std::strerror(errno);
  if (ok) {
    // Before it goes up: the link-local address would be made at once.
    // An ipip device on a kernel without IPv6 has nothing to switch off.
    ok = link_no_addrconf(index, p.name, &why) ||
         (p.kind == TunnelKind::ipip && why.find("no IPv6 on it") != std::string::npos);
  }
  if (ok && p.kind == TunnelKind::ip6tnl) ok = enable_ipv6(p.name, &why);
  if (ok) ok = tunnel_up(index, p, &why);
  if (!ok) {
    std::string ignored;
    if (index > 0) link_delete(index, p.name, &ignored);
    set(error, "setting up " + label + ": " + why + " (the device is deleted again)");
    return false;
  }
  *ifindex = index;
  return true;
}

bool tunnel_change(int ifindex, const TunnelParams& p, std::string* error) {
  alignas(nlmsghdr) std::uint8_t req[kRequestSize];
  const std::string label = tunnel_label(p);
  const std::size_t n = build_tunnel(req, next_seq(), p, ifindex);
  if (n == 0) {
    set(error, "cannot change " + label + ": bad name, index or address family");
    return false;
  }
  Ack ack;
  if (int err = request({req, n}, "changing " + label, error, &ack)) {
    if (err != kNoExchange)
      set(error, "changing " + label + " failed: " + kernel_says(ack) + tunnel_hint(p.kind, err));
    return false;
  }
  return tunnel_up(ifindex, p, error);
}

bool links_with_prefix(const std::string& prefix, std::vector<LinkInfo>* out, std::string* error) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::vector<LinkInfo> links;
    alignas(nlmsghdr) std::uint8_t req[kRequestSize];
    const std::size_t n = build_link_get(req, next_seq(), 0);
    Ack ack;
    if (!transact({req, n},
                  [&](const nlmsghdr* nlh) {
                    LinkInfo link;
                    if (parse_link(nlh, &link) && link.ifname.compare(0, prefix.size(), prefix) == 0)
                      links.push_back(std::move(link));
                    return true;
                  },
                  &ack, "listing interfaces", error))
      return false;
    if (ack.error) {
      set(error, "listing interfaces failed: " + kernel_says(ack));
      return false;
    }
    if (ack.interrupted) continue;
    *out = std::move(links);
    return true;
  }
  set(error, "listing interfaces: they kept changing during 3 dumps; try again");
  return false;
}

TunnelSupport kernel_tunnels() {
  TunnelSupport support;
  char pid[16];
  std::snprintf(pid, sizeof pid, "%x", static_cast<unsigned>(::getpid()));
  for (TunnelKind kind : {TunnelKind::ipip, TunnelKind::ip6tnl}) {
    const bool v4 = kind == TunnelKind::ipip;
    TunnelParams p;
    p.kind = kind;
    p.name = std::string(v4 ? "vsdp4" : "vsdp6") + pid;  // at most 13 characters
    const std::uint8_t six[16] = {0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08};
    p.local = p.remote = v4 ? IpAddress::v4(kTunnelNexthop4) : IpAddress::v6(six);
    std::string ignored;
    // A leftover of a probe killed half-way by a process of the same id.
    if (int old = static_cast<int>(if_nametoindex(p.name.c_str()))) link_delete(old, p.name, &ignored);
    alignas(nlmsghdr) std::uint8_t req[kRequestSize];
    const std::size_t n = build_tunnel(req, next_seq(), p, 0);
    Ack ack;
    std::string why;
    const int err = request({req, n}, std::string("probing for ") + to_string(kind) + " devices", &why, &ack);
    // EEXIST: the kind exists, a tunnel with these endpoints too.
    const bool yes = err == 0 || err == -EEXIST;
    if (err == 0)
      if (int index = static_cast<int>(if_nametoindex(p.name.c_str()))) link_delete(index, p.name, &ignored);
    if (!yes && err == -EOPNOTSUPP)
      why = kernel_says(ack) + "; `modprobe " + module_of(kind) + "`";
    else if (!yes && err != kNoExchange)
      why = kernel_says(ack) + tunnel_hint(kind, err);
    (v4 ? support.ipip : support.ip6tnl) = yes;
    (v4 ? support.ipip_why : support.ip6tnl_why) = yes ? "" : why;
  }
  return support;
}

}  // namespace vsd::rtnl
