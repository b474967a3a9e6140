// vsd's configuration: one TOML file whose names map to ipvsadm's options.
// A file is accepted whole or refused whole: every error is reported as
// FILE:LINE:COL: reason, and nothing of a refused file is applied.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "appliance/health/check_config.hpp"
#include "appliance/health/check_config_toml.hpp"
#include "appliance/types.hpp"
#include "net/ip_address.hpp"

namespace vsd {

struct SourceLocation {
  std::string file;
  int line = 0, column = 0;
};

// Where parse_config found each key of a table, by key name ("weight"; in
// Config, "director" for the table and "director.queue" for its keys; array
// elements it stored as "members[1]"), so that validate() can place its
// errors. A service or real server built in code has none. Code that changes
// a value read from a file may leave its old place here: places only
// position messages.
using KeyLocations = std::map<std::string, SourceLocation, std::less<>>;

struct RealServerConfig {
  Endpoint address;  // port 0: the service's port
  std::uint32_t weight = 1;
  ForwardMethod forward = ForwardMethod::nat;
  // ipvsadm -x / -y: above `upper_threshold` connections (active+inactive)
  // the server takes no new ones until it is below `lower_threshold`.
  // 0 = no limit; lower 0 with an upper set means 3/4 of the upper (IPVS).
  std::uint32_t upper_threshold = 0;
  std::uint32_t lower_threshold = 0;
  // Its health checks: the service's [service.check] with this server's
  // [service.real.check] keys on top; nullopt = no check (always up).
  // `check` is the first; `more_checks` the others ([[service.check]] /
  // [[service.real.check]] with several entries): the server is up while
  // every one passes (keepalived's checkers of one real_server).
  std::optional<health::CheckConfig> check;
  std::vector<health::CheckConfig> more_checks;
  SourceLocation where;     // its [[service.real]] table; line 0: built in code
  KeyLocations locations;
};

struct ServiceConfig {
  Endpoint address;                 // port 0: every port of the VIP (needs persistence)
  std::uint32_t fwmark = 0;         // ipvsadm -f: a firewall-mark service (address unset)
  // fwmark services: the VIP:port pairs vsd marks in nftables (a named set)
  // and diverts; empty = the operator marks packets with their own rules.
  std::vector<Endpoint> members;
  Protocol protocol = Protocol::tcp;
  std::string scheduler = "wlc";  // ipvsadm's default
  // Scheduler flags (ipvsadm -b): "mh-fallback", "mh-port", "sh-fallback", "sh-port".
  std::vector<std::string> scheduler_flags;
  std::uint32_t persistent = 0;     // ipvsadm -p: template timeout in seconds, 0 = off
  // ipvsadm -M: prefix length clients are grouped by for persistence
  // (IPv4 255.255.255.0 = 24); 32 for IPv4 and 128 for IPv6 when unset.
  std::uint8_t persistence_netmask = 0;
  bool ops = false;                 // ipvsadm -o: one-packet scheduling (UDP)
  // IPVS's sloppy_tcp for this service: a mid-stream TCP packet with no
  // connection is scheduled instead of dropped. Unset: on for mh and sh
  // services of a director in [bgp] scale-out, off otherwise
  // (sloppy_tcp() below).
  std::optional<bool> sloppy_tcp;
  // keepalived's sorry_server: takes new connections only while no real
  // server of the service is healthy. Port 0 = the service's port.
  std::optional<Endpoint> sorry_server;
  // The forwarding method of its real servers that name none, and of the
  // sorry server (keepalived's lvs_method on virtual_server); unset = NAT.
  std::optional<ForwardMethod> forward;
  // keepalived's sorry_server_lvs_method; unset = `forward`.
  std::optional<ForwardMethod> sorry_server_forward;
  // keepalived's ha_suspend: the checks of its real servers pause while
  // this node does not hold the service's VIP.
  bool ha_suspend = false;
  // keepalived's quorum: the sum of the healthy real servers' weights; below
  // quorum - hysteresis the service has lost it (quorum_down runs), at
  // quorum + hysteresis it has it again (quorum_up runs). 0 = no quorum.
  std::uint32_t quorum = 0, hysteresis = 0;
  std::string quorum_up, quorum_down;
  // VS-TUN: the outer source of the IP-in-IP packets; unset = the
  // director's address on the route to each real server.
  std::optional<IpAddress> tunnel_source;
  // Flood defences (README "Flood defences"): the most of the connection
  // table this service may hold, as a fraction of max_connections
  // (connections and persistence templates); 1 = no limit.
  double table_share = 1.0;
  // nft synproxy in front of the VIP: the kernel answers SYNs with cookies
  // and only completed handshakes reach vsd. TCP, NAT real servers, the
  // fast path (the kernel's NAT carries the flow); the options the proxy
  // announces must match the real servers': MSS (0 = 1460 for IPv4, 1440
  // for IPv6) and window scale.
  bool synproxy = false;
  std::uint32_t synproxy_mss = 0;
  std::uint32_t synproxy_wscale = 7;
  // [service.check]: the defaults a real server added later (vsadm -a) gets;
  // with [[service.check]], the first, and the others in more_check_defaults.
  std::optional<health::CheckOverrides> check_defaults;
  std::vector<health::CheckOverrides> more_check_defaults;
  std::vector<RealServerConfig> reals;
  SourceLocation where;     // its [[service]] table; line 0: built in code
  KeyLocations locations;

