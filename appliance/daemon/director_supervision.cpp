// The director under supervision: what systemd is told (sd_notify.hpp)
// and the watchdog fed by the data threads (watchdog.hpp).
#include <spdlog/spdlog.h>

#include "appliance/daemon/data_plane.hpp"
#include "appliance/daemon/director.hpp"
#include "appliance/daemon/sd_notify.hpp"
#include "appliance/daemon/watchdog.hpp"

namespace vsd {

void Director::start_supervision() {
  watchdog_ = std::make_unique<Watchdog>(io_, sd::watchdog_interval(), heartbeats_of(*data_plane_),
                                         queue_names_of(*data_plane_));
  watchdog_->start();
  sd::ready(sd::director_summary(config_) + "; ready since " + sd::clock_time());
}

control::Outcome Director::reload() {
  sd::reloading("reloading " + config_path_);
  control::Outcome outcome = reload_file();
  sd::ready(outcome.ok ? sd::director_summary(config_) + "; reloaded at " + sd::clock_time()
                       : sd::director_summary(config_) + "; " + outcome.text + " (at " +
                             sd::clock_time() + ")");
  return outcome;
}

}  // namespace vsd
