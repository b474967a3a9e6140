// What lblc and lblcr share: the destination-IP table and IPVS's rule for
// when locality gives way to load.
#pragma once

#include <algorithm>
#include <bit>
#include <utility>
#include <vector>

#include "appliance/core/scheduler_common.hpp"

namespace vsd {

// IPVS defaults (ip_vs_lblc.c, ip_vs_lblcr.c): an entry unused for a day is
// forgotten, and lblcr drops the most loaded server from a set that has not
// changed for as long (both follow the one *_expiration sysctl). 16384 is
// IPVS's max_size, past which it starts collecting idle entries.
inline constexpr std::uint32_t kLocalityExpirationS = 24 * 60 * 60;
inline constexpr std::size_t kLocalityCapacity = 16384;

// Destination IP -> Value in memory allocated once, so the data path never
// allocates: set-associative, 8 ways a set. IPVS lets its table grow and,
// once over max_size, collects entries idle for 6 minutes; here a full set
// replaces its least recently used entry, which keeps the busy destinations
// the same way without a timer. Expiry is checked on lookup.
template <typename Value>
class LocalityTable {
 public:
  struct Entry {
    IpAddress addr;
    std::uint32_t last_use = 0;  // Clock::now_s()
    bool used = false;
    Value value{};
  };
  static constexpr std::size_t kWays = 8;

  LocalityTable(std::size_t capacity, std::uint32_t expiration_s)
      : entries_(std::bit_ceil(std::max<std::size_t>(capacity / kWays, 1)) * kWays),
        set_mask_(entries_.size() / kWays - 1),
        expiration_s_(expiration_s) {}

  // addr's entry if it was used within the expiration, else nullptr.
  const Entry* find(const IpAddress& addr, std::uint32_t now) const {
    const Entry* set = set_of(addr);
    for (std::size_t w = 0; w < kWays; ++w)
      if (set[w].used && set[w].addr == addr && !expired(set[w], now)) return &set[w];
    return nullptr;
  }
  Entry* find(const IpAddress& addr, std::uint32_t now) {
    return const_cast<Entry*>(std::as_const(*this).find(addr, now));
  }

  // A blank entry for addr, which find() has just missed: a free or expired
  // way of its set, else the set's least recently used one.
  Entry& claim(const IpAddress& addr, std::uint32_t now) {
    Entry* set = set_of(addr);
    Entry* victim = &set[0];
    for (std::size_t w = 0; w < kWays; ++w) {
      if (!set[w].used || expired(set[w], now)) {
        victim = &set[w];
        break;
      }
      if (now - set[w].last_use > now - victim->last_use) victim = &set[w];  // older, wrap-safe
    }
    *victim = Entry{addr, now, true, Value{}};
    return *victim;
  }

  std::size_t capacity() const { return entries_.size(); }
  std::size_t live(std::uint32_t now) const {
    std::size_t n = 0;
    for (const auto& e : entries_) n += e.used && !expired(e, now);
    return n;
  }

 private:
  bool expired(const Entry& e, std::uint32_t now) const { return now - e.last_use >= expiration_s_; }
  const Entry* set_of(const IpAddress& addr) const {
    return &entries_[(hash_address(addr, 0) & set_mask_) * kWays];
  }
  Entry* set_of(const IpAddress& addr) { return &entries_[(hash_address(addr, 0) & set_mask_) * kWays]; }

  std::vector<Entry> entries_;
  std::size_t set_mask_;
  std::uint32_t expiration_s_;
};

// IPVS's lblc/lblcr "overloaded": more active connections than its weight
// while some other server runs below half of its own. Only then does a
// destination leave its cached server, so locality wins over balance until
// the imbalance is real.
inline bool locality_overloaded(std::span<const DestView> dests, const DestView& d) {
  if (active_conns(d) <= d.weight) return false;
  for (const auto& m : dests)
    if (dest_available(m) && active_conns(m) * 2 < m.weight) return true;
  return false;
}

}  // namespace vsd
