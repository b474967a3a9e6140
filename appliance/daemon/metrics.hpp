// Prometheus text exposition (format 0.0.4) of the daemon's status, so a
// scraper sees the same numbers as `vsadm --json`. Pure: the HTTP side is
// MetricsServer (metrics_server.hpp).
#pragma once

#include <string>

#include "appliance/control/status.hpp"

namespace vsd {

// Every family with a sample; a family without (no queues, no health
// checks) is left out whole.
std::string render_metrics(const control::Status& status);

// A label value escaped as the format requires: \ " and newline.
std::string escape_label_value(const std::string& v);

}  // namespace vsd
