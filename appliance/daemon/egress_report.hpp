// How the director stands with one DR/TUN real server's way out, as its
// egress watch (director_network.cpp) last found it. The state, not the
// wording of the log line, says whether it is a problem.
#pragma once

#include <cstdint>
#include <string>

namespace vsd {

enum class EgressState : std::uint8_t {
  tunnel,         // TUN: a route and an outer source
  direct,         // DR: the real server's MAC is known
  resolving_mac,  // DR: the kernel was asked to resolve it, no answer yet
  no_mac,         // DR: still no MAC after ~2 s; its packets are dropped (no_route)
  via_gateway,    // DR: reached through a gateway, so not on a shared segment
  no_route,       // no route to the real server at all
};

// States an operator must act on: logged as errors.
constexpr bool is_problem(EgressState s) {
  return s == EgressState::no_mac || s == EgressState::via_gateway || s == EgressState::no_route;
}

struct EgressReport {
  EgressState state = EgressState::no_route;
  std::string line;  // what the log says, with the RIP and what to do
  bool operator==(const EgressReport&) const = default;
};

}  // namespace vsd
