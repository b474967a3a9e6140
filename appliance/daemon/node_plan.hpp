// One vsd.toml describes a whole LVS cluster, and the same file runs on every
// node (`vsd --role director|realserver|auto`). This module decides, from the
// file and what the node knows about itself, which role the node plays, what
// it must hold and set (the VIPs on lo, the sysctls the LVS HOWTO's rc.lvs
// scripts set by hand) and what in the file cannot work from this node
// (`vsd --check`). Pure: the caller gathers the facts (rtnetlink, /proc/sys)
// and applies the plan, so every rule is tested with invented nodes.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "appliance/config/config.hpp"
#include "net/ip_address.hpp"

namespace vsd {

// What this node knows about itself (filled by the caller from rtnetlink).
struct NodeAddress {
  std::string ifname;
  IpAddress addr;
  std::uint8_t prefix = 0;
};

// The answer of `ip route get ADDR`.
struct RouteFact {
  bool found = false;       // false: no route (unreachable / no default route)
  bool local = false;       // ADDR is an address of this node
  IpAddress gateway;        // unspecified = directly connected
  std::string ifname;       // the interface the packets leave by
  IpAddress prefsrc;
  std::uint32_t mtu = 0;    // 0 = unknown
  bool via_gateway() const { return found && !local && !gateway.is_unspecified(); }
};

struct NodeFacts {
  std::vector<NodeAddress> addresses;                // every local address (lo too)
  std::function<RouteFact(const IpAddress&)> route;  // like `ip route get`; unset = no routes
  // The current value of a sysctl in sysctl(8) spelling ("net.ipv4.ip_forward",
  // a '.' inside an interface name written '/'); nullopt = unreadable, and
  // unset = nothing readable.
  std::function<std::optional<std::string>(const std::string& key)> sysctl;
};

// The addresses clients reach a service at: its VIP, or a fwmark service's
// members (none when the operator marks packets with their own rules); and
// those of every service, each once, in file order.
std::vector<IpAddress> service_vips(const ServiceConfig& s);
std::vector<IpAddress> config_vips(const Config& c);

enum class Role { director, realserver };
const char* to_string(Role);  // "director" / "realserver"

struct RoleDecision {
  Role role = Role::director;
  std::string reason;  // why, naming the addresses that decided it (or what is wrong)
  bool ok = true;      // false: refuse to start, print reason
};

// requested nullopt (--role auto): realserver when one of the node's
// addresses is a real server's address in the file (loopback addresses and
// addresses that are also VIPs of the file do not count), director
// otherwise. A node that holds both a real server's address and a VIP on an
// interface other than lo is ambiguous (a director that also serves, or a
// real server answering ARP for the VIP): not ok, the operator must say.
// An explicit realserver role on a node that holds no real server's address
// is not ok; an explicit director role always is.
RoleDecision decide_role(const Config&, const NodeFacts&, std::optional<Role> requested);

// The VIPs a real-server node must hold on lo, in file order without
// duplicates: the VIPs (v4 and v6) of the services where one of this node's
// addresses is a TUN or DR real server; for fwmark services their members'
// addresses.
std::vector<IpAddress> realserver_vips(const Config&, const NodeFacts&);
// This node's addresses that are forward = "tun" real servers, in file
// order without duplicates: IP-in-IP to them is decapsulated here.
std::vector<IpAddress> realserver_tunnel_addresses(const Config&, const NodeFacts&);
// Some real server on this node is forward = "tun": it must decapsulate.
bool realserver_needs_decap(const Config&, const NodeFacts&);

struct SysctlChange {
  std::string key;        // sysctl(8) spelling, as NodeFacts::sysctl takes it
  std::string proc_path;  // relative to /proc/sys (exact for interface names with '.')
  std::string value;      // what the role needs
  std::string why;        // one line for the log
  std::string current;    // the value now; "" = unknown (unreadable)
};

// The node settings the role needs, only those whose current value differs
// (an unreadable one is listed, current ""):
//  director: ip_forward for IPv4 NAT, conf.all.forwarding for IPv6 NAT;
//    send_redirects=0 on all, default and every interface by which an IPv4
//    DR or TUN real server is reached;
//  realserver: ARP hiding (arp_hiding_sysctls) when it holds an IPv4 VIP on
//    lo for DR/TUN, on the interfaces carrying its addresses; for TUN with an
//    IPv4 VIP, rp_filter=2 on all when any of all and those interfaces is 1.
std::vector<SysctlChange> plan_sysctls(const Config&, Role, const NodeFacts&);

struct Finding {
  enum Severity { error, warning } severity = error;
  SourceLocation where;  // the [[service]] or [[service.real]] it is about
  std::string message;
};

// What `vsd --check` reports for a file that cannot work from this node in
// this role, in file order. Duplicate VIP:port+protocol services are not
// here: parse_config refuses them already.
std::vector<Finding> check_cluster(const Config&, Role, const NodeFacts&);

// "FILE:LINE:COL: error: message", like ConfigError::to_string.
std::string to_string(const Finding&);

}  // namespace vsd
