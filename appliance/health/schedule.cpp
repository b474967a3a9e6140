#include "appliance/health/schedule.hpp"

namespace vsd::health {

std::uint32_t spread_offset_ms(std::string_view target_id, std::uint32_t interval_ms) {
  if (interval_ms == 0) return 0;
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : target_id) {
    h ^= c;
    h *= 1099511628211ull;
  }
  h ^= h >> 29;  // FNV's low bits mix poorly; fold the high ones in before the modulo
  return static_cast<std::uint32_t>(h % interval_ms);
}

std::uint32_t spread_offset_ms(std::size_t index, std::size_t count, std::uint32_t interval_ms) {
  if (count == 0) return 0;
  return static_cast<std::uint32_t>(static_cast<std::uint64_t>(index % count) * interval_ms / count);
}

std::uint32_t warmup_delay_ms(std::uint32_t warmup_ms, std::uint64_t random) {
  return static_cast<std::uint32_t>(random % (static_cast<std::uint64_t>(warmup_ms) + 1));
}

std::uint64_t next_due_ms(std::uint64_t previous_due_ms, std::uint32_t interval_ms, std::uint64_t now_ms) {
  if (interval_ms == 0) return now_ms;
  std::uint64_t next = previous_due_ms + interval_ms;
  if (next <= now_ms) next += ((now_ms - next) / interval_ms + 1) * interval_ms;
  return next;
}

}  // namespace vsd::health
