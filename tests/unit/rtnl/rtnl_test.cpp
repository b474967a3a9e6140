// The rtnetlink adapter's pure half: requests as the kernel will read them,
// and hand-built kernel replies parsed. No root, no sockets.
#include "nfq/rtnl_socket.hpp"

#include <gtest/gtest.h>
#include <linux/if_addr.h>
#include <net/if_arp.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <bit>
#include <cerrno>
#include <map>

#include "netlink_message.hpp"

namespace vsd::rtnl {
namespace {


using test::NetlinkMessage;

IpAddress ip(const char* s) { return *IpAddress::parse(s); }
std::vector<std::uint8_t> bytes_of(const IpAddress& a) {
  return std::vector<std::uint8_t>(a.data(), a.data() + a.size());
}

// A request written by one of the builders, read back.
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
  std::map<std::uint16_t, std::vector<std::uint8_t>> attrs() const {
    std::map<std::uint16_t, std::vector<std::uint8_t>> out;
    for (auto& [type, payload] : test::attributes(buf, sizeof(T))) out[type] = payload;
    return out;
  }
};

std::vector<std::uint8_t> u32_bytes(std::uint32_t v) {
  std::vector<std::uint8_t> out(4);
  std::memcpy(out.data(), &v, 4);
  return out;
}

TEST(RtnlBuild, RouteGet) {
  for (const char* dst : {"192.0.2.10", "2001:db8::10"}) {
    Request r;
    r.len = build_route_get(r.buf, 77, ip(dst));
    ASSERT_GT(r.len, 0u);
    EXPECT_EQ(r.header().nlmsg_len, r.len);
    EXPECT_EQ(r.header().nlmsg_type, RTM_GETROUTE);
    EXPECT_EQ(r.header().nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
    EXPECT_EQ(r.header().nlmsg_seq, 77u);
    const auto rtm = r.fixed<rtmsg>();
    EXPECT_EQ(rtm.rtm_family, ip(dst).is_v4() ? AF_INET : AF_INET6);
    EXPECT_EQ(rtm.rtm_dst_len, ip(dst).is_v4() ? 32 : 128);
    const auto attrs = r.attrs<rtmsg>();
    ASSERT_EQ(attrs.size(), 1u);
    EXPECT_EQ(attrs.at(RTA_DST), bytes_of(ip(dst)));
  }
}

TEST(RtnlBuild, LinkGetOneOrDump) {
  Request one;
  one.len = build_link_get(one.buf, 1, 3);
  ASSERT_GT(one.len, 0u);
  EXPECT_EQ(one.header().nlmsg_type, RTM_GETLINK);
  EXPECT_EQ(one.header().nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
  EXPECT_EQ(one.fixed<ifinfomsg>().ifi_index, 3);
  EXPECT_EQ(one.attrs<ifinfomsg>().at(IFLA_EXT_MASK), u32_bytes(RTEXT_FILTER_SKIP_STATS));
  Request all;
  all.len = build_link_get(all.buf, 1, 0);
  EXPECT_EQ(all.header().nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
  EXPECT_EQ(all.fixed<ifinfomsg>().ifi_index, 0);
}

TEST(RtnlBuild, AddressDumpBothFamilies) {
  Request r;
  r.len = build_addr_dump(r.buf, 5);
  ASSERT_EQ(r.len, NLMSG_LENGTH(sizeof(ifaddrmsg)));
  EXPECT_EQ(r.header().nlmsg_type, RTM_GETADDR);
  EXPECT_EQ(r.header().nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
  EXPECT_EQ(r.fixed<ifaddrmsg>().ifa_family, AF_UNSPEC);
}

// neigh_get rejects any state, flag other than NTF_PROXY, or attribute
// other than NDA_DST.
TEST(RtnlBuild, NeighbourGetIsStrict) {
  Request r;
  r.len = build_neigh_get(r.buf, 9, ip("2001:db8::2"), 4);
  ASSERT_GT(r.len, 0u);
  EXPECT_EQ(r.header().nlmsg_type, RTM_GETNEIGH);
  EXPECT_EQ(r.header().nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
  const auto ndm = r.fixed<ndmsg>();
  EXPECT_EQ(ndm.ndm_family, AF_INET6);
  EXPECT_EQ(ndm.ndm_ifindex, 4);
  EXPECT_EQ(ndm.ndm_state, 0);
  EXPECT_EQ(ndm.ndm_flags, 0);
  EXPECT_EQ(ndm.ndm_type, 0);
  const auto attrs = r.attrs<ndmsg>();
  ASSERT_EQ(attrs.size(), 1u);
  EXPECT_EQ(attrs.at(NDA_DST), bytes_of(ip("2001:db8::2")));
}

// Byte-exact: the flags decide what neigh_add does with an existing entry.
TEST(RtnlBuild, NeighbourUseByteExact) {
  if constexpr (std::endian::native != std::endian::little) GTEST_SKIP() << "golden is little-endian";
  Request r;
  r.len = build_neigh_use(r.buf, 0x01020304, ip("192.0.2.10"), 7);
  const std::vector<std::uint8_t> want = {
      36, 0, 0, 0,        // length
      28, 0,              // RTM_NEWNEIGH
      0x05, 0x04,         // NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE; no REPLACE, no EXCL
      4, 3, 2, 1,         // seq
      0, 0, 0, 0,         // port id: the kernel's
      2, 0, 0, 0,         // AF_INET, padding
      7, 0, 0, 0,         // ifindex
      0, 0,               // NUD_NONE: not NUD_PERMANENT, which exempts a new entry from GC
      0x01,               // NTF_USE
      0,                  // type
      8, 0, 1, 0,         // NDA_DST
      192, 0, 2, 10,
  };
  EXPECT_EQ(std::vector<std::uint8_t>(r.buf, r.buf + r.len), want);
}

TEST(RtnlBuild, AddressAddAndDelete) {
  Request v6;
  v6.len = build_addr_change(v6.buf, 1, true, 2, ip("2001:db8::10"), 128);
  ASSERT_GT(v6.len, 0u);
  EXPECT_EQ(v6.header().nlmsg_type, RTM_NEWADDR);
  EXPECT_EQ(v6.header().nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  auto ifa = v6.fixed<ifaddrmsg>();
  EXPECT_EQ(ifa.ifa_family, AF_INET6);
  EXPECT_EQ(ifa.ifa_prefixlen, 128);
  EXPECT_EQ(ifa.ifa_flags, IFA_F_NODAD);
  EXPECT_EQ(ifa.ifa_scope, RT_SCOPE_UNIVERSE);
  EXPECT_EQ(ifa.ifa_index, 2u);
  auto attrs = v6.attrs<ifaddrmsg>();
  EXPECT_EQ(attrs.at(IFA_LOCAL), bytes_of(ip("2001:db8::10")));
  EXPECT_EQ(attrs.at(IFA_ADDRESS), bytes_of(ip("2001:db8::10")));
  EXPECT_EQ(attrs.at(IFA_FLAGS), u32_bytes(IFA_F_NODAD));

  Request v4;
  v4.len = build_addr_change(v4.buf, 1, true, 1, ip("203.0.113.7"), 32);
  ifa = v4.fixed<ifaddrmsg>();
  EXPECT_EQ(ifa.ifa_family, AF_INET);
  EXPECT_EQ(ifa.ifa_flags, 0);  // no DAD in IPv4
  attrs = v4.attrs<ifaddrmsg>();
  EXPECT_EQ(attrs.count(IFA_FLAGS), 0u);
  EXPECT_EQ(attrs.at(IFA_LOCAL), bytes_of(ip("203.0.113.7")));

  Request del;
  del.len = build_addr_change(del.buf, 1, false, 2, ip("2001:db8::10"), 128);
  EXPECT_EQ(del.header().nlmsg_type, RTM_DELADDR);
  EXPECT_EQ(del.header().nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
  EXPECT_EQ(del.fixed<ifaddrmsg>().ifa_flags, 0);
  EXPECT_EQ(del.attrs<ifaddrmsg>().count(IFA_FLAGS), 0u);
}

TEST(RtnlBuild, RefusesShortBuffers) {
  alignas(nlmsghdr) std::uint8_t small[kRequestSize - 1];
  EXPECT_EQ(build_route_get(small, 1, ip("192.0.2.1")), 0u);
  EXPECT_EQ(build_link_get(small, 1, 1), 0u);
  EXPECT_EQ(build_addr_dump(small, 1), 0u);
  EXPECT_EQ(build_neigh_get(small, 1, ip("192.0.2.1"), 1), 0u);
  EXPECT_EQ(build_neigh_use(small, 1, ip("192.0.2.1"), 1), 0u);
  EXPECT_EQ(build_addr_change(small, 1, true, 1, ip("192.0.2.1"), 32), 0u);
}

rtmsg route_header(std::uint8_t family, std::uint8_t type) {
  rtmsg r{};
  r.rtm_family = family;
  r.rtm_dst_len = family == AF_INET ? 32 : 128;
  r.rtm_table = RT_TABLE_MAIN;
  r.rtm_type = type;
  return r;
}

// What `ip route get 192.0.2.2` receives on a directly connected link.
TEST(RtnlParse, RouteConnected) {
  const auto msg = NetlinkMessage(RTM_NEWROUTE)
                       .fixed(route_header(AF_INET, RTN_UNICAST))
                       .attr_u32(RTA_TABLE, RT_TABLE_MAIN)
                       .attr_ip(RTA_DST, "192.0.2.2")
                       .attr_u32(RTA_OIF, 3)
                       .attr_ip(RTA_PREFSRC, "192.0.2.1")
                       .attr_u32(RTA_UID, 0)
                       .bytes();
  RouteInfo r;
  std::uint8_t type = 0;
  ASSERT_TRUE(parse_route(test::as_nlmsg(msg), &r, &type));
  EXPECT_EQ(type, RTN_UNICAST);
  EXPECT_EQ(r.oif, 3);
  EXPECT_FALSE(r.has_gateway());
  EXPECT_EQ(r.prefsrc, ip("192.0.2.1"));
  EXPECT_EQ(r.mtu, 0u);  // none in the route: route_get then takes the interface's
  EXPECT_FALSE(r.local);
  EXPECT_TRUE(r.ifname.empty());
}

TEST(RtnlParse, RouteViaGatewayWithMtu) {
  const auto msg = NetlinkMessage(RTM_NEWROUTE)
                       .fixed(route_header(AF_INET6, RTN_UNICAST))
                       .attr_ip(RTA_DST, "2001:db8:ffff::5")
                       .attr_ip(RTA_GATEWAY, "2001:db8::2")
                       .attr_u32(RTA_OIF, 4)
                       .attr_ip(RTA_PREFSRC, "2001:db8::1")
                       .begin_nest(RTA_METRICS)
                       .attr_u32(RTAX_ADVMSS, 1340)
                       .attr_u32(RTAX_MTU, 1400)
                       .end_nest()
                       .bytes();
  RouteInfo r;
  ASSERT_TRUE(parse_route(test::as_nlmsg(msg), &r, nullptr));
  EXPECT_EQ(r.oif, 4);
  EXPECT_TRUE(r.has_gateway());
  EXPECT_EQ(r.gateway, ip("2001:db8::2"));
  EXPECT_EQ(r.prefsrc, ip("2001:db8::1"));
  EXPECT_EQ(r.mtu, 1400u);
}

// RFC 5549: an IPv4 route whose next hop is IPv6 comes as RTA_VIA.
TEST(RtnlParse, RouteViaIpv6NextHop) {
  std::vector<std::uint8_t> via(2 + 16);
  const std::uint16_t family = AF_INET6;
  std::memcpy(via.data(), &family, 2);
  std::memcpy(via.data() + 2, ip("2001:db8::2").bytes.data(), 16);
  const auto msg = NetlinkMessage(RTM_NEWROUTE)
                       .fixed(route_header(AF_INET, RTN_UNICAST))
                       .attr(RTA_VIA, via.data(), via.size())
                       .attr_u32(RTA_OIF, 4)
                       .bytes();
  RouteInfo r;
  ASSERT_TRUE(parse_route(test::as_nlmsg(msg), &r, nullptr));
  EXPECT_EQ(r.gateway, ip("2001:db8::2"));
}

TEST(RtnlParse, RouteLocalAndMalformed) {
  auto msg = NetlinkMessage(RTM_NEWROUTE)
                 .fixed(route_header(AF_INET, RTN_LOCAL))
                 .attr_u32(RTA_OIF, 1)
                 .attr_ip(RTA_PREFSRC, "192.0.2.1")
                 .bytes();
  RouteInfo r;
  std::uint8_t type = 0;
  ASSERT_TRUE(parse_route(test::as_nlmsg(msg), &r, &type));
  EXPECT_TRUE(r.local);
  EXPECT_EQ(type, RTN_LOCAL);

  // Attributes of the wrong size are ignored, not read past.
  const std::uint16_t two = 5;
  const std::uint8_t five[5] = {192, 0, 2, 2, 0};
  msg = NetlinkMessage(RTM_NEWROUTE)
            .fixed(route_header(AF_INET, RTN_UNICAST))
            .attr(RTA_OIF, &two, 2)
            .attr(RTA_GATEWAY, five, 5)
            .attr_ip(RTA_PREFSRC, "2001:db8::1")  // the other family's size
            .bytes();
  ASSERT_TRUE(parse_route(test::as_nlmsg(msg), &r, nullptr));
  EXPECT_EQ(r.oif, 0);
  EXPECT_FALSE(r.has_gateway());
  EXPECT_TRUE(r.prefsrc.is_unspecified());

  // Another message type, or one too short for its rtmsg.
  msg = NetlinkMessage(RTM_NEWADDR).fixed(route_header(AF_INET, RTN_UNICAST)).bytes();
  EXPECT_FALSE(parse_route(test::as_nlmsg(msg), &r, nullptr));
  msg = NetlinkMessage(RTM_NEWROUTE).fixed(std::uint32_t{0}).bytes();
  EXPECT_FALSE(parse_route(test::as_nlmsg(msg), &r, nullptr));
}

TEST(RtnlParse, Link) {
  ifinfomsg ifi{};
  ifi.ifi_index = 3;
  ifi.ifi_type = ARPHRD_ETHER;
  ifi.ifi_flags = IFF_UP | IFF_BROADCAST;
  const auto msg = NetlinkMessage(RTM_NEWLINK, NLM_F_MULTI)
                       .fixed(ifi)
                       .attr_str(IFLA_IFNAME, "vsdt0")
                       .attr_u32(IFLA_MTU, 1480)
                       .bytes();
  LinkInfo link;
  ASSERT_TRUE(parse_link(test::as_nlmsg(msg), &link));
  EXPECT_EQ(link.ifindex, 3);
  EXPECT_EQ(link.ifname, "vsdt0");
  EXPECT_EQ(link.mtu, 1480u);
  EXPECT_EQ(link.type, ARPHRD_ETHER);
  EXPECT_EQ(link.flags, static_cast<std::uint32_t>(IFF_UP | IFF_BROADCAST));
  // A name without its terminating NUL stops at the attribute's end.
  const auto bare = NetlinkMessage(RTM_NEWLINK).fixed(ifi).attr(IFLA_IFNAME, "eth1", 4).bytes();
  ASSERT_TRUE(parse_link(test::as_nlmsg(bare), &link));
  EXPECT_EQ(link.ifname, "eth1");
}

ifaddrmsg address_header(std::uint8_t family, std::uint8_t prefix, std::uint32_t index,
                         std::uint8_t flags = 0) {
  ifaddrmsg a{};
  a.ifa_family = family;
  a.ifa_prefixlen = prefix;
  a.ifa_flags = flags;
  a.ifa_index = index;
  return a;
}

TEST(RtnlParse, Addresses) {
  // A point-to-point IPv4 address: IFA_LOCAL is ours, IFA_ADDRESS the peer.
  auto msg = NetlinkMessage(RTM_NEWADDR)
                 .fixed(address_header(AF_INET, 32, 5, IFA_F_PERMANENT))
                 .attr_ip(IFA_ADDRESS, "198.51.100.2")
                 .attr_ip(IFA_LOCAL, "198.51.100.1")
                 .attr_str(IFA_LABEL, "ptp0")
                 .bytes();
  LocalAddress a;
  ASSERT_TRUE(parse_address(test::as_nlmsg(msg), &a));
  EXPECT_EQ(a.addr, ip("198.51.100.1"));
  EXPECT_EQ(a.prefix, 32);
  EXPECT_EQ(a.ifindex, 5);
  EXPECT_EQ(a.flags, static_cast<std::uint32_t>(IFA_F_PERMANENT));
  EXPECT_TRUE(a.ifname.empty());

  // IPv6: IFA_ADDRESS only; IFA_FLAGS has the bits beyond ifa_flags' eight.
  msg = NetlinkMessage(RTM_NEWADDR)
            .fixed(address_header(AF_INET6, 64, 2, IFA_F_TENTATIVE))
            .attr_ip(IFA_ADDRESS, "2001:db8::1")
            .attr_u32(IFA_FLAGS, IFA_F_TENTATIVE | IFA_F_NOPREFIXROUTE)
            .bytes();
  ASSERT_TRUE(parse_address(test::as_nlmsg(msg), &a));
  EXPECT_EQ(a.addr, ip("2001:db8::1"));
  EXPECT_EQ(a.prefix, 64);
  EXPECT_EQ(a.flags, static_cast<std::uint32_t>(IFA_F_TENTATIVE | IFA_F_NOPREFIXROUTE));

  // No address at all, or an address of the wrong size: not an address.
  msg = NetlinkMessage(RTM_NEWADDR).fixed(address_header(AF_INET, 24, 2)).bytes();
  EXPECT_FALSE(parse_address(test::as_nlmsg(msg), &a));
  msg = NetlinkMessage(RTM_NEWADDR)
            .fixed(address_header(AF_INET, 24, 2))
            .attr_ip(IFA_ADDRESS, "2001:db8::1")
            .bytes();
  EXPECT_FALSE(parse_address(test::as_nlmsg(msg), &a));
}

ndmsg neighbour_header(std::uint8_t family, int ifindex, std::uint16_t state) {
  ndmsg n{};
  n.ndm_family = family;
  n.ndm_ifindex = ifindex;
  n.ndm_state = state;
  return n;
}

TEST(RtnlParse, NeighboursAndUsableStates) {
  const std::uint8_t mac[6] = {0x00, 0x00, 0x5e, 0x00, 0x53, 0x02};
  NeighbourEntry n;
  for (std::uint16_t state : {NUD_REACHABLE, NUD_STALE, NUD_DELAY, NUD_PROBE, NUD_PERMANENT,
                              NUD_NOARP}) {
    const auto msg = NetlinkMessage(RTM_NEWNEIGH)
                         .fixed(neighbour_header(AF_INET, 3, state))
                         .attr_ip(NDA_DST, "192.0.2.2")
                         .attr(NDA_LLADDR, mac, 6)
                         .bytes();
    ASSERT_TRUE(parse_neighbour(test::as_nlmsg(msg), &n));
    EXPECT_TRUE(neighbour_usable(n)) << nud_state_name(state);
    EXPECT_EQ(n.addr, ip("192.0.2.2"));
    EXPECT_EQ(n.ifindex, 3);
    EXPECT_EQ(n.mac, (MacAddress{0x00, 0x00, 0x5e, 0x00, 0x53, 0x02}));
  }
  // Still resolving, or failed: no link-layer address.
  for (std::uint16_t state : {NUD_NONE, NUD_INCOMPLETE, NUD_FAILED}) {
    const auto msg = NetlinkMessage(RTM_NEWNEIGH)
                         .fixed(neighbour_header(AF_INET6, 3, state))
                         .attr_ip(NDA_DST, "2001:db8::2")
                         .bytes();
    ASSERT_TRUE(parse_neighbour(test::as_nlmsg(msg), &n));
    EXPECT_FALSE(neighbour_usable(n)) << nud_state_name(state);
    EXPECT_EQ(n.lladdr_len, 0u);
  }
  // Reachable but not Ethernet (an InfiniBand address is 20 bytes).
  const std::uint8_t ib[20] = {1, 2, 3, 4, 5, 6, 7};
  auto msg = NetlinkMessage(RTM_NEWNEIGH)
                 .fixed(neighbour_header(AF_INET, 3, NUD_REACHABLE))
                 .attr_ip(NDA_DST, "192.0.2.2")
                 .attr(NDA_LLADDR, ib, sizeof ib)
                 .bytes();
  ASSERT_TRUE(parse_neighbour(test::as_nlmsg(msg), &n));
  EXPECT_FALSE(neighbour_usable(n));
  EXPECT_EQ(n.lladdr_len, 20u);
  // No destination: not an entry.
  msg = NetlinkMessage(RTM_NEWNEIGH).fixed(neighbour_header(AF_INET, 3, NUD_REACHABLE)).bytes();
  EXPECT_FALSE(parse_neighbour(test::as_nlmsg(msg), &n));
}

TEST(RtnlParse, StateNames) {
  EXPECT_EQ(nud_state_name(NUD_NONE), "NONE");
  EXPECT_EQ(nud_state_name(NUD_INCOMPLETE), "INCOMPLETE");
  EXPECT_EQ(nud_state_name(NUD_REACHABLE | NUD_PERMANENT), "REACHABLE|PERMANENT");
}

std::vector<std::uint8_t> ack_message(int error, std::uint16_t flags, const char* text,
                                      std::uint32_t seq = 1, bool copy_request = false) {
  nlmsgerr e{};
  e.error = error;
  e.msg.nlmsg_len = copy_request ? NLMSG_LENGTH(8) : NLMSG_HDRLEN;
  e.msg.nlmsg_type = RTM_NEWADDR;
  e.msg.nlmsg_seq = seq;
  NetlinkMessage m(NLMSG_ERROR, flags, seq);
  m.fixed(e);
  if (copy_request) m.fixed(std::uint64_t{0x1122334455667788});  // the request's payload
  if (text) m.attr_str(NLMSGERR_ATTR_MSG, text);
  return m.bytes();
}

TEST(RtnlParse, AcksAndErrors) {
  Ack ack;
  ASSERT_TRUE(parse_ack(test::as_nlmsg(ack_message(0, NLM_F_CAPPED, nullptr)), &ack));
  EXPECT_TRUE(ack.seen);
  EXPECT_EQ(ack.error, 0);
  EXPECT_TRUE(ack.message.empty());

  // Capped (NETLINK_CAP_ACK): the extended ack follows the request's header.
  ASSERT_TRUE(parse_ack(test::as_nlmsg(ack_message(-EEXIST, NLM_F_CAPPED | NLM_F_ACK_TLVS,
                                                   "Address already assigned")),
                        &ack));
  EXPECT_EQ(ack.error, -EEXIST);
  EXPECT_EQ(ack.message, "Address already assigned");
  // Not capped: after the whole request.
  ASSERT_TRUE(parse_ack(test::as_nlmsg(ack_message(-ENODEV, NLM_F_ACK_TLVS, "Unknown device ifindex",
                                                   1, true)),
                        &ack));
  EXPECT_EQ(ack.error, -ENODEV);
  EXPECT_EQ(ack.message, "Unknown device ifindex");

  // The end of a dump with and without its error code.
  ASSERT_TRUE(parse_ack(test::as_nlmsg(NetlinkMessage(NLMSG_DONE, NLM_F_MULTI).fixed(0).bytes()),
                        &ack));
  EXPECT_EQ(ack.error, 0);
  ASSERT_TRUE(parse_ack(test::as_nlmsg(NetlinkMessage(NLMSG_DONE, NLM_F_MULTI | NLM_F_ACK_TLVS)
                                           .fixed(-EMSGSIZE)
                                           .attr_str(NLMSGERR_ATTR_MSG, "too big")
                                           .bytes()),
                        &ack));
  EXPECT_EQ(ack.error, -EMSGSIZE);
  EXPECT_EQ(ack.message, "too big");
  ASSERT_TRUE(parse_ack(test::as_nlmsg(NetlinkMessage(NLMSG_DONE).bytes()), &ack));
  EXPECT_EQ(ack.error, 0);

  // An error message too short for its nlmsgerr, and a data message.
  EXPECT_FALSE(parse_ack(test::as_nlmsg(NetlinkMessage(NLMSG_ERROR).fixed(-1).bytes()), &ack));
  EXPECT_FALSE(parse_ack(test::as_nlmsg(NetlinkMessage(RTM_NEWLINK).bytes()), &ack));
}

std::vector<std::uint8_t> concat(std::initializer_list<std::vector<std::uint8_t>> parts) {
  std::vector<std::uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(RtnlWalk, DumpAcrossDatagrams) {
  const std::uint32_t seq = 40, port = 1234;
  const auto link = [&](int index, std::uint16_t flags = NLM_F_MULTI) {
    ifinfomsg ifi{};
    ifi.ifi_index = index;
    return NetlinkMessage(RTM_NEWLINK, flags, seq, port).fixed(ifi).bytes();
  };
  std::vector<int> seen;
  const auto on_message = [&](const nlmsghdr* nlh) {
    LinkInfo l;
    if (!parse_link(nlh, &l)) return false;
    seen.push_back(l.ifindex);
    return true;
  };
  Ack ack;
  // A late answer to an earlier request and a message for another port are skipped.
  auto first = concat({NetlinkMessage(RTM_NEWLINK, NLM_F_MULTI, seq - 1, port).fixed(ifinfomsg{}).bytes(),
                       link(1), NetlinkMessage(RTM_NEWLINK, 0, seq, port + 1).fixed(ifinfomsg{}).bytes(),
                       link(2)});
  EXPECT_EQ(walk_reply(first, seq, port, on_message, &ack), Walk::more);
  EXPECT_FALSE(ack.seen);
  auto second = concat({link(3, NLM_F_MULTI | NLM_F_DUMP_INTR),
                        NetlinkMessage(NLMSG_DONE, NLM_F_MULTI, seq, port).fixed(0).bytes()});
  EXPECT_EQ(walk_reply(second, seq, port, on_message, &ack), Walk::done);
  EXPECT_EQ(seen, (std::vector<int>{1, 2, 3}));
  EXPECT_TRUE(ack.seen);
  EXPECT_TRUE(ack.interrupted);
}

TEST(RtnlWalk, ErrorsAndMalformedBuffers) {
  Ack ack;
  int calls = 0;
  const auto count = [&](const nlmsghdr*) {
    ++calls;
    return true;
  };
  EXPECT_EQ(walk_reply(ack_message(-ENETUNREACH, NLM_F_CAPPED, nullptr, 7), 7, 0, count, &ack),
            Walk::done);
  EXPECT_EQ(ack.error, -ENETUNREACH);
  EXPECT_EQ(calls, 0);
  // Truncated: the header claims more than the datagram holds.
  auto msg = NetlinkMessage(RTM_NEWROUTE, 0, 7).fixed(route_header(AF_INET, RTN_UNICAST)).bytes();
  msg.erase(msg.end() - 4, msg.end());  // not resize(): g++ 12 -O1 warns it may grow
  EXPECT_EQ(walk_reply(msg, 7, 0, count, &ack), Walk::bad);
  // The message handler finds it malformed.
  msg = NetlinkMessage(RTM_NEWROUTE, 0, 7).bytes();
  EXPECT_EQ(walk_reply(msg, 7, 0, [](const nlmsghdr*) { return false; }, &ack), Walk::bad);
  EXPECT_EQ(walk_reply(NetlinkMessage(NLMSG_OVERRUN, 0, 7).bytes(), 7, 0, count, &ack), Walk::bad);
  EXPECT_EQ(walk_reply({}, 7, 0, count, &ack), Walk::more);
}

}  // namespace
}  // namespace vsd::rtnl
