#include "appliance/core/scheduler_lblcr.hpp"

#include "appliance/core/scheduler_wlc.hpp"

namespace vsd {

namespace {

using DestSet = LocalityReplicationScheduler::DestSet;

// Both walk newest member first, as IPVS's list (new members go to its
// head), so ties favour the newest.
int least_loaded(const DestSet& set, std::span<const DestView> dests) {
  int least = -1;
  for (int k = set.size - 1; k >= 0; --k) {
    const int d = set.members[k];
    if (d >= static_cast<int>(dests.size()) || !dest_available(dests[d])) continue;
    if (least < 0 || more_loaded(dest_overhead(dests[least]), dests[least].weight,
                                 dest_overhead(dests[d]), dests[d].weight))
      least = d;
  }
  return least;
}

// Quiesced members are not candidates, but overloaded ones are: they are
// the ones to shed.
int most_loaded(const DestSet& set, std::span<const DestView> dests) {
  int most = -1;
  for (int k = set.size - 1; k >= 0; --k) {
    const int d = set.members[k];
    if (d >= static_cast<int>(dests.size()) || dests[d].weight == 0) continue;
    if (most < 0 || more_loaded(dest_overhead(dests[d]), dests[d].weight,
                                dest_overhead(dests[most]), dests[most].weight))
      most = d;
  }
  return most;
}

void erase(DestSet& set, int d, std::uint32_t now) {
  for (std::size_t k = 0; k < set.size; ++k) {
    if (set.members[k] != d) continue;
    for (std::size_t j = k + 1; j < set.size; ++j) set.members[j - 1] = set.members[j];
    --set.size;
    set.lastmod = now;
    return;
  }
}

}  // namespace

LocalityReplicationScheduler::LocalityReplicationScheduler(const Clock& clock,
                                                           std::size_t capacity,
                                                           std::uint32_t expiration_s)
    : clock_(clock), table_(capacity, expiration_s), expiration_s_(expiration_s) {}

std::span<const std::int32_t> LocalityReplicationScheduler::server_set(const IpAddress& dst) const {
  const auto* e = table_.find(dst, clock_.now_s());
  return e ? e->value.view() : std::span<const std::int32_t>{};
}

void LocalityReplicationScheduler::insert(DestSet& set, int d, std::span<const DestView> dests,
                                          std::uint32_t now) {
  for (std::size_t k = 0; k < set.size; ++k)
    if (set.members[k] == d) return;
  if (set.size == DestSet::kMax) {
    const int m = most_loaded(set, dests);
    erase(set, m >= 0 ? m : set.members[0], now);
  }
  set.members[set.size++] = d;
  set.lastmod = now;
}

int LocalityReplicationScheduler::schedule(std::span<const DestView> dests,
                                           const PacketView& pkt) {
  const std::uint32_t now = clock_.now_s();
  auto* e = table_.find(pkt.dst, now);
  if (!e) {
    const int d = weighted_least_connection(dests);
    if (d >= 0) insert(table_.claim(pkt.dst, now).value, d, dests, now);
    return d;
  }
  e->last_use = now;
  DestSet& set = e->value;
  int d = least_loaded(set, dests);
  // Picked before shrinking, as IPVS does: the shed member may still serve
  // this one connection.
  if (set.size > 1 && now - set.lastmod > expiration_s_) {
    const int m = most_loaded(set, dests);
    if (m >= 0) erase(set, m, now);
  }
  if (d >= 0 && !locality_overloaded(dests, dests[d])) return d;
  d = weighted_least_connection(dests);
  if (d >= 0) insert(set, d, dests, now);
  return d;
}

}  // namespace vsd
