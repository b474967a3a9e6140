// The Prometheus text exposition (format 0.0.4) writer and the metric
// groups beside vsd's own (metrics.cpp): node_exporter's IPVS collector
// series (metrics_ipvs.cpp), process_* and the reload status
// (metrics_process.cpp). Internal to the metrics; the entry point is
// render_metrics (metrics.hpp).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "appliance/control/status.hpp"
#include "appliance/daemon/metrics.hpp"

namespace vsd {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// The format wants every sample of a family contiguous after its HELP/TYPE,
// but the status JSON is organised per service. So samples are collected per
// family and written out in the order the families were declared.
class Exposition {
 public:
  void family(const std::string& name, const char* type, const std::string& help);
  template <class T>
    requires std::is_integral_v<T>
  void sample(const std::string& name, const MetricLabels& labels, T value) {
    sample_integer(name, labels, static_cast<std::uint64_t>(value));
  }
  void sample(const std::string& name, const MetricLabels& labels, double value);
  std::string str() const;

 private:
  void sample_integer(const std::string& name, const MetricLabels& labels, std::uint64_t value);
  std::string& begin_sample(const std::string& name, const MetricLabels& labels);
  struct Family {
    std::string name, type, help, samples;
  };
  std::vector<Family> families_;
  std::map<std::string, std::size_t> index_;
};

// node_exporter's label values for a service and a real server, exactly as
// its IPVS collector derives them from /proc/net/ip_vs (procfs):
// proto "TCP" / "UDP" / "FWM"; local_address the VIP as Go prints an IP
// (IPv6 compressed, no brackets; "" for a fwmark service), local_port in
// decimal ("0" for fwmark), local_mark the mark as the kernel prints it,
// %08X ("00000007"; "" for TCP/UDP); remote_* the real server's.
MetricLabels ipvs_service_labels(const control::ServiceStatus& s);  // proto, local_*
MetricLabels ipvs_real_labels(const control::ServiceStatus& s, const control::RealStatus& r);

// node_ipvs_* (node_exporter's names, help texts and label order).
// `totals`: node_ipvs_*_total (IpvsTotals); unset: the services' sums.
void ipvs_metrics(Exposition& e, const control::Status& status, const std::optional<control::Traffic>& totals);
// process_* (client_golang's names) and vsd_config_last_reload_*.
void process_metrics(Exposition& e, const ProcessStats& p);
void reload_metrics(Exposition& e, const ReloadStatus& r);

}  // namespace vsd
