#include "appliance/core/rate_estimator.hpp"

namespace vsd {

void RateEstimate::tick(const TrafficSample& now, double elapsed_s) {
  if (primed_ && elapsed_s > 0) {
    for (std::size_t i = 0; i < now.size(); ++i) {
      // Counters zeroed (vsadm -Z) in between: start over from zero growth.
      double grown = now[i] >= last_[i] ? static_cast<double>(now[i] - last_[i]) : 0.0;
      double rate = grown / elapsed_s;
      avg_[i] += (rate - avg_[i]) / 4;  // IPVS: avg += (rate - avg) >> 2
    }
  }
  last_ = now;
  primed_ = true;
}

}  // namespace vsd
