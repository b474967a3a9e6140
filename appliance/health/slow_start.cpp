#include "appliance/health/slow_start.hpp"

namespace vsd::health {

std::uint32_t slow_start_weight(std::uint32_t weight, std::uint32_t slow_start_ms,
                                std::uint64_t recovered_ms, std::uint64_t now_ms) {
  if (slow_start_ms == 0) return weight;
  if (now_ms < recovered_ms) return 0;
  const std::uint64_t elapsed = now_ms - recovered_ms;
  if (elapsed >= slow_start_ms) return weight;
  // ceil(weight * elapsed / slow_start)
  return static_cast<std::uint32_t>((static_cast<std::uint64_t>(weight) * elapsed + slow_start_ms - 1) /
                                    slow_start_ms);
}

std::optional<std::uint64_t> slow_start_next_change_ms(std::uint32_t weight, std::uint32_t slow_start_ms,
                                                       std::uint64_t recovered_ms, std::uint64_t now_ms) {
  if (slow_start_ms == 0 || weight == 0) return std::nullopt;
  if (now_ms < recovered_ms) return recovered_ms + 1;
  const std::uint64_t elapsed = now_ms - recovered_ms;
  if (elapsed >= slow_start_ms) return std::nullopt;
  // The weight is c = ceil(w*e/s); it becomes c+1 at the first t with w*t > c*s.
  const std::uint64_t c = slow_start_weight(weight, slow_start_ms, recovered_ms, now_ms);
  if (c >= weight) return std::nullopt;
  std::uint64_t t = c * slow_start_ms / weight + 1;
  if (t > slow_start_ms) t = slow_start_ms;
  return recovered_ms + t;
}

}  // namespace vsd::health
