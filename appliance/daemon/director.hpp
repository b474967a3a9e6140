// The director role of the daemon: wires config, engine, NFQUEUE sockets,
// nftables ruleset, node settings and the control socket, and tears them
// down in the reverse order (the ruleset first, so the kernel stops queueing
// before nobody answers).
#pragma once

#include <chrono>
#include <map>
#include <set>
#include <memory>
#include <string>

#include "appliance/asio.hpp"

#include "appliance/clock.hpp"
#include "appliance/config/config.hpp"
#include "appliance/core/engine.hpp"
#include "appliance/health/health_monitor.hpp"
#include "appliance/health/notifier.hpp"
#include "appliance/control/protocol.hpp"
#include "appliance/daemon/egress_report.hpp"
#include "appliance/daemon/bgp_announcer.hpp"
#include "appliance/daemon/decision_numbers.hpp"
#include "appliance/daemon/fast_path_plan.hpp"
#include "appliance/daemon/ha_configs.hpp"
#include "appliance/daemon/ha_sync.hpp"
#include "appliance/daemon/health_policy.hpp"
#include "appliance/daemon/instance_lock.hpp"
#include "appliance/daemon/ipvs_totals.hpp"
#include "appliance/daemon/kernel_flows.hpp"
#include "appliance/daemon/metrics.hpp"
#include "appliance/daemon/table_watch.hpp"
#include "appliance/daemon/watchdog.hpp"
#include "appliance/daemon/node_plan.hpp"
#include "appliance/daemon/node_state.hpp"
#include "appliance/daemon/snapshot_spec.hpp"
#include "appliance/daemon/sysctl_guard.hpp"
#include "appliance/daemon/tunnel_devices.hpp"
#include "nfq/ruleset.hpp"
#include "nfq/transmitter.hpp"

namespace vsd {

namespace arp {
class Announcer;
}
class DataPlane;
class ControlServer;
class MetricsServer;

class Director : public control::Handler {
 public:
  Director(Config config, std::string config_path, NodeFacts facts);
  ~Director() override;
  // Runs until SIGINT/SIGTERM; returns the process exit code.
  int run();

  // control::Handler: the control socket's commands (control/protocol.hpp).
  control::Status status() override;
  std::unique_ptr<control::ConnectionCursor> connections() override;
  control::Outcome edit(const std::vector<IpvsadmCommand>& commands) override;
  control::Outcome zero(const std::optional<IpvsadmService>& service) override;
  control::Outcome reload() override;
  std::string save_toml() override;
  control::Outcome garp() override;
  control::Outcome sync_daemon(const IpvsadmCommand& command) override;

 private:
  // director_network.cpp: the node's sysctls, the DR/TUN real servers' way
  // out (routes, neighbours), and the gratuitous ARP for the VIPs.
  void apply_node_settings();
  // Re-reads every DR/TUN real server's route and MAC, publishes changes,
  // re-arms its timer; true while one of them has no MAC / outer source.
  bool refresh_egress();
  void report_transmit_errors();
  // Announces `vips` (all of the config's when empty); returns how many.
  std::size_t announce_vips(std::vector<IpAddress> vips);
  void announce_added_vips(const Config& before);

  void open_queues_and_rules();
  // The kernel fast path: its plan (which services, which marks), the
  // decision numbers kept beside the control socket, and the adapter that
  // follows the kernel's flows.
  void start_kernel_flows();
  void probe_fast_path();
  // The kernel TUN path: what the kernel makes, and the manager of the
  // tunnel devices the egress watch keeps in step (tunnel_devices.hpp).
  void start_tunnels();
  void replan();
  NodeOffers node_offers() const;
  void log_plan();
  std::string numbers_path() const;
  // Installs the ruleset for `next` and publishes its snapshot; on failure
  // nothing changes and *error says why.
  bool apply_config(Config next, const std::string& why, std::string* error);
  void match_queue_gso();
  void arm_estimator();
  // Health: the checks the configuration asks for, a check's transition,
  // and publishing what the data path serves (health applied).
  void sync_health_targets();
  void on_health(const std::string& id, bool up, const std::string& reason);
  void publish_effective();
  void end_removed_kernel_flows();
  void save_node_state();
  // director_ha.cpp: the pair's sync socket from [ha]; whether this node
  // announces the VIPs (alone, or the pair's master); -L --daemon.
  void start_ha();
  bool ha_announces() const;
  std::vector<control::SyncDaemonStatus> sync_daemons_status() const;
  // director_bgp.cpp: scale-out's announcements ([bgp]) from the
  // effective configuration.
  void start_bgp();
  void announce_bgp(const Config& effective, const std::string& why);
  // director_supervision.cpp: once started, systemd told READY=1, the
  // watchdog fed by the data threads, the nft tables watched and put back;
  // reload() tells systemd and the metrics around reload_file().
  void start_supervision();
  control::Outcome reload_file();

