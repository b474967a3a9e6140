#pragma once

#include <array>

#include "appliance/core/scheduler_locality.hpp"

namespace vsd {

// lblcr: locality-based least connection with replication (ip_vs_lblcr.c).
// Like lblc, but a destination IP maps to a set of servers, for content too
// popular for one cache: the least loaded member (overhead/weight) serves
// it; when that member is overloaded (locality_overloaded) or none is
// available, the wlc pick over all servers serves it and joins the set. A
// set that has not changed for the expiration time sheds its most loaded
// member; a shed is a change, so a set shrinks by one member per expiration
// period once the rush is over.
class LocalityReplicationScheduler final : public Scheduler {
 public:
  // Members oldest first. A destination needing more than kMax servers at
  // once replaces the most loaded member; IPVS's list has no cap, but a set
  // only grows while all its members are overloaded.
  struct DestSet {
    static constexpr std::size_t kMax = 8;
    std::array<std::int32_t, kMax> members{};
    std::uint8_t size = 0;
    std::uint32_t lastmod = 0;  // Clock::now_s() of the last insert or erase

    std::span<const std::int32_t> view() const { return {members.data(), size}; }
  };

  explicit LocalityReplicationScheduler(const Clock& clock,
                                        std::size_t capacity = kLocalityCapacity,
                                        std::uint32_t expiration_s = kLocalityExpirationS);
  std::string_view name() const override { return "lblcr"; }
  int schedule(std::span<const DestView> dests, const PacketView& pkt) override;

  // The set for a destination, empty if none (tests, diagnostics).
  std::span<const std::int32_t> server_set(const IpAddress& dst) const;
  std::size_t entries() const { return table_.live(clock_.now_s()); }

 private:
  void insert(DestSet& set, int d, std::span<const DestView> dests, std::uint32_t now);

  const Clock& clock_;
  LocalityTable<DestSet> table_;
  std::uint32_t expiration_s_;
};

}  // namespace vsd
