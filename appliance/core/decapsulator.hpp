// The real-server side of VS-TUN without the ipip / ip6_tunnel modules: an
// IP-in-IP packet queued by the real server's nft rule is validated, its
// outer header stripped, and the inner packet handed back to the kernel in
// its place, which then delivers it to the VIP on lo as if it had arrived
// so. Pure code: the NFQUEUE adapter feeds it.
//
// Only inner packets to one of this node's VIPs are let in: anybody can
// send IP-in-IP to a real server, and decapsulating for any address would
// make it an open relay. The inner packet must be of the outer's family
// (the kernel keeps the skb's protocol from the outer header).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "appliance/core/dest_state.hpp"
#include "net/ip_address.hpp"
#include "forwarders/tun_rewriter.hpp"

namespace vsd {

struct DecapCounters {
  Counter decapsulated;
  std::array<Counter, kDecapStatusCount> invalid;  // by DecapStatus (ok unused)
  Counter not_a_vip;      // inner destination is none of this node's VIPs
  Counter family_change;  // inner family differs from the outer one
};

class Decapsulator {
 public:
  explicit Decapsulator(std::vector<IpAddress> vips) : vips_(std::move(vips)) {}

  struct Result {
    bool accept = false;  // false: drop
    std::size_t len = 0;  // accept: the inner packet's length, now at data[0]
    IpAddress outer_src, inner_dst;  // for the log, as far as parsed
  };
  // Decapsulates in place (the inner packet is moved to the buffer's start).
  Result process(std::uint8_t* data, std::size_t len);

  const DecapCounters& counters() const { return counters_; }

 private:
  std::vector<IpAddress> vips_;
  DecapCounters counters_;
};

}  // namespace vsd
