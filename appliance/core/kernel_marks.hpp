// The kernel fast path's share of the packet mark and the conntrack mark:
// the bits of `[director] mark_mask`, which the operator leaves to vsd.
// The top bits are flags, the rest a decision: which real server a flow
// goes to. The nft ruleset (nfq/ruleset) and the engine read the same
// layout.
//
//   queue    (highest bit of the mask)   vsd must see this packet
//   pending  (next)                      a DR/TUN flow's next packet too
//   direct   (next)                      a DR/TUN flow (the kernel forwards it)
//   id       (the rest, contiguous)      the decision, 1..capacity()
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace vsd {

struct MarkLayout {
  std::uint32_t mask = 0;  // 0: no fast path
  std::uint32_t queue = 0, pending = 0, direct = 0, id = 0;
  unsigned id_shift = 0;

  // A contiguous mask of at least 4 bits; nullopt (and *why) otherwise.
  static std::optional<MarkLayout> from_mask(std::uint32_t mask, std::string* why = nullptr);

  bool enabled() const { return mask != 0; }
  // Decisions 1..capacity() fit the id bits.
  std::uint32_t capacity() const { return id >> id_shift; }
  std::uint32_t decision_mark(std::uint32_t n) const { return (n << id_shift) & id; }
  std::uint32_t decision_of(std::uint32_t mark) const { return (mark & id) >> id_shift; }
  // The packet's mark with vsd's bits replaced by `bits` (the operator's
  // own bits stay as they came).
  std::uint32_t with(std::uint32_t packet_mark, std::uint32_t bits) const {
    return (packet_mark & ~mask) | (bits & mask);
  }
  // Queued by direct_forward's last rule: the kernel carried this DR/TUN
  // flow but found no destination for its decision (its real server was
  // removed), so vsd must forward it itself. Every other queue rule sets
  // the queue bit.
  bool without_kernel_destination(std::uint32_t packet_mark) const {
    return enabled() && (packet_mark & (queue | direct)) == direct;
  }
  bool operator==(const MarkLayout&) const = default;
};

}  // namespace vsd
