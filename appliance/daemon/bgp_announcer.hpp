// Scale-out's adapter to the kernel and to bird (README "Scale-out"):
//  - a TUN device named [bgp] interface, held open for vsd's lifetime and
//    not persistent: the kernel removes it when vsd exits or dies, and
//    bird's static routes through it (check link) go with it, so a crashed
//    vsd's VIPs are withdrawn without anyone cleaning up;
//  - the routes files bird includes (bgp_routes.hpp), replaced atomically;
//  - `birdc -s SOCKET configure` after each change, so bird re-reads them.
// Each VIP announced or withdrawn is one log line with the reason.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "appliance/config/config.hpp"

namespace vsd {

class BgpAnnouncer {
 public:
  // Creates the device and writes empty routes files (bird must find them
  // at its start); throws std::runtime_error naming what failed.
  explicit BgpAnnouncer(BgpConfig bgp);
  ~BgpAnnouncer();  // withdraws everything, then the device goes
  BgpAnnouncer(const BgpAnnouncer&) = delete;
  BgpAnnouncer& operator=(const BgpAnnouncer&) = delete;

  // Announces exactly `vips`; logs each change with `why` (empty: whether
  // a service on the VIP can serve).
  void announce(const std::vector<IpAddress>& vips, const std::string& why);
  const std::set<IpAddress>& announced() const { return announced_; }

 private:
  bool write_files(const std::set<IpAddress>& vips, std::string* error) const;
  void reload_bird();

  BgpConfig bgp_;
  int tun_fd_ = -1;
  std::set<IpAddress> announced_;
  bool bird_warned_ = false;
};

}  // namespace vsd
