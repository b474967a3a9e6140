// keepalived's quorum for a virtual service: the sum of the weights of the
// healthy real servers against `quorum`, with `hysteresis` as a flap damper.
//  - down -> up when sum >= quorum + hysteresis   (quorum_up runs)
//  - up -> down when sum == 0 or sum < quorum - hysteresis   (quorum_down runs)
//  - at start: up iff sum >= quorum + hysteresis
// keepalived's defaults are quorum 1, hysteresis 0.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace vsd::health {

// The pure rule: the state after seeing `healthy_weight_sum`.
bool quorum_next(bool up, std::uint64_t healthy_weight_sum, std::uint64_t quorum, std::uint64_t hysteresis);

class QuorumTracker {
 public:
  QuorumTracker(std::uint64_t quorum, std::uint64_t hysteresis, std::uint64_t initial_sum);

  // Returns the new state when it changed.
  std::optional<bool> update(std::uint64_t healthy_weight_sum);
  bool up() const { return up_; }

 private:
  std::uint64_t quorum_, hysteresis_;
  bool up_;
};

// Sum of the weights of the servers that are up: pairs of (up, weight).
std::uint64_t healthy_weight_sum(const std::vector<std::pair<bool, std::uint32_t>>& servers);

}  // namespace vsd::health
