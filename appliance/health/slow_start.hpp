// Slow start: a real server that has just recovered gets its weight back
// gradually, so a cold cache or a JIT is not flooded at once. The weight
// ramps linearly from 0 at the recovery to the configured weight
// `slow_start` later (rounded up, so it is at least 1 once the ramp began).
#pragma once

#include <cstdint>
#include <optional>

namespace vsd::health {

std::uint32_t slow_start_weight(std::uint32_t weight, std::uint32_t slow_start_ms,
                                std::uint64_t recovered_ms, std::uint64_t now_ms);

// When slow_start_weight() will next return a different value; nullopt when
// the ramp is over. Lets the daemon sleep exactly (or just tick each second).
std::optional<std::uint64_t> slow_start_next_change_ms(std::uint32_t weight, std::uint32_t slow_start_ms,
                                                       std::uint64_t recovered_ms, std::uint64_t now_ms);

}  // namespace vsd::health
