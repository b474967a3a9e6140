// The director role of the daemon: wires config, engine, NFQUEUE sockets,
// nftables ruleset, node settings and the control socket, and tears them
// down in the reverse order (the ruleset first, so the kernel stops queueing
// before nobody answers).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "appliance/asio.hpp"
#include <nlohmann/json.hpp>

#include "appliance/clock.hpp"
#include "appliance/config/config.hpp"
#include "appliance/core/engine.hpp"
#include "appliance/health/health_monitor.hpp"
#include "appliance/health/notifier.hpp"
#include "appliance/health/quorum.hpp"
#include "appliance/daemon/node_plan.hpp"
#include "appliance/daemon/snapshot_spec.hpp"
#include "appliance/daemon/sysctl_guard.hpp"
#include "nfq/ruleset.hpp"
#include "nfq/transmitter.hpp"

namespace vsd {

namespace arp {
class Announcer;
}
class DataPlane;
class ControlServer;
class MetricsServer;

class Director {
 public:
  Director(Config config, std::string config_path, NodeFacts facts);
  ~Director();
  // Runs until SIGINT/SIGTERM; returns the process exit code.
  int run();

 private:
  // director_network.cpp: the node's sysctls, the DR/TUN real servers' way
  // out (routes, neighbours), and the gratuitous ARP for the VIPs.
  void apply_node_settings();
  // Re-reads every DR/TUN real server's route and MAC, publishes changes,
  // re-arms its timer; true while one of them has no MAC / outer source.
  bool refresh_egress();
  // Announces `vips` (all of the config's when empty); returns how many.
  std::size_t announce_vips(std::vector<IpAddress> vips);
  void announce_added_vips(const Config& before);
  void open_queues_and_rules();
  nlohmann::json handle(const nlohmann::json& request);
  nlohmann::json status();
  bool reload(std::string* summary);
  // Installs the ruleset for `next` and publishes its snapshot; on failure
  // nothing changes and *error says why.
  bool apply_config(Config next, const std::string& why, std::string* error);
  nlohmann::json edit(const nlohmann::json& commands);
  nlohmann::json zero(const nlohmann::json& service);
  void arm_estimator();
  // What the data path serves: config_ with health applied (a failed real
  // server quiesced or removed, the sorry server while none is healthy).
  Config effective_config() const;
  void sync_health_targets();
  void on_health(const std::string& id, bool up, const std::string& reason);
  void publish_effective();
  void match_queue_gso();

  Config config_;
  std::string config_path_;
  NodeFacts facts_;
  EgressTable egress_;                       // DR/TUN real servers' way out
  std::map<IpAddress, std::string> egress_note_;  // last logged per real server
  SteadyClock clock_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  Engine engine_;
  SysctlGuard sysctls_;
  nfq::QueueForm queue_form_ = nfq::QueueForm::native;
  bool rules_installed_ = false;
  std::string table_ = "vsd";
  boost::asio::io_context io_;
  boost::asio::steady_timer estimator_{io_};
  health::HealthMonitor health_{io_, clock_};
  std::map<std::string, bool> health_up_;  // target id -> up
  std::map<std::string, std::uint64_t> recovered_ms_;  // target id -> last down->up (slow start)
  std::map<std::string, bool> sorry_active_;  // service label -> sorry server serving
  std::map<std::string, health::QuorumTracker> quorum_;  // service label -> quorum state
  health::Notifier notifier_{io_};                        // quorum_up / quorum_down commands
  boost::asio::steady_timer slow_start_timer_{io_};
  // Declared after io_: timers must be built after and destroyed before it.
  boost::asio::steady_timer egress_timer_{io_};
  std::uint64_t tx_errors_reported_ = 0;
  std::map<IpAddress, unsigned> unresolved_rounds_;  // DR real server -> rounds without a MAC
  void report_transmit_errors();
  std::unique_ptr<arp::Announcer> announcer_;
  void check_quorum(const Config& effective);
  nfq::Transmitter transmitter_;  // before data_plane_: it outlives the data thread
  std::unique_ptr<DataPlane> data_plane_;
  std::unique_ptr<ControlServer> control_;
  std::unique_ptr<MetricsServer> metrics_;
};

}  // namespace vsd
