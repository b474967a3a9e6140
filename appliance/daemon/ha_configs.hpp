// The director pair's two helper daemons, configured from the one cluster
// file's [ha] (README "A director pair"): keepalived.conf (VRRP: a sync
// group of the VIPs' instance and, for NAT, the real servers' gateway) and
// conntrackd.conf (FTFW sync of the NAT flows' conntrack entries, their
// marks included). Pure text from the config and the node: `vsd ha
// keepalived` / `vsd ha conntrackd` print them, the operator installs them
// as keepalived's and conntrackd's own files and runs the two daemons as
// usual (systemd units of their Debian packages).
#pragma once

#include <optional>
#include <string>

#include "appliance/config/config.hpp"
#include "appliance/daemon/node_plan.hpp"

namespace vsd {

// Which of the [ha] directors this node is.
struct HaNode {
  std::size_t index = 0;        // 0: the preferred master
  IpAddress self, peer;         // the two addresses on the link between them
  std::string sync_interface;   // where `self` lives (conntrackd's Interface)
};
// From the node's addresses; nullopt with *why naming the addresses.
std::optional<HaNode> ha_node(const HaConfig& ha, const NodeFacts& facts, std::string* why);

// `notify`: the command keepalived runs on a state change of the group
// (it appends GROUP NAME STATE PRIORITY), i.e. vsd-ha-notify with its
// options. The VIPs are every service's (IPv4 in virtual_ipaddress, IPv6
// excluded from the adverts: VRRP speaks one family per instance).
std::string keepalived_conf(const Config& config, const HaNode& node, const std::string& notify);
// `state_dir`: where conntrackd keeps its lock file and control socket.
std::string conntrackd_conf(const Config& config, const HaNode& node, const std::string& state_dir);

}  // namespace vsd
