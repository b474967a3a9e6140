#include "appliance/health/quorum.hpp"

namespace vsd::health {

bool quorum_next(bool up, std::uint64_t sum, std::uint64_t quorum, std::uint64_t hysteresis) {
  if (!up) return sum >= quorum + hysteresis;
  // Signed, as hysteresis may exceed quorum.
  const auto down_below = static_cast<std::int64_t>(quorum) - static_cast<std::int64_t>(hysteresis);
  return !(sum == 0 || static_cast<std::int64_t>(sum) < down_below);
}

QuorumTracker::QuorumTracker(std::uint64_t quorum, std::uint64_t hysteresis, std::uint64_t initial_sum)
    : quorum_(quorum), hysteresis_(hysteresis), up_(initial_sum >= quorum + hysteresis) {}

std::optional<bool> QuorumTracker::update(std::uint64_t sum) {
  bool next = quorum_next(up_, sum, quorum_, hysteresis_);
  if (next == up_) return std::nullopt;
  up_ = next;
  return up_;
}

std::uint64_t healthy_weight_sum(const std::vector<std::pair<bool, std::uint32_t>>& servers) {
  std::uint64_t sum = 0;
  for (const auto& [up, weight] : servers)
    if (up) sum += weight;
  return sum;
}

}  // namespace vsd::health
