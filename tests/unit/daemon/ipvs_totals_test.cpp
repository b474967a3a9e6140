// node_ipvs_*_total never go back: a removed service's counts stay in the
// totals, as in /proc/net/ip_vs_stats; ipvsadm -Z of everything zeroes them.
#include "appliance/daemon/ipvs_totals.hpp"

#include <gtest/gtest.h>

#include "appliance/daemon/metrics.hpp"

namespace vsd {
namespace {

control::ServiceStatus service(const char* vip, std::uint64_t conns, std::uint64_t inbytes) {
  control::ServiceStatus s;
  s.address = *Endpoint::parse(vip);
  s.stats.conns = conns;
  s.stats.inbytes = inbytes;
  return s;
}

TEST(IpvsTotals, ARemovedServiceKeepsItsCountsInTheTotals) {
  IpvsTotals t;
  control::Status st;
  st.services = {service("192.0.2.10:80", 5, 500), service("192.0.2.11:80", 3, 300)};
  EXPECT_EQ(t.update(st).conns, 8u);
  st.services[0].stats.conns = 7;  // it went on counting before it went
  st.services[0].stats.inbytes = 700;
  EXPECT_EQ(t.update(st).conns, 10u);
  st.services.erase(st.services.begin());
  control::Traffic after = t.update(st);
  EXPECT_EQ(after.conns, 10u);
  EXPECT_EQ(after.inbytes, 1000u);
  st.services[0].stats.conns = 4;
  EXPECT_EQ(t.update(st).conns, 11u);
}

TEST(IpvsTotals, CountsThatGoDownWereRemovedAndAddedAgain) {
  IpvsTotals t;
  control::Status st;
  st.services = {service("192.0.2.10:80", 5, 500)};
  t.update(st);
  st.services[0].stats.conns = 1;  // removed and re-added (or zeroed alone) between two looks
  st.services[0].stats.inbytes = 10;
  control::Traffic now = t.update(st);
  EXPECT_EQ(now.conns, 6u);
  EXPECT_EQ(now.inbytes, 510u);
}

TEST(IpvsTotals, ZeroingEveryServiceZeroesTheTotals) {
  IpvsTotals t;
  control::Status st;
  st.services = {service("192.0.2.10:80", 5, 500)};
  t.update(st);
  st.services.clear();
  EXPECT_EQ(t.update(st).conns, 5u);
  t.zero_all();
  EXPECT_EQ(t.update(st).conns, 0u);
}

TEST(IpvsTotals, TheMetricsUseThem) {
  control::Status st;
  st.services = {service("192.0.2.10:80", 2, 20)};
  control::Traffic totals;
  totals.conns = 9;
  MetricsExtras x;
  x.ipvs_totals = totals;
  const std::string text = render_metrics(st, x);
  EXPECT_NE(text.find("\nnode_ipvs_connections_total 9\n"), std::string::npos) << text;
  EXPECT_NE(render_metrics(st).find("\nnode_ipvs_connections_total 2\n"), std::string::npos);
}

}  // namespace
}  // namespace vsd
