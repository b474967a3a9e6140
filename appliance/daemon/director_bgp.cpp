// The director's part in scale-out (README "Scale-out"): with [bgp], the
// VIPs whose services can serve are announced through bird; the rest, and
// all of them when vsd stops or dies, are withdrawn (bgp_announcer.hpp).
#include <spdlog/spdlog.h>

#include "appliance/daemon/bgp_routes.hpp"
#include "appliance/daemon/director.hpp"

namespace vsd {

void Director::start_bgp() {
  if (!config_.bgp.enabled()) return;
  bgp_ = std::make_unique<BgpAnnouncer>(config_.bgp);
  announce_bgp(policy_.effective(config_, clock_.now_ms()), "");
}

void Director::announce_bgp(const Config& effective, const std::string& why) {
  if (!bgp_) return;
  bgp_->announce(vips_to_announce(effective, [this](const std::string& label) { return policy_.quorum_up(label); }),
                 why);
}

}  // namespace vsd