  Config config_;
  std::string config_path_;
  NodeFacts facts_;
  EgressTable egress_;                              // DR/TUN real servers' way out
  std::map<IpAddress, std::string> dr_devices_;     // DR real server -> interface (fast path)
  rtnl::TunnelSupport tunnel_support_;              // ipip / ip6tnl in this kernel (fast path on)
  std::unique_ptr<TunnelDevices> tunnels_;
  std::map<IpAddress, std::string> tun_devices_;    // TUN real server -> tunnel device (fast path)
  std::map<IpAddress, IpAddress> tun_sources_;      // TUN real server -> its route's source, last seen
  DecisionNumbers numbers_{MarkLayout::from_mask(config_.director.mark_mask).value_or(MarkLayout{}).capacity()};
  std::uint64_t decisions_fingerprint_ = 0;  // numbers_.fingerprint(config_), as of the last replan()
  FastPathPlan plan_;
  bool kernel_unavailable_ = false;  // conntrack could not be followed: no fast path
  // What the kernel refused of each fast-path method ("": it took them).
  std::string nat_refused_, direct_refused_;
  std::map<IpAddress, EgressReport> egress_report_;  // last logged per real server
  std::map<IpAddress, unsigned> unresolved_rounds_;  // DR real server -> rounds without a MAC
  SteadyClock clock_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  Engine engine_;
  SysctlGuard sysctls_;
  InstanceLock lock_;
  bool locked_ = false;
  NodeStateFile state_file_{beside_control_socket(config_.control.socket, ".state")};
  nfq::QueueForm queue_form_ = nfq::QueueForm::native;
  bool rules_installed_ = false;
  std::string table_ = "vsd";
  boost::asio::io_context io_;
  boost::asio::steady_timer estimator_{io_};
  health::HealthMonitor health_{io_, clock_};
  HealthPolicy policy_;
  health::Notifier notifier_{io_};  // quorum_up / quorum_down commands
  boost::asio::steady_timer slow_start_timer_{io_};
  // Declared after io_: timers must be built after and destroyed before it.
  boost::asio::steady_timer egress_timer_{io_};
  std::uint64_t tx_errors_reported_ = 0;
  std::unique_ptr<arp::Announcer> announcer_;
  nfq::Transmitter transmitter_;  // before data_plane_: it outlives the data thread
  std::unique_ptr<DataPlane> data_plane_;
  std::unique_ptr<KernelFlows> kernel_;  // after data_plane_: it reaches the engine through it
  std::set<std::uint32_t> kernel_marks_;  // the published snapshot's kernel decisions
  HaNode ha_node_;
  std::unique_ptr<HaSync> ha_sync_;  // after data_plane_: it reaches the engine through it
  std::string ha_reason_;            // why the current role
  std::unique_ptr<BgpAnnouncer> bgp_;  // [bgp]: the VIPs' routes in bird
  std::unique_ptr<ControlServer> control_;
  std::unique_ptr<MetricsServer> metrics_;
  ReloadStatus reload_status_;
  IpvsTotals ipvs_totals_;  // node_ipvs_*_total: never back, as /proc/net/ip_vs_stats
  std::unique_ptr<TableWatch> table_watch_;
  std::unique_ptr<Watchdog> watchdog_;  // reads data_plane_: reset before it
};

}  // namespace vsd
