// The director's tunnel devices, pure half: the RTM_NEWLINK / RTM_DELLINK /
// RTM_NEWROUTE requests read back attribute by attribute (nested ones
// too), link dumps of tunnel devices parsed, and the dup next hops. No root.
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
// glibc headers before the kernel uapi ones.
#include <linux/if_link.h>
#include <linux/if_tunnel.h>
#include <linux/ip6_tunnel.h>
#include <linux/rtnetlink.h>

#include <map>
#include <string>
#include <vector>

#include "netlink_message.hpp"
#include "nfq/rtnl_message.hpp"

namespace vsd::rtnl {
namespace {

using test::NetlinkMessage;
using Attrs = std::map<std::uint16_t, std::vector<std::uint8_t>>;

IpAddress ip(const char* s) { return *IpAddress::parse(s); }
std::vector<std::uint8_t> bytes_of(const IpAddress& a) {
  return std::vector<std::uint8_t>(a.data(), a.data() + a.size());
}
std::vector<std::uint8_t> u8(std::uint8_t v) { return {v}; }
std::vector<std::uint8_t> u32(std::uint32_t v) {
  std::vector<std::uint8_t> out(4);
  std::memcpy(out.data(), &v, 4);
  return out;
}
std::vector<std::uint8_t> strz(const char* s) {
  return std::vector<std::uint8_t>(s, s + std::strlen(s) + 1);
}

// Attributes of a nested payload, by a plain walk (independent of libmnl).
// Types without their flags: libmnl marks nests NLA_F_NESTED, as the
// kernel's strict parsers want.
Attrs nested(const std::vector<std::uint8_t>& payload) {
  Attrs out;
  std::size_t at = 0;
  while (at + 4 <= payload.size()) {
    std::uint16_t len, type;
    std::memcpy(&len, payload.data() + at, 2);
    std::memcpy(&type, payload.data() + at + 2, 2);
    if (len < 4 || at + len > payload.size()) break;
    out[type & NLA_TYPE_MASK] = std::vector<std::uint8_t>(payload.begin() + static_cast<long>(at) + 4,
                                          payload.begin() + static_cast<long>(at + len));
    at += (len + 3u) & ~3u;
  }
  return out;
}

struct Request {
  alignas(nlmsghdr) std::uint8_t buf[kRequestSize];
  std::size_t len = 0;
  const nlmsghdr& header() const { return *reinterpret_cast<const nlmsghdr*>(buf); }
  template <typename T>
  T fixed() const {
    T t;
    std::memcpy(&t, buf + NLMSG_HDRLEN, sizeof t);
    return t;
  }
  template <typename T>
  Attrs attrs() const {
    Attrs out;
    for (auto& [type, payload] : test::attributes(buf, sizeof(T))) out[type & NLA_TYPE_MASK] = payload;
    return out;
  }
};

TunnelParams params(const char* name, const char* local, const char* remote) {
  TunnelParams p;
  p.name = name;
  p.local = ip(local);
  p.remote = ip(remote);
  p.kind = tunnel_kind_for(p.remote);
  return p;
}

TEST(RtnlTunnel, KindsAndWhatTheyCarry) {
  EXPECT_EQ(tunnel_kind_for(ip("198.51.100.21")), TunnelKind::ipip);
  EXPECT_EQ(tunnel_kind_for(ip("2001:db8:7::31")), TunnelKind::ip6tnl);
  EXPECT_STREQ(to_string(TunnelKind::ipip), "ipip");
  EXPECT_STREQ(to_string(TunnelKind::ip6tnl), "ip6tnl");
  EXPECT_TRUE(tunnel_carries(TunnelKind::ipip, false));
  EXPECT_FALSE(tunnel_carries(TunnelKind::ipip, true)) << "IPv6 in IPv4 is sit's";
  EXPECT_TRUE(tunnel_carries(TunnelKind::ip6tnl, false));
  EXPECT_TRUE(tunnel_carries(TunnelKind::ip6tnl, true));
}

// What nft's dup names: the real server where IPv4 takes the lookup as
// on-link, the link-local next hop vsd routes through each ip6tnl device
// for IPv6, the dummy address for IPv4 inside IPv6.
TEST(RtnlTunnel, DupNextHops) {
  EXPECT_EQ(tunnel_nexthop(ip("198.51.100.21"), false), ip("198.51.100.21"));
  EXPECT_EQ(tunnel_nexthop(ip("2001:db8:7::31"), true), ip("fe80::1"));
  EXPECT_EQ(tunnel_nexthop(ip("2001:db8:7::31"), false), ip("192.0.0.8"));
}

TEST(RtnlTunnel, CreateIpip) {
  Request r;
  r.len = build_tunnel(r.buf, 41, params("vsdt0a1b2c3d", "198.51.100.2", "198.51.100.21"), 0);
  ASSERT_GT(r.len, 0u);
  ASSERT_LE(r.len, kRequestSize);
  EXPECT_EQ(r.header().nlmsg_len, r.len);
  EXPECT_EQ(r.header().nlmsg_type, RTM_NEWLINK);
  EXPECT_EQ(r.header().nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  EXPECT_EQ(r.header().nlmsg_seq, 41u);
  const auto ifi = r.fixed<ifinfomsg>();
  EXPECT_EQ(ifi.ifi_family, AF_UNSPEC);
  EXPECT_EQ(ifi.ifi_index, 0);
  EXPECT_EQ(ifi.ifi_flags, 0u) << "created down: set up after addrconf is off";
  const Attrs a = r.attrs<ifinfomsg>();
  ASSERT_EQ(a.size(), 2u) << "no IFLA_MTU: the kernel derives it";
  EXPECT_EQ(a.at(IFLA_IFNAME), strz("vsdt0a1b2c3d"));
  const Attrs info = nested(a.at(IFLA_LINKINFO));
  EXPECT_EQ(info.at(IFLA_INFO_KIND), strz("ipip"));
  const Attrs data = nested(info.at(IFLA_INFO_DATA));
  EXPECT_EQ(data.at(IFLA_IPTUN_LOCAL), bytes_of(ip("198.51.100.2")));
  EXPECT_EQ(data.at(IFLA_IPTUN_REMOTE), bytes_of(ip("198.51.100.21")));
  EXPECT_EQ(data.at(IFLA_IPTUN_TTL), u8(0)) << "inherit";
  EXPECT_EQ(data.at(IFLA_IPTUN_TOS), u8(1)) << "inherit";
  EXPECT_EQ(data.at(IFLA_IPTUN_PMTUDISC), u8(1));
  EXPECT_EQ(data.at(IFLA_IPTUN_PROTO), u8(IPPROTO_IPIP));
  EXPECT_EQ(data.size(), 6u);
}

TEST(RtnlTunnel, CreateIp6tnlAndChangeInPlace) {
  const TunnelParams p = params("vsdt11223344", "2001:db8:62::2", "2001:db8:7::31");
  Request r;
  r.len = build_tunnel(r.buf, 7, p, 0);
  ASSERT_GT(r.len, 0u);
  ASSERT_LE(r.len, kRequestSize);
  const Attrs info = nested(r.attrs<ifinfomsg>().at(IFLA_LINKINFO));
  EXPECT_EQ(info.at(IFLA_INFO_KIND), strz("ip6tnl"));
  const Attrs data = nested(info.at(IFLA_INFO_DATA));
  EXPECT_EQ(data.at(IFLA_IPTUN_LOCAL), bytes_of(ip("2001:db8:62::2")));
  EXPECT_EQ(data.at(IFLA_IPTUN_REMOTE), bytes_of(ip("2001:db8:7::31")));
  EXPECT_EQ(data.at(IFLA_IPTUN_TTL), u8(0)) << "hop limit inherited";
  EXPECT_EQ(data.at(IFLA_IPTUN_PROTO), u8(0)) << "any: IPv6 and IPv4 inside";
  EXPECT_EQ(data.at(IFLA_IPTUN_FLAGS), u32(IP6_TNL_F_IGN_ENCAP_LIMIT | IP6_TNL_F_USE_ORIG_TCLASS));
  EXPECT_EQ(data.count(IFLA_IPTUN_ENCAP_LIMIT), 0u);
  EXPECT_EQ(data.count(IFLA_IPTUN_TOS), 0u);

  // The same attributes on an existing device: no NLM_F_CREATE, its index,
  // and no name (a rename, refused with EBUSY on an up device by Debian's 6.1).
  Request c;
  c.len = build_tunnel(c.buf, 8, p, 9);
  ASSERT_GT(c.len, 0u);
  EXPECT_EQ(c.header().nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
  EXPECT_EQ(c.fixed<ifinfomsg>().ifi_index, 9);
  EXPECT_EQ(c.attrs<ifinfomsg>().count(IFLA_IFNAME), 0u);
  EXPECT_EQ(nested(nested(c.attrs<ifinfomsg>().at(IFLA_LINKINFO)).at(IFLA_INFO_DATA)), data);
}

TEST(RtnlTunnel, RefusesBadParameters) {
  Request r;
  EXPECT_EQ(build_tunnel(r.buf, 1, params("", "198.51.100.2", "198.51.100.21"), 0), 0u);
  EXPECT_EQ(build_tunnel(r.buf, 1, params("vsdt0123456789ab", "198.51.100.2", "198.51.100.21"), 0), 0u)
      << "16 characters: longer than IFNAMSIZ - 1";
  EXPECT_GT(build_tunnel(r.buf, 1, params("vsdt0123456789a", "198.51.100.2", "198.51.100.21"), 0), 0u);
  TunnelParams mixed = params("vsdt00000001", "2001:db8::2", "198.51.100.21");
  EXPECT_EQ(build_tunnel(r.buf, 1, mixed, 0), 0u) << "local of the other family";
  mixed = params("vsdt00000001", "198.51.100.2", "198.51.100.21");
  mixed.kind = TunnelKind::ip6tnl;
  EXPECT_EQ(build_tunnel(r.buf, 1, mixed, 0), 0u) << "IPv4 endpoints on an ip6tnl";
  EXPECT_EQ(build_tunnel(r.buf, 1, params("vsdt00000001", "198.51.100.2", "198.51.100.21"), -1), 0u);
  EXPECT_EQ(build_link_up(r.buf, 1, 0), 0u);
  EXPECT_EQ(build_link_no_addrconf(r.buf, 1, 0), 0u);
  EXPECT_EQ(build_link_delete(r.buf, 1, 0), 0u);
  EXPECT_EQ(build_route_onlink(r.buf, 1, ip("fe80::1"), 129, 3), 0u);
  EXPECT_EQ(build_route_onlink(r.buf, 1, ip("192.0.2.1"), 33, 3), 0u);
  alignas(nlmsghdr) std::uint8_t small[kRequestSize - 1];
  EXPECT_EQ(build_tunnel(small, 1, params("vsdt00000001", "198.51.100.2", "198.51.100.21"), 0), 0u);
  EXPECT_EQ(build_link_up(small, 1, 3), 0u);
  EXPECT_EQ(build_link_no_addrconf(small, 1, 3), 0u);
  EXPECT_EQ(build_link_delete(small, 1, 3), 0u);
  EXPECT_EQ(build_route_onlink(small, 1, ip("fe80::1"), 128, 3), 0u);
}

TEST(RtnlTunnel, LinkUpChangesOnlyIffUp) {
  Request r;
  r.len = build_link_up(r.buf, 3, 12);
  ASSERT_EQ(r.len, NLMSG_LENGTH(sizeof(ifinfomsg)));
  EXPECT_EQ(r.header().nlmsg_type, RTM_NEWLINK);
  EXPECT_EQ(r.header().nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK) << "no NLM_F_CREATE: an existing link";
  const auto ifi = r.fixed<ifinfomsg>();
  EXPECT_EQ(ifi.ifi_index, 12);
  EXPECT_EQ(ifi.ifi_flags, static_cast<unsigned>(IFF_UP));
  EXPECT_EQ(ifi.ifi_change, static_cast<unsigned>(IFF_UP));
}

TEST(RtnlTunnel, AddressGenerationOff) {
  Request r;
  r.len = build_link_no_addrconf(r.buf, 3, 12);
  ASSERT_GT(r.len, 0u);
  EXPECT_EQ(r.header().nlmsg_type, RTM_NEWLINK);
  EXPECT_EQ(r.header().nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
  const auto ifi = r.fixed<ifinfomsg>();
  EXPECT_EQ(ifi.ifi_index, 12);
  EXPECT_EQ(ifi.ifi_change, 0u) << "flags untouched: still down";
  const Attrs a = r.attrs<ifinfomsg>();
  ASSERT_EQ(a.size(), 1u);
  const Attrs spec = nested(a.at(IFLA_AF_SPEC));
  ASSERT_EQ(spec.size(), 1u);
  const Attrs inet6 = nested(spec.at(AF_INET6));
  EXPECT_EQ(inet6.at(IFLA_INET6_ADDR_GEN_MODE), u8(IN6_ADDR_GEN_MODE_NONE));
}

TEST(RtnlTunnel, DeleteByIndex) {
  Request r;
  r.len = build_link_delete(r.buf, 5, 12);
  ASSERT_EQ(r.len, NLMSG_LENGTH(sizeof(ifinfomsg)));
  EXPECT_EQ(r.header().nlmsg_type, RTM_DELLINK);
  EXPECT_EQ(r.header().nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
  EXPECT_EQ(r.fixed<ifinfomsg>().ifi_index, 12);
}

TEST(RtnlTunnel, NextHopRouteOnTheDevice) {
  Request r;
  r.len = build_route_onlink(r.buf, 6, IpAddress::v6(kTunnelNexthop6), 128, 12);
  ASSERT_GT(r.len, 0u);
  EXPECT_EQ(r.header().nlmsg_type, RTM_NEWROUTE);
  EXPECT_EQ(r.header().nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE)
      << "no NLM_F_EXCL: the same /128 on every ip6tnl device";
  const auto rtm = r.fixed<rtmsg>();
  EXPECT_EQ(rtm.rtm_family, AF_INET6);
  EXPECT_EQ(rtm.rtm_dst_len, 128);
  EXPECT_EQ(rtm.rtm_table, RT_TABLE_MAIN);
  EXPECT_EQ(rtm.rtm_type, RTN_UNICAST);
  const Attrs a = r.attrs<rtmsg>();
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a.at(RTA_DST), bytes_of(ip("fe80::1")));
  EXPECT_EQ(a.at(RTA_OIF), u32(12));
}

ifinfomsg link_header(int index, unsigned flags) {
  ifinfomsg ifi{};
  ifi.ifi_index = index;
  ifi.ifi_flags = flags;
  return ifi;
}

// What a dump answers for vsd's devices (as `ip -d link show` reads it).
TEST(RtnlTunnel, ParseTunnelLinks) {
  const std::uint8_t any = 0;
  auto msg = NetlinkMessage(RTM_NEWLINK, NLM_F_MULTI)
                 .fixed(link_header(7, IFF_UP | IFF_POINTOPOINT | IFF_NOARP))
                 .attr_str(IFLA_IFNAME, "vsdt11223344")
                 .attr_u32(IFLA_MTU, 1452)
                 .begin_nest(IFLA_LINKINFO)
                 .attr_str(IFLA_INFO_KIND, "ip6tnl")
                 .begin_nest(IFLA_INFO_DATA)
                 .attr_u32(IFLA_IPTUN_LINK, 0)
                 .attr_ip(IFLA_IPTUN_LOCAL, "2001:db8:62::2")
                 .attr_ip(IFLA_IPTUN_REMOTE, "2001:db8:7::31")
                 .attr(IFLA_IPTUN_PROTO, &any, 1)
                 .end_nest()
                 .end_nest()
                 .bytes();
  LinkInfo link;
  ASSERT_TRUE(parse_link(test::as_nlmsg(msg), &link));
  EXPECT_EQ(link.ifindex, 7);
  EXPECT_EQ(link.ifname, "vsdt11223344");
  EXPECT_EQ(link.kind, "ip6tnl");
  EXPECT_EQ(link.tunnel_local, ip("2001:db8:62::2"));
  EXPECT_EQ(link.tunnel_remote, ip("2001:db8:7::31"));
  EXPECT_EQ(link.tunnel_proto, 0);
  EXPECT_TRUE(link.up());

  const std::uint8_t ipip = IPPROTO_IPIP;
  msg = NetlinkMessage(RTM_NEWLINK, NLM_F_MULTI)
            .fixed(link_header(8, IFF_POINTOPOINT | IFF_NOARP))
            .attr_str(IFLA_IFNAME, "vsdt0a1b2c3d")
            .begin_nest(IFLA_LINKINFO)
            .attr_str(IFLA_INFO_KIND, "ipip")
            .begin_nest(IFLA_INFO_DATA)
            .attr_ip(IFLA_IPTUN_LOCAL, "198.51.100.2")
            .attr_ip(IFLA_IPTUN_REMOTE, "198.51.100.21")
            .attr(IFLA_IPTUN_PROTO, &ipip, 1)
            .end_nest()
            .end_nest()
            .bytes();
  ASSERT_TRUE(parse_link(test::as_nlmsg(msg), &link));
  EXPECT_EQ(link.kind, "ipip");
  EXPECT_EQ(link.tunnel_local, ip("198.51.100.2"));
  EXPECT_EQ(link.tunnel_remote, ip("198.51.100.21"));
  EXPECT_EQ(link.tunnel_proto, IPPROTO_IPIP);
  EXPECT_FALSE(link.up());

  // Another kind numbers IFLA_INFO_DATA its own way: not read as a tunnel
  // (VXLAN's attribute 2 is IFLA_VXLAN_GROUP, an address too).
  msg = NetlinkMessage(RTM_NEWLINK, NLM_F_MULTI)
            .fixed(link_header(9, IFF_UP))
            .attr_str(IFLA_IFNAME, "vsdt0")
            .begin_nest(IFLA_LINKINFO)
            .attr_str(IFLA_INFO_KIND, "vxlan")
            .begin_nest(IFLA_INFO_DATA)
            .attr_ip(IFLA_IPTUN_LOCAL, "198.51.100.2")
            .end_nest()
            .end_nest()
            .bytes();
  ASSERT_TRUE(parse_link(test::as_nlmsg(msg), &link));
  EXPECT_EQ(link.kind, "vxlan");
  EXPECT_TRUE(link.tunnel_local.is_unspecified());

  // No IFLA_LINKINFO at all (a physical interface): no kind.
  msg = NetlinkMessage(RTM_NEWLINK).fixed(link_header(2, IFF_UP)).attr_str(IFLA_IFNAME, "eth0").bytes();
  ASSERT_TRUE(parse_link(test::as_nlmsg(msg), &link));
  EXPECT_TRUE(link.kind.empty());
  EXPECT_TRUE(link.tunnel_remote.is_unspecified());
}

}  // namespace
}  // namespace vsd::rtnl
