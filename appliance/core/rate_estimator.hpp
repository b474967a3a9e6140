// Rates like IPVS's estimator (ip_vs_est.c): every 2 seconds the counters'
// growth becomes a per-second rate, smoothed by an EWMA with weight 1/4,
// so `vsadm -L --rate` reads like `ipvsadm -L --rate`. Pure: the caller's
// timer drives tick(); tested without sleeping.
#pragma once

#include <array>
#include <cstdint>

namespace vsd {

// The ipvsadm --stats columns at one moment: conns, inpkts, outpkts,
// inbytes, outbytes.
using TrafficSample = std::array<std::uint64_t, 5>;

class RateEstimate {
 public:
  static constexpr double kIntervalS = 2.0;  // IPVS estimates every 2 s

  // Samples the counters; `elapsed_s` is the time since the last tick.
  void tick(const TrafficSample& now, double elapsed_s = kIntervalS);
  void reset() { *this = RateEstimate{}; }

  double cps() const { return avg_[0]; }
  double inpps() const { return avg_[1]; }
  double outpps() const { return avg_[2]; }
  // IPVS's "bps" are bytes per second, not bits.
  double inbps() const { return avg_[3]; }
  double outbps() const { return avg_[4]; }

 private:
  std::array<std::uint64_t, 5> last_{};
  std::array<double, 5> avg_{};
  bool primed_ = false;
};

}  // namespace vsd
