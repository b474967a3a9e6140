// When checks run. A thousand real servers must not be probed in the same
// instant, so each target starts at its own offset inside the interval and
// then keeps that phase: checks run on the grid first + k * interval.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace vsd::health {

// A deterministic offset in [0, interval) from the target id (FNV-1a), so the
// same target keeps its phase across reloads and additions of other targets.
std::uint32_t spread_offset_ms(std::string_view target_id, std::uint32_t interval_ms);

// Even spacing when the full list is known: index * interval / count.
std::uint32_t spread_offset_ms(std::size_t index, std::size_t count, std::uint32_t interval_ms);

// keepalived's warmup: a random delay in [0, warmup] before the first check,
// `random` being any uniformly random 64-bit value.
std::uint32_t warmup_delay_ms(std::uint32_t warmup_ms, std::uint64_t random);

// The first grid point previous_due + k * interval (k >= 1) strictly after
// `now`: a check that overran its slot skips to the next one instead of
// firing a burst to catch up.
std::uint64_t next_due_ms(std::uint64_t previous_due_ms, std::uint32_t interval_ms, std::uint64_t now_ms);

}  // namespace vsd::health
