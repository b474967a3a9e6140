// IPVS-style 2-second rate estimation: growth per second, EWMA weight 1/4.
#include "appliance/core/rate_estimator.hpp"

#include <gtest/gtest.h>

#include "appliance/core/dest_state.hpp"

namespace vsd {
namespace {

TEST(RateEstimate, ConvergesToTheSteadyRateWithWeightOneQuarter) {
  TrafficCounters t;
  RateEstimate r;
  r.tick(t.sample());  // primes: no rate from the first sample
  EXPECT_EQ(r.cps(), 0.0);
  // 100 connections and 2000 bytes in per 2 s tick: 50 cps, 1000 B/s.
  t.conns.add(100);
  t.inbytes.add(2000);
  r.tick(t.sample());
  EXPECT_DOUBLE_EQ(r.cps(), 12.5);  // 0 + (50 - 0) / 4
  EXPECT_DOUBLE_EQ(r.inbps(), 250.0);
  for (int i = 0; i < 40; ++i) {
    t.conns.add(100);
    t.inbytes.add(2000);
    r.tick(t.sample());
  }
  EXPECT_NEAR(r.cps(), 50.0, 0.01);
  EXPECT_NEAR(r.inbps(), 1000.0, 0.1);
  EXPECT_EQ(r.outpps(), 0.0);
}

TEST(RateEstimate, ZeroedCountersDoNotMakeANegativeRate) {
  TrafficCounters t;
  RateEstimate r;
  t.inpkts.add(1000);
  r.tick(t.sample());
  t.inpkts.reset();  // vsadm -Z between two ticks
  r.tick(t.sample());
  EXPECT_GE(r.inpps(), 0.0);
}

}  // namespace
}  // namespace vsd
