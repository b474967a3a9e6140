#include "appliance/core/scheduler_lblc.hpp"

#include "appliance/core/scheduler_wlc.hpp"

namespace vsd {

LocalityLeastConnectionScheduler::LocalityLeastConnectionScheduler(const Clock& clock,
                                                                   std::size_t capacity,
                                                                   std::uint32_t expiration_s)
    : clock_(clock), table_(capacity, expiration_s) {}

int LocalityLeastConnectionScheduler::cached(const IpAddress& dst) const {
  const auto* e = table_.find(dst, clock_.now_s());
  return e ? e->value : -1;
}

int LocalityLeastConnectionScheduler::schedule(std::span<const DestView> dests,
                                               const PacketView& pkt) {
  const std::uint32_t now = clock_.now_s();
  auto* e = table_.find(pkt.dst, now);
  if (e) {
    e->last_use = now;
    const int d = e->value;
    if (d < static_cast<int>(dests.size()) && dest_available(dests[d]) &&
        !locality_overloaded(dests, dests[d]))
      return d;
  }
  const int d = weighted_least_connection(dests);
  if (d < 0) return -1;
  (e ? *e : table_.claim(pkt.dst, now)).value = d;
  return d;
}

}  // namespace vsd
