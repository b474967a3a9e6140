// The vocabulary every room of appliance/ shares: which transport protocol a
// virtual service balances and how a packet reaches a real server. Kept
// apart from the configuration so that the data path (core/), the control
// protocol and vsadm name them without the TOML reader.
#pragma once

#include <cstdint>

namespace vsd {

enum class Protocol : std::uint8_t { tcp = 6, udp = 17 };  // IP protocol numbers
enum class ForwardMethod : std::uint8_t { nat, tun, dr };   // ipvsadm -m | -i | -g

// "tcp" / "udp"
constexpr const char* to_string(Protocol p) { return p == Protocol::tcp ? "tcp" : "udp"; }
// "nat" / "tun" / "dr"
constexpr const char* to_string(ForwardMethod f) {
  switch (f) {
    case ForwardMethod::nat: return "nat";
    case ForwardMethod::tun: return "tun";
    case ForwardMethod::dr: return "dr";
  }
  return "?";
}

}  // namespace vsd
