// Prometheus text exposition (format 0.0.4) of the daemon's status JSON, so
// a scraper sees the same numbers as `vsadm --json`. Pure: the HTTP side is
// MetricsServer (metrics_server.hpp).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace vsd {

// Every family present in `status` (Director::status() layout); fields that
// are absent are skipped, so an older or partial status still renders.
std::string render_metrics(const nlohmann::json& status);

// A label value escaped as the format requires: \ " and newline.
std::string escape_label_value(const std::string& v);

}  // namespace vsd
