#pragma once

#include <array>

#include "appliance/core/scheduler_common.hpp"

namespace vsd {

// sh: source hashing (ip_vs_sh.c): a client IP (with sh-port, IP and source
// port) always reaches the same server while the server set is unchanged.
// 256 buckets are dealt in list order, each server taking a run of `weight`
// consecutive buckets per round (a weight-0 server takes one, as in IPVS),
// so the share is proportional to weight as long as the weights sum to at
// most 256; beyond that the rounds are cut short, as in IPVS.
//
// A hashed server that is unavailable (weight 0 or overloaded) gets -1,
// unless sh-fallback: then the buckets after it are tried in turn, so its
// clients spread over the next servers while everyone else stays put.
class SourceHashScheduler final : public Scheduler {
 public:
  static constexpr std::size_t kBuckets = 256;

  SourceHashScheduler(std::span<const DestView> dests, bool fallback, bool use_port);
  std::string_view name() const override { return "sh"; }
  int schedule(std::span<const DestView> dests, const PacketView& pkt) override;

  static std::size_t bucket_of(const IpAddress& src, std::uint16_t port) {
    return hash_address(src, port) >> 56;
  }
  std::span<const std::int32_t> buckets() const { return buckets_; }

 private:
  std::array<std::int32_t, kBuckets> buckets_;  // dest index, -1 = none
  bool fallback_;
  bool use_port_;
};

}  // namespace vsd
