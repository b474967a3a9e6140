// process_* as every Prometheus client library exports them (client_golang's
// names and help), and the configuration's reload status as Prometheus
// reports its own (prometheus_config_last_reload_*).
#include "appliance/daemon/metrics_exposition.hpp"

namespace vsd {

void process_metrics(Exposition& e, const ProcessStats& p) {
  e.family("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
  e.family("process_open_fds", "gauge", "Number of open file descriptors.");
  e.family("process_max_fds", "gauge", "Maximum number of open file descriptors.");
  e.family("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
  e.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  e.family("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.");
  e.family("vsd_threads", "gauge", "Threads of the vsd process (control, one per NFQUEUE, health checks).");
  e.sample("process_cpu_seconds_total", {}, p.cpu_seconds);
  e.sample("process_open_fds", {}, p.open_fds);
  if (p.max_fds) e.sample("process_max_fds", {}, p.max_fds);
  e.sample("process_virtual_memory_bytes", {}, p.virtual_memory_bytes);
  e.sample("process_resident_memory_bytes", {}, p.resident_memory_bytes);
  e.sample("process_start_time_seconds", {}, p.start_time_seconds);
  e.sample("vsd_threads", {}, p.threads);
}

void reload_metrics(Exposition& e, const ReloadStatus& r) {
  e.family("vsd_config_last_reload_successful", "gauge",
           "Whether the last configuration reload attempt was successful.");
  e.family("vsd_config_last_reload_success_timestamp_seconds", "gauge",
           "Timestamp of the last successful configuration reload (the start counts).");
  e.sample("vsd_config_last_reload_successful", {}, static_cast<std::uint64_t>(r.last_successful));
  e.sample("vsd_config_last_reload_success_timestamp_seconds", {}, r.last_success_seconds);
}

}  // namespace vsd
