#pragma once

#include "appliance/core/scheduler_locality.hpp"

namespace vsd {

// lblc: locality-based least connection (ip_vs_lblc.c), for cache clusters:
// a destination IP sticks to the server it was first given, so each cache
// holds its own part of the content. A destination goes to a new server
// (wlc over all) when it has none, its server is unavailable, or its
// server is overloaded in IPVS's sense (locality_overloaded); the new
// server then replaces the old in the table.
class LocalityLeastConnectionScheduler final : public Scheduler {
 public:
  explicit LocalityLeastConnectionScheduler(const Clock& clock,
                                            std::size_t capacity = kLocalityCapacity,
                                            std::uint32_t expiration_s = kLocalityExpirationS);
  std::string_view name() const override { return "lblc"; }
  int schedule(std::span<const DestView> dests, const PacketView& pkt) override;

  // The server cached for a destination, -1 if none (tests, diagnostics).
  int cached(const IpAddress& dst) const;
  std::size_t entries() const { return table_.live(clock_.now_s()); }

 private:
  const Clock& clock_;
  LocalityTable<std::int32_t> table_;
};

}  // namespace vsd
