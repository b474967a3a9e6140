#include "appliance/core/decapsulator.hpp"

#include <algorithm>
#include <cstring>

#include "forwarders/packet_view.hpp"

namespace vsd {

Decapsulator::Result Decapsulator::process(std::uint8_t* data, std::size_t len) {
  DecapResult d = tun_decapsulate({data, len});
  Result refused;
  refused.outer_src = d.outer_src;
  if (d.status != DecapStatus::ok) {
    counters_.invalid[static_cast<std::size_t>(d.status) % kDecapStatusCount].add(1);
    return refused;
  }
  const std::uint8_t* in = d.inner.data();
  const bool inner_v6 = (in[0] >> 4) == 6;
  // tun_decapsulate checked the inner header fits; its destination:
  IpAddress dst = inner_v6 ? IpAddress::v6(in + 24) : IpAddress::v4(in + 16);
  refused.inner_dst = dst;
  if (inner_v6 != (d.outer_family == Family::v6)) {
    counters_.family_change.add(1);
    return refused;
  }
  // An IPv6 packet to ::ffff:a.b.c.d is not for the IPv4 VIP a.b.c.d
  // (IpAddress keeps IPv4 in that mapped form, so it would compare equal).
  if ((inner_v6 && dst.is_v4()) || std::find(vips_.begin(), vips_.end(), dst) == vips_.end()) {
    counters_.not_a_vip.add(1);
    return refused;
  }
  const std::size_t inner_len = d.inner.size();
  std::memmove(data, in, inner_len);
  counters_.decapsulated.add(1);
  return {true, inner_len, d.outer_src, dst};
}

}  // namespace vsd
