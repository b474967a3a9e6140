// The real-server role (`vsd --role realserver`): on each real server of a
// VS-DR / VS-TUN cluster, what the seed's rc.lvs did by hand, from the same
// file the director reads:
//  - every VIP this node serves goes on lo (/32, /128), so the kernel
//    accepts packets addressed to it;
//  - the VIPs are hidden from ARP (arp_ignore / arp_announce and the nft
//    arp table vsd_rs), so only the director answers for them;
//  - VS-TUN: IP-in-IP to this node's real-server addresses is decapsulated
//    by the kernel, through one receive-only ipip / ip6tnl device per
//    address (decap_devices.hpp), where the kernel makes them; elsewhere it
//    is queued (nft tables ip/ip6 vsd_rs) and decapsulated in userspace
//    (Decapsulator), which needs no ipip / ip6_tunnel module;
//  - the node sysctls it needs, each logged.
// On SIGINT/SIGTERM everything is undone in reverse order: tables removed,
// addresses it added deleted, every sysctl put back.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "appliance/asio.hpp"
#include "appliance/config/config.hpp"
#include "appliance/core/decapsulator.hpp"
#include "appliance/daemon/decap_devices.hpp"
#include "appliance/daemon/node_plan.hpp"
#include "appliance/daemon/instance_lock.hpp"
#include "appliance/daemon/node_state.hpp"
#include "appliance/daemon/sysctl_guard.hpp"
#include "nfq/queue_socket.hpp"
#include "nfq/ruleset.hpp"

namespace vsd {

class TableWatch;
class Watchdog;

class RealServer {
 public:
  RealServer(Config config, NodeFacts facts);
  ~RealServer();
  // Runs until SIGINT/SIGTERM; returns the process exit code.
  int run();

 private:
  void setup();
  void teardown();
  void arm_queue();

  Config config_;
  NodeFacts facts_;
  std::vector<IpAddress> vips_;
  std::vector<IpAddress> tunnel_addrs_;  // this node's TUN real-server addresses
  SysctlGuard sysctls_;
  InstanceLock lock_;
  bool locked_ = false;
  NodeStateFile state_file_{beside_control_socket(config_.control.socket, ".state")};
  void save_node_state();
  std::vector<IpAddress> added_vips_;  // put on lo by us: removed on exit
  int lo_index_ = 0;
  bool arp_table_ = false, decap_table_ = false;
  std::string table_ = "vsd_rs";
  boost::asio::io_context io_;
  std::unique_ptr<nfq::QueueSocket> queue_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> queue_fd_;
  std::unique_ptr<Decapsulator> decap_;
  std::unique_ptr<DecapDevices> decap_devices_;  // the kernel's decapsulation
  std::vector<IpAddress> kernel_decap_;          // tunnel addresses the kernel decapsulates
  bool refusal_logged_ = false;
  std::string refusal_summary() const;
  // Puts arp/ip/ip6 vsd_rs back after a flush (table_watch.hpp); systemd's
  // watchdog fed from the control thread, which also decapsulates.
  std::unique_ptr<TableWatch> table_watch_;
  std::unique_ptr<Watchdog> watchdog_;
};

}  // namespace vsd
