// The director under supervision: what systemd is told (sd_notify.hpp),
// the watchdog fed by the data threads (watchdog.hpp), and the watch that
// puts vsd's nft tables back after a flush (table_watch.hpp).
// glibc's netinet/in.h (through asio) before the kernel's uapi headers.
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <spdlog/spdlog.h>

#include "appliance/daemon/data_plane.hpp"
#include "appliance/daemon/director.hpp"
#include "appliance/daemon/ruleset_spec.hpp"
#include "appliance/daemon/sd_notify.hpp"
#include "appliance/daemon/table_watch.hpp"
#include "appliance/daemon/watchdog.hpp"

namespace vsd {

void Director::start_supervision() {
  reload_status_.record(true, unix_now_seconds());  // the start is the first load
  table_watch_ = std::make_unique<TableWatch>(io_);
  table_watch_->watch(
      {{NFPROTO_IPV4, table_}, {NFPROTO_IPV6, table_}},
      [this] { nfq::install(make_ruleset_spec(config_, table_, plan_), queue_form_); },
      plan_.marks.enabled()
          ? "lost with the tables: the fast path's DR/TUN flow maps (those flows come to vsd "
            "again and are re-learnt) and its per-real-server kernel counters (their packets and "
            "bytes restart from 0); conntrack entries, and the NAT flows in them, survive"
          : "");
  table_watch_->start();
  watchdog_ = std::make_unique<Watchdog>(io_, sd::watchdog_interval(), heartbeats_of(*data_plane_),
                                         queue_names_of(*data_plane_));
  watchdog_->start();
  sd::ready(sd::director_summary(config_) + "; ready since " + sd::clock_time());
}

control::Outcome Director::reload() {
  sd::reloading("reloading " + config_path_);
  control::Outcome outcome = reload_file();
  reload_status_.record(outcome.ok, unix_now_seconds());
  sd::ready(outcome.ok ? sd::director_summary(config_) + "; reloaded at " + sd::clock_time()
                       : sd::director_summary(config_) + "; " + outcome.text + " (at " +
                             sd::clock_time() + ")");
  return outcome;
}

}  // namespace vsd
