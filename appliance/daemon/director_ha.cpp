// The director's part in a pair (README "A director pair"): keepalived's
// notify (vsd-ha-notify) tells vsd its role in ipvsadm's words, `vsadm
// --start-daemon master|backup`; vsd syncs its table to the peer as master
// (ha_sync.hpp) or takes the peer's as backup, and the master announces
// the VIPs. One role at a time, as keepalived's own lvs_sync_daemon
// switches IPVS's: starting one stops the other.
#include <spdlog/spdlog.h>

#include "appliance/daemon/data_plane.hpp"
#include "appliance/daemon/director.hpp"
#include "appliance/daemon/ha_configs.hpp"

namespace vsd {

void Director::start_ha() {
  if (!config_.ha.enabled()) return;
  std::string why;
  auto node = ha_node(config_.ha, facts_, &why);
  if (!node) throw std::runtime_error("[ha] directors: " + why);
  ha_node_ = *node;
  ha_sync_ = std::make_unique<HaSync>(
      io_,
      [this](const std::function<void(Engine&)>& fn) {
        if (data_plane_)
          data_plane_->with_engine([&] { fn(engine_); });
        else
          fn(engine_);
      },
      node->self, node->peer, static_cast<std::uint16_t>(config_.ha.sync_port),
      static_cast<std::uint8_t>(config_.ha.sync_id), [this] { return decisions_fingerprint_; });
  spdlog::info("HA: director {} of the pair ({} on {}, peer {}), sync on UDP port {} with sync id {}; "
               "no role until keepalived's notify runs vsadm --start-daemon master|backup",
               node->index + 1, node->self.to_string(), node->sync_interface, node->peer.to_string(),
               config_.ha.sync_port, config_.ha.sync_id);
}

control::Outcome Director::sync_daemon(const IpvsadmCommand& c) {
  if (!config_.ha.enabled())
    return control::Outcome::refused(
        "vsd syncs with the other director of a pair named in the cluster file, not by multicast: "
        "add [ha] directors = [\"THIS-ADDRESS\", \"PEER-ADDRESS\"] (see vsd.toml(5), \"A director pair\")");
  if (!ha_sync_) return control::Outcome::refused("[ha] is set but this director has no sync socket (see vsd's log)");
  if (!c.mcast_interface.empty() && c.mcast_interface != ha_node_.sync_interface)
    return control::Outcome::refused("--mcast-interface " + c.mcast_interface + ": vsd syncs over the link of " +
                                     "[ha] directors, on " + ha_node_.sync_interface +
                                     " here; leave the option out or name that interface");
  if (c.syncid && *c.syncid != config_.ha.sync_id)
    return control::Outcome::refused("--syncid " + std::to_string(*c.syncid) + ": [ha] sync_id is " +
                                     std::to_string(config_.ha.sync_id) +
                                     "; set it there, the same on both directors");
  const bool master = c.daemon_state == "master";
  const std::string reason = c.reason.empty() ? "vsadm --" + std::string(ipvsadm_op_name(c.op)) : c.reason;
  if (c.op == IpvsadmOp::stop_daemon) {
    if (master ? !ha_sync_->master() : !ha_sync_->backup())
      return control::Outcome::done("no " + c.daemon_state + " sync daemon is running");
    if (master)
      ha_sync_->stop_master();
    else
      ha_sync_->stop_backup();
    ha_reason_ = reason;
    spdlog::warn("HA: no longer {} ({}); this director neither syncs nor announces until the next "
                 "--start-daemon",
                 master ? "MASTER" : "BACKUP", reason);
    return control::Outcome::done(c.daemon_state + " sync daemon stopped");
  }
  if (master ? ha_sync_->master() : ha_sync_->backup())
    return control::Outcome::done(c.daemon_state + " sync daemon already running");
  ha_reason_ = reason;
  if (master) {
    ha_sync_->stop_backup();
    ha_sync_->start_master();
    const std::size_t conns = engine_.connection_count();
    spdlog::warn("HA: this director is MASTER ({}): it serves the VIPs with the {} connection(s) and "
                 "templates it holds and syncs them to the backup {}",
                 reason, conns, ha_node_.peer.to_string());
    const std::size_t n = announce_vips({});
    if (n) spdlog::info("HA: announced {} VIP(s) as the new master", n);
  } else {
    ha_sync_->stop_master();
    ha_sync_->start_backup();
    spdlog::warn("HA: this director is BACKUP ({}): it takes the master {}'s connections and "
                 "templates and announces nothing",
                 reason, ha_node_.peer.to_string());
  }
  return control::Outcome::done(c.daemon_state + " sync daemon started");
}

// Gratuitous ARP / NA for the VIPs: a director alone, or a pair's master.
// Under [bgp] the VIPs are routed to the directors, not on a shared link.
bool Director::ha_announces() const {
  if (config_.bgp.enabled()) return false;
  return !config_.ha.enabled() || (ha_sync_ && ha_sync_->master());
}

std::vector<control::SyncDaemonStatus> Director::sync_daemons_status() const {
  std::vector<control::SyncDaemonStatus> out;
  if (!ha_sync_) return out;
  for (bool master : {true, false}) {
    if (master ? !ha_sync_->master() : !ha_sync_->backup()) continue;
    control::SyncDaemonStatus d;
    d.state = master ? "master" : "backup";
    d.mcast_interface = ha_node_.sync_interface;
    d.syncid = config_.ha.sync_id;
    d.port = config_.ha.sync_port;
    d.peer = ha_node_.peer.to_string();
    d.reason = ha_reason_;
    d.sent_entries = ha_sync_->stats().sent_entries;
    d.received_entries = ha_sync_->stats().received_entries;
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace vsd
