#include "appliance/daemon/ha_configs.hpp"

#include <sstream>

namespace vsd {

std::optional<HaNode> ha_node(const HaConfig& ha, const NodeFacts& facts, std::string* why) {
  for (std::size_t i = 0; i < ha.directors.size(); ++i)
    for (const auto& a : facts.addresses)
      if (a.addr == ha.directors[i])
        return HaNode{i, ha.directors[i], ha.directors[1 - i], a.ifname};
  std::string have;
  for (const auto& a : facts.addresses) have += (have.empty() ? "" : ", ") + a.addr.to_string();
  *why = "this node holds neither [ha] director address (" +
         (ha.directors.empty() ? std::string("none set") : ha.directors[0].to_string() + ", " +
                                                               ha.directors[1].to_string()) +
         "); its addresses: " + have;
  return std::nullopt;
}

namespace {

// keepalived's advert_int takes seconds with decimals; below one second
// only VRRPv3 may advertise.
std::string advert_text(std::uint32_t ms) {
  std::ostringstream o;
  o << ms / 1000;
  if (ms % 1000) {
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03u", ms % 1000);
    std::string f = frac;
    while (f.back() == '0') f.pop_back();
    o << f;
  }
  return o.str();
}

void instance(std::ostringstream& o, const char* name, const HaConfig& ha, const HaNode& node,
              const std::string& interface, std::uint32_t vrid, const std::string& addresses,
              const std::string& excluded) {
  o << "vrrp_instance " << name << " {\n"
    << "    state BACKUP              # both start BACKUP: the priority decides\n"
    << "    interface " << interface << "\n"
    << "    virtual_router_id " << vrid << "\n"
    << "    priority " << (node.index == 0 ? 150 : 100) << "\n"
    << "    advert_int " << advert_text(ha.advert_ms) << "\n";
  if (!ha.preempt)
    o << "    nopreempt                 # [ha] preempt = false: no failback\n";
  else  // failback waits until the returning director has the master's table (vsd: 1 s, conntrackd: its resync)
    o << "    preempt_delay 5\n";
  o << "    virtual_ipaddress {\n" << addresses << "    }\n";
  if (!excluded.empty()) o << "    virtual_ipaddress_excluded {\n" << excluded << "    }\n";
  o << "}\n";
}

}  // namespace

std::string keepalived_conf(const Config& config, const HaNode& node, const std::string& notify) {
  const HaConfig& ha = config.ha;
  std::ostringstream o;
  o << "# keepalived.conf for the vsd director pair, written by `vsd ha keepalived`\n"
    << "# from [ha] of the cluster file. This node: " << node.self.to_string()
    << (node.index == 0 ? " (the preferred master)" : " (the preferred backup)") << "; its peer "
    << node.peer.to_string() << ".\n"
    << "# keepalived holds the VIPs on the master; on every change of state it runs\n"
    << "# the notify command, which moves conntrackd's flows and tells vsd\n"
    << "# (vsadm --start-daemon master|backup).\n\n"
    << "global_defs {\n"
    << "    router_id vsd-" << node.self.to_string() << "\n"
    << "    script_user root\n"
    << "    enable_script_security\n";
  if (ha.advert_ms % 1000) o << "    vrrp_version 3            # sub-second adverts\n";
  o << "}\n\n";
  std::string v4, v6;
  for (const auto& vip : config_vips(config))
    (vip.is_v4() ? v4 : v6) += "        " + vip.to_string() + (vip.is_v4() ? "/32" : "/128") + " dev " +
                               ha.interface + "\n";
  // One family per VRRP instance: the other family's VIPs ride along, excluded from the adverts.
  const bool ipv4 = !v4.empty();
  o << "vrrp_sync_group VSD {\n    group {\n        VSD_VIPS\n";
  if (!ha.gateway.empty()) o << "        VSD_GATEWAY\n";
  o << "    }\n    notify \"" << notify << "\"\n}\n\n";
  instance(o, "VSD_VIPS", ha, node, ha.interface, ha.virtual_router_id, ipv4 ? v4 : v6, ipv4 ? v6 : v4);
  if (!ha.gateway.empty()) {
    // The first gateway's family carries the adverts, the other rides along.
    std::string first, other;
    const bool v4gw = ha.gateway[0].find(':') == std::string::npos;
    for (const auto& g : ha.gateway)
      ((g.find(':') == std::string::npos) == v4gw ? first : other) +=
          "        " + g + " dev " + ha.gateway_interface + "\n";
    o << "\n";
    instance(o, "VSD_GATEWAY", ha, node, ha.gateway_interface, ha.virtual_router_id + 1, first, other);
  }
  return o.str();
}

std::string conntrackd_conf(const Config& config, const HaNode& node, const std::string& state_dir) {
  const HaConfig& ha = config.ha;
  const bool v4 = node.self.is_v4();
  std::ostringstream o;
  o << "# conntrackd.conf for the vsd director pair, written by `vsd ha conntrackd`\n"
    << "# from [ha] of the cluster file. FTFW: each director sends its conntrack\n"
    << "# entries (vsd's NAT flows, their marks included) to the other, which\n"
    << "# keeps them in its external cache until keepalived's notify commits them\n"
    << "# to the kernel (conntrackd -c) when it becomes master.\n\n"
    << "Sync {\n"
    << "    Mode FTFW {\n"
    << "        DisableExternalCache Off\n"
    << "        CommitTimeout 1800\n"
    << "        PurgeTimeout 5\n"
    << "    }\n"
    << "    UDP {\n"
    << "        " << (v4 ? "IPv4_address " : "IPv6_address ") << node.self.to_string() << "\n"
    << "        " << (v4 ? "IPv4_Destination_Address " : "IPv6_Destination_Address ")
    << node.peer.to_string() << "\n"
    << "        Port " << ha.conntrackd_port << "\n"
    << "        Interface " << node.sync_interface << "\n"
    << "        SndSocketBuffer 1249280\n"
    << "        RcvSocketBuffer 1249280\n"
    << "        Checksum on\n"
    << "    }\n"
    << "}\n\n"
    << "General {\n"
    << "    HashSize 32768\n"
    << "    HashLimit " << std::max<std::uint32_t>(131072, 2 * config.director.max_connections) << "\n"
    << "    LogFile off\n"
    << "    Syslog on\n"
    << "    LockFile " << state_dir << "/conntrackd.lock\n"
    << "    UNIX {\n"
    << "        Path " << state_dir << "/conntrackd.ctl\n"
    << "        Backlog 20\n"
    << "    }\n"
    << "    NetlinkBufferSize 2097152\n"
    << "    NetlinkBufferSizeMaxGrowth 8388608\n"
    << "    Filter From Userspace {\n"
    << "        Protocol Accept {\n"
    << "            TCP\n"
    << "            UDP\n"
    << "        }\n"
    << "        Address Ignore {\n"
    << "            IPv4_address 127.0.0.1\n"
    << "            IPv6_address ::1\n"
    << "            " << (v4 ? "IPv4_address " : "IPv6_address ") << node.self.to_string()
    << "   # the pair's own link\n"
    << "            " << (v4 ? "IPv4_address " : "IPv6_address ") << node.peer.to_string() << "\n"
    << "        }\n"
    << "    }\n"
    << "}\n";
  return o.str();
}

}  // namespace vsd