  bool is_fwmark() const { return fwmark != 0; }
};

struct DirectorConfig {
  std::uint16_t queue = 0;
  std::uint16_t queues = 1;
  bool fail_open = false;
  std::uint32_t max_connections = 1048576;
  // IPVS sysctls of the same names: drop the connections of a removed real
  // server at once; expire a persistence template whose server is quiesced.
  bool expire_nodest_conn = false;
  bool expire_quiescent_template = false;
  // The kernel fast path: vsd decides each flow's first packet, the kernel
  // carries the rest (README "The kernel fast path"); false: every packet
  // through vsd.
  bool fast_path = true;
  // The bits of the packet and conntrack marks vsd may use for it
  // (contiguous, at least 4); the operator's own marks keep the others.
  std::uint32_t mark_mask = 0xffff0000;
  // Flood defences, IPVS's sysctls of the same names and values: 0 never,
  // 1 (or 2) while the table is over pressure_threshold, 3 always
  // (appliance/core/defence.hpp, README "Flood defences").
  std::uint32_t drop_entry = 1;
  std::uint32_t drop_packet = 0;
  std::uint32_t secure_tcp = 0;
  std::uint32_t am_droprate = 10;  // drop_packet = 3: 1 in am_droprate new flows
  // The table's fill (of max_connections) at which the automatic defences
  // switch on: vsd's amemthresh.
  double pressure_threshold = 0.9;
};

struct TimeoutConfig {
  std::uint32_t tcp = 900, tcpfin = 120, udp = 300;
};

struct ControlConfig {
  std::string socket = "/run/vsd/vsd.sock";
};

// Prometheus text exposition (GET /metrics): "127.0.0.1:9473" or
// "[::1]:9473"; empty = off (not 9100: node_exporter's port).
struct MetricsConfig {
  std::string listen;
};

// The director's gratuitous ARP / unsolicited NA for its VIPs (at start,
// for a new VIP, on `vsadm --garp`), as keepalived's garp_master_repeat.
// How a DR/TUN real server keeps quiet about the VIPs on its lo.
//  both:   nft table arp vsd_rs (readable in `nft list ruleset`: requests
//          for a VIP dropped, no ARP with a VIP as sender) and the
//          arp_ignore=1 / arp_announce=2 sysctls. The sysctls are not
//          optional with nft: only arp_announce=2 makes the kernel pick the
//          interface's address as ARP sender for a reply sourced from the
//          VIP; nft could only drop that ARP, leaving the reply unsent.
//  sysctl: the sysctls alone (the classic LVS setup), no nft table.
enum class ArpHiding { both, sysctl };
const char* to_string(ArpHiding);
struct ArpConfig {
  std::uint32_t garp_repeat = 3;        // announcements per VIP (0 = none)
  std::uint32_t garp_interval_ms = 200; // between two of them
  ArpHiding hiding = ArpHiding::both;   // real-server role
};
struct LogConfig {
  std::string level = "info";
};

// A director pair (README "A director pair"): keepalived moves the VIPs
// (VRRP), conntrackd copies the NAT flows' conntrack entries, and vsd's own
// sync copies its connection and persistence-template table from the
// master to the backup. `vsd ha keepalived|conntrackd` prints the two
// daemons' configurations for this node from these keys.
struct HaConfig {
  // Each director's own address on the link between them (vsd's sync and
  // conntrackd run over it); a node is the director whose address it
  // holds. The first is the preferred master (VRRP priority 150, the
  // second 100). Empty: no pair.
  std::vector<IpAddress> directors;
  std::string interface;          // where keepalived holds the VIPs (VRRP adverts there)
  // NAT: the real servers' gateway address(es), "203.0.113.1/24" (and an
  // IPv6 one): a second VRRP instance in the same sync group.
  std::vector<std::string> gateway;
  std::string gateway_interface;  // where that address lives
  std::uint32_t virtual_router_id = 51;  // the VIPs' VRRP instance; the gateway's is this + 1
  std::uint32_t advert_ms = 1000;        // VRRP advertisement interval
  bool preempt = true;                   // the preferred master takes over again when back (failback)
  std::uint32_t sync_port = 8848;        // vsd's sync (UDP), between the directors' addresses
  std::uint32_t conntrackd_port = 3780;  // conntrackd's FTFW sync (UDP)
  std::uint32_t sync_id = 0;             // ipvsadm --syncid: both directors must agree
  bool enabled() const { return !directors.empty(); }
};

// [bgp]: scale-out behind the routers' ECMP (README "Scale-out"). vsd
// writes the VIPs this director announces into bird's include file as
// static routes through a device that lives as long as vsd (a TUN device:
// the kernel removes it when vsd exits or dies, so bird withdraws the
// routes), and asks bird to reload. `vsd bgp bird` prints a bird.conf.
struct BgpConfig {
  std::uint32_t local_as = 0;            // this director's AS; 0: no [bgp]
  std::vector<IpAddress> neighbors;      // the routers' addresses
  std::uint32_t neighbor_as = 0;         // their AS
  std::uint32_t hold_time = 3;           // seconds: how long a dead director's routes outlive it
  std::string interface = "vsd-vips";    // the device the announced routes point to
  std::string routes_file = "/run/vsd/bird-vips.conf";  // bird includes it in its static protocol
  std::string bird_socket = "/run/bird/bird.ctl";       // birdc -s: where bird listens
  bool enabled() const { return local_as != 0; }
};

struct Config {
  DirectorConfig director;
  TimeoutConfig timeouts;
  ControlConfig control;
  MetricsConfig metrics;
  ArpConfig arp;
  LogConfig log;
  HaConfig ha;
  BgpConfig bgp;
  std::vector<ServiceConfig> services;
  KeyLocations locations;  // the sections and their keys
};

struct ConfigError {
  SourceLocation where;  // empty: about a value built in code
  std::string reason;
  // What the error is about when it has no position: "TCP 192.0.2.10:80",
  // "TCP 192.0.2.10:80 -> 203.0.113.11:8000"; empty for the sections.
  std::string subject = {};
  // "FILE:LINE:COL: reason"; without a position "SUBJECT: reason".
  std::string to_string() const;
};

struct ConfigResult {
  std::optional<Config> config;  // set iff errors is empty
  std::vector<ConfigError> errors;
};

// Reads every key through the key table (config_keys.hpp), then runs
// validate() (config_validate.hpp) on what it read: one pass reports every
// error, in file order.
ConfigResult parse_config(std::string_view text, std::string_view file_name);
// How logs and errors name a service and a real server, ipvsadm's way:
// "TCP 192.0.2.10:80" / "FWM 7", and RIP:PORT with the service's port
// when the real server has none.
std::string service_label(const ServiceConfig& s);
std::string real_label(const ServiceConfig& s, const RealServerConfig& r);
ConfigResult load_config_file(const std::string& path);

// The service's sloppy_tcp as the data path uses it: its own setting, else
// on for mh and sh under [bgp] (another director's flows must carry on).
inline bool sloppy_tcp(const Config& config, const ServiceConfig& s) {
  return s.sloppy_tcp.value_or(config.bgp.enabled() && (s.scheduler == "mh" || s.scheduler == "sh"));
}

// A real server's checks in order (empty: none), and a service's check
// tables; set_checks stores a list back (first in `check`).
std::vector<health::CheckConfig> checks_of(const RealServerConfig& r);
void set_checks(RealServerConfig& r, std::vector<health::CheckConfig> checks);
std::vector<health::CheckOverrides> check_tables_of(const ServiceConfig& s);
// The checks a real server without its own gets from its service (vsadm -a).
std::vector<health::CheckConfig> service_checks(const ServiceConfig& s);
// How the sorry server is forwarded: sorry_server_forward, else forward, else NAT.
ForwardMethod sorry_forward(const ServiceConfig& s);
// The service's real servers and, last, its sorry server as one (weight 1,
// sorry_forward, its place the sorry_server key's): what a node must be
// ready for — the director's routes, MACs and tunnels, a real server's
// VIP on lo — since the sorry server serves by that method whenever no
// real server is healthy (HealthPolicy::effective).
std::vector<RealServerConfig> node_reals(const ServiceConfig& s);
// The sorry server as a real server (node_reals' last); s.sorry_server must be set.
RealServerConfig sorry_real(const ServiceConfig& s);

}  // namespace vsd
