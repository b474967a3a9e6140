#include "appliance/core/kernel_marks.hpp"

#include <bit>
#include <cstdio>

namespace vsd {

std::optional<MarkLayout> MarkLayout::from_mask(std::uint32_t mask, std::string* why) {
  auto fail = [&](const char* reason) -> std::optional<MarkLayout> {
    if (why) {
      char text[160];
      std::snprintf(text, sizeof text, "mark_mask 0x%08x %s", mask, reason);
      *why = text;
    }
    return std::nullopt;
  };
  if (mask == 0) return MarkLayout{};
  const unsigned low = static_cast<unsigned>(std::countr_zero(mask));
  const unsigned width = static_cast<unsigned>(std::popcount(mask));
  // Contiguous: the bits from the lowest set one are all set.
  if ((mask >> low) != (width == 32 ? 0xffffffffu : (1u << width) - 1))
    return fail("must be one run of bits, e.g. 0xffff0000");
  if (width < 4) return fail("needs at least 4 bits (3 flags and the decisions)");
  MarkLayout m;
  m.mask = mask;
  const unsigned top = low + width - 1;
  m.queue = 1u << top;
  m.pending = 1u << (top - 1);
  m.direct = 1u << (top - 2);
  m.id = mask & ~(m.queue | m.pending | m.direct);
  m.id_shift = low;
  return m;
}

}  // namespace vsd
