#include "appliance/core/scheduler_sh.hpp"

namespace vsd {

SourceHashScheduler::SourceHashScheduler(std::span<const DestView> dests, bool fallback,
                                         bool use_port)
    : fallback_(fallback), use_port_(use_port) {
  buckets_.fill(-1);
  if (dests.empty()) return;
  std::size_t d = 0;
  std::uint32_t run = 0;
  for (auto& b : buckets_) {
    b = static_cast<std::int32_t>(d);
    if (++run >= dests[d].weight) {
      run = 0;
      d = (d + 1) % dests.size();
    }
  }
}

int SourceHashScheduler::schedule(std::span<const DestView> dests, const PacketView& pkt) {
  const std::size_t home = bucket_of(pkt.src, use_port_ ? pkt.sport : 0);
  const int n = static_cast<int>(dests.size());
  const std::size_t tries = fallback_ ? kBuckets : 1;
  for (std::size_t i = 0; i < tries; ++i) {
    const int d = buckets_[(home + i) % kBuckets];
    if (d >= 0 && d < n && dest_available(dests[d])) return d;
  }
  return -1;
}

}  // namespace vsd
