// nfq/rtnl_message: rtnetlink replies as a recv() buffer holds them,
// walked by walk_reply (the answer's sequence and port from its first
// message, or not: input byte 0) with every message given to the route,
// link, address and neighbour parsers and the ack parser; and the request
// builders into buffers of every size (too short: refused, never overrun).
// Besides ASan/UBSan it checks that parsed names and lengths stay within
// their bounds.
//
// Input: 8 parameter bytes (0: flags, 1-4: an address for the builders,
// 5: buffer size for the builders, 6: prefix), then the netlink buffer.
#include <linux/rtnetlink.h>

#include <cstring>

#include "fuzz_common.hpp"
#include "nfq/rtnl_message.hpp"

namespace vsd {
namespace {

bool on_message(const nlmsghdr* nlh) {
  rtnl::RouteInfo route;
  std::uint8_t type = 0;
  if (rtnl::parse_route(nlh, &route, &type)) {
    (void)route.has_gateway();
    FUZZ_CHECK(route.ifname.empty(), "parse_route fills no ifname");
  }
  rtnl::LinkInfo link;
  if (rtnl::parse_link(nlh, &link)) FUZZ_CHECK(link.ifname.size() < 4096, "ifname longer than its attribute");
  rtnl::LocalAddress addr;
  if (rtnl::parse_address(nlh, &addr)) (void)addr.addr.to_string();
  rtnl::NeighbourEntry n;
  if (rtnl::parse_neighbour(nlh, &n)) {
    (void)rtnl::neighbour_usable(n);
    (void)rtnl::nud_state_name(n.state);
    (void)mac_to_string(n.mac);
  }
  return !(nlh->nlmsg_type & 0x8000);  // some messages "malformed": the walk stops
}

void builders(const fuzz::Params<8>& p) {
  const IpAddress a = fuzz::address(p.b + 1, p.u8(0) & 2);
  std::vector<std::uint8_t> buf(p.u8(5) % (rtnl::kRequestSize + 8));
  const std::span<std::uint8_t> s(buf);
  const std::uint32_t seq = 7;
  std::size_t n[] = {rtnl::build_route_get(s, seq, a), rtnl::build_link_get(s, seq, p.u8(6)),
                     rtnl::build_addr_dump(s, seq), rtnl::build_neigh_get(s, seq, a, p.u8(6)),
                     rtnl::build_neigh_use(s, seq, a, 3),
                     rtnl::build_addr_change(s, seq, p.u8(0) & 4, 3, a, p.u8(6))};
  for (std::size_t len : n) {
    FUZZ_CHECK(len <= buf.size(), "a request longer than its buffer");
    FUZZ_CHECK(buf.size() >= rtnl::kRequestSize || len == 0, "a request built in a short buffer");
  }
}

}  // namespace
}  // namespace vsd

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vsd;
  fuzz::Params<8> p(data, size);
  builders(p);
  std::vector<std::uint8_t> buf = fuzz::copy(p.rest, p.rest_len);
  std::uint32_t seq = 1, portid = 0;
  if (buf.size() >= sizeof(nlmsghdr)) {
    nlmsghdr first;
    std::memcpy(&first, buf.data(), sizeof first);
    seq = first.nlmsg_seq ^ (p.u8(0) & 1);
    portid = first.nlmsg_pid;
  }
  rtnl::Ack ack;
  rtnl::Walk w = rtnl::walk_reply(buf, seq, portid, on_message, &ack);
  if (w == rtnl::Walk::done) FUZZ_CHECK(ack.seen, "a finished walk without its ack");
  // Each message alone too, as the socket half hands them over.
  fuzz::for_each_message(buf, [](const nlmsghdr* nlh) {
    on_message(nlh);
    rtnl::Ack a;
    (void)rtnl::parse_ack(nlh, &a);
  });
  return 0;
}
