// node_exporter's node_ipvs_*_total, as /proc/net/ip_vs_stats gives them:
// counters of everything IPVS ever carried, which never go back while the
// module stays loaded (a service's removal or its own `ipvsadm -Z` leaves
// them alone; `ipvsadm -Z` of every service zeroes them too,
// ip_vs_zero_all). vsd's status holds only the services that exist now,
// so their sum would drop when one goes, and rate() would read a counter
// reset. This keeps, per service, the counts it last saw, and adds them to
// what is gone when the service disappears or its counts go down (removed
// and added again, or zeroed on its own, between two looks). The director
// looks at every scrape and before every configuration change, so what a
// removed service counted since the last scrape is kept too.
#pragma once

#include <map>
#include <string>

#include "appliance/control/status.hpp"

namespace vsd {

class IpvsTotals {
 public:
  // The totals now: the services' counts plus what is gone.
  control::Traffic update(const control::Status& status);
  // ipvsadm -Z (every service): IPVS zeroes its totals too.
  void zero_all();

 private:
  std::map<std::string, control::Traffic> last_;  // by service (protocol, VIP, port / mark, family)
  control::Traffic gone_;
};

}  // namespace vsd
