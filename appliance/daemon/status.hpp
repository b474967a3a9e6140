// The daemon's state as JSON for the control socket: vsadm renders it in
// ipvsadm layouts, `vsadm --json` passes it through.
#pragma once

#include <nlohmann/json.hpp>

#include "appliance/core/engine.hpp"
#include "appliance/core/service_snapshot.hpp"

namespace vsd {

struct DaemonInfo {
  std::string version;
  std::string queue_form;
  std::uint64_t uptime_s = 0;
  std::uint32_t connections = 0;
  std::uint32_t max_connections = 0;
  nlohmann::json counters = nlohmann::json::object();  // engine verdict counters
  nlohmann::json queues = nlohmann::json::array();     // per NFQUEUE socket
};

struct EngineCounters;
// {"packets":..,"malformed":{"fragment":..,...},"no_connection":..,...}
nlohmann::json counters_json(const EngineCounters& c);

// {"version":..,"services":[{"protocol":"tcp","address":"192.0.2.10:80",
//   "scheduler":"wrr","reals":[{"address":..,"forward":"nat","weight":3,
//   "active_conns":0,"inactive_conns":0,"stats":{...}}],"stats":{...}}]}
nlohmann::json status_json(const ServiceSnapshot& snap, const DaemonInfo& info);

// ipvsadm -L -c: every connection and persistence template (fields in
// ipvsadm_format.hpp). Reads the table: call it on the data-path thread.
nlohmann::json connections_json(const ConnTable& table, std::uint32_t now);

}  // namespace vsd
