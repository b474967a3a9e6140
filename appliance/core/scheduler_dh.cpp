#include "appliance/core/scheduler_dh.hpp"

namespace vsd {

DestinationHashScheduler::DestinationHashScheduler(std::span<const DestView> dests) {
  const std::size_t n = dests.size();
  for (std::size_t b = 0; b < kBuckets; ++b)
    buckets_[b] = n ? static_cast<std::int32_t>(b % n) : -1;
}

int DestinationHashScheduler::schedule(std::span<const DestView> dests, const PacketView& pkt) {
  const int d = buckets_[bucket_of(pkt.dst)];
  return d >= 0 && d < static_cast<int>(dests.size()) && dest_available(dests[d]) ? d : -1;
}

}  // namespace vsd
