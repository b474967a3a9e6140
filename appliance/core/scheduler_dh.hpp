#pragma once

#include <array>

#include "appliance/core/scheduler_common.hpp"

namespace vsd {

// dh: destination hashing (ip_vs_dh.c), for caches and gateways where the
// same destination IP should always reach the same server. 256 buckets,
// dealt to the servers in list order one at a time, round and round. As in
// IPVS, weights do not shape the table (dh predates weighted buckets): a
// server of weight 0 keeps its buckets and the destinations hashed to them
// get no server, the same as when it is overloaded. There is no fallback.
class DestinationHashScheduler final : public Scheduler {
 public:
  static constexpr std::size_t kBuckets = 256;

  explicit DestinationHashScheduler(std::span<const DestView> dests);
  std::string_view name() const override { return "dh"; }
  int schedule(std::span<const DestView> dests, const PacketView& pkt) override;

  static std::size_t bucket_of(const IpAddress& dst) { return hash_address(dst, 0) >> 56; }
  std::span<const std::int32_t> buckets() const { return buckets_; }

 private:
  std::array<std::int32_t, kBuckets> buckets_;  // dest index, -1 = none
};

}  // namespace vsd
