// Prometheus text exposition (format 0.0.4) of the daemon's status, so a
// scraper sees the same numbers as `vsadm --json`. Pure: the HTTP side is
// MetricsServer (metrics_server.hpp).
#pragma once

#include <optional>
#include <string>

#include "appliance/control/status.hpp"
#include "appliance/daemon/process_stats.hpp"

namespace vsd {

// The configuration's reloads, as Prometheus reports its own
// (prometheus_config_last_reload_*): the start counts as a successful one.
struct ReloadStatus {
  bool last_successful = true;
  double last_success_seconds = 0;  // since the Unix epoch
  void record(bool ok, double now_seconds) {
    last_successful = ok;
    if (ok) last_success_seconds = now_seconds;
  }
};

// What the status does not carry: the process and the reloads.
struct MetricsExtras {
  std::optional<ProcessStats> process;
  std::optional<ReloadStatus> reload;
  // node_ipvs_*_total (IpvsTotals); unset: the services' sums.
  std::optional<control::Traffic> ipvs_totals;
};

// Every family with a sample; a family without (no queues, no health
// checks) is left out whole.
std::string render_metrics(const control::Status& status, const MetricsExtras& extras = {});

// A label value escaped as the format requires: \ " and newline.
std::string escape_label_value(const std::string& v);

// Seconds since the Unix epoch, now (for ReloadStatus).
double unix_now_seconds();

}  // namespace vsd
