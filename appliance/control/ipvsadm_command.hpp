// ipvsadm's commands as vsadm parses them and the daemon applies them
// (ipvsadm_apply.hpp), and the JSON form in which vsadm sends the table
// changes (-A -E -D -C -a -e -d --set) to the daemon:
//
//   {"cmd":"edit","commands":[<command>, ...]}     all or nothing
//   <command> = {"op":"add-service",               ipvsadm's command names:
//                                                  add-service edit-service
//                                                  delete-service flush add-server
//                                                  edit-server delete-server set
//                "service":<service>,
//                "scheduler":"wrr","scheduler_flags":["mh-port"],
//                "persistent":1800,"netmask":24,"ops":false,
//                "real":"203.0.113.11:80","forward":"dr"|"nat"|"tun",
//                "weight":1,"upper_threshold":0,"lower_threshold":0,
//                "timeouts":{"tcp":900,"tcpfin":120,"udp":300}}
//   <service> = {"protocol":"tcp"|"udp","address":"192.0.2.10:80"}
//             | {"fwmark":1,"ipv6":false}
//
// Fields a command does not use are left out; missing ones take ipvsadm's
// defaults. "real" always carries the port (vsadm fills in the service's).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "appliance/types.hpp"
#include "net/ip_address.hpp"

namespace vsd {

enum class IpvsadmOp : std::uint8_t {
  list,            // -L | -l, and no command at all
  add_service,     // -A
  edit_service,    // -E
  delete_service,  // -D
  clear,           // -C
  add_server,      // -a
  edit_server,     // -e
  delete_server,   // -d
  set_timeouts,    // --set TCP TCPFIN UDP
  restore,         // -R (vsadm: one all-or-nothing batch)
  save,            // -S
  zero,            // -Z
  help,            // -h
  version,         // -v | --version: vsd's version, queue form, uptime
  garp,            // --garp: announce the VIPs again
  reload,          // --reload: re-read the configuration file
  save_toml,       // --save-toml: the running configuration as TOML
  start_daemon,    // --start-daemon master|backup: the pair's sync ([ha])
  stop_daemon,     // --stop-daemon master|backup
};
// ipvsadm's name for the command ("add-service", "flush", ...), used in its
// messages and in the JSON form.
const char* ipvsadm_op_name(IpvsadmOp op);

// A virtual service as -t, -u or -f name it.
struct IpvsadmService {
  Protocol protocol = Protocol::tcp;
  Endpoint address;          // -t/-u; port 0 = every port (persistent services only)
  std::uint32_t fwmark = 0;  // -f; nonzero means a firewall-mark service
  bool ipv6 = false;         // -f N -6; for -t/-u the address decides

  bool is_fwmark() const { return fwmark != 0; }
  bool is_ipv6() const { return is_fwmark() ? ipv6 : !address.addr.is_v4(); }
  friend bool operator==(const IpvsadmService&, const IpvsadmService&) = default;
};

struct ListOptions {
  bool numeric = false;      // -n
  bool connections = false;  // -c
  bool timeout = false;      // --timeout
  bool daemon = false;       // --daemon: the pair's sync roles
  bool stats = false;        // --stats
  bool rate = false;         // --rate
  bool thresholds = false;   // --thresholds
  bool persistent_conn = false;  // --persistent-conn
  bool exact = false;        // --exact (-X)
  bool nosort = false;       // --nosort; --sort is accepted and ignored, as in 1.31
  friend bool operator==(const ListOptions&, const ListOptions&) = default;
};

struct IpvsadmCommand {
  IpvsadmOp op = IpvsadmOp::list;
  std::optional<IpvsadmService> service;  // -t | -u | -f

  // -A / -E. Like ipvsadm, -E sets every one of these: what is left out
  // goes back to its default (no -p turns persistence off).
  std::string scheduler = "wlc";
  // -b, spelled as ipvsadm prints them for this scheduler: sh-fallback,
  // sh-port, mh-fallback, mh-port, else flag-1, flag-2, flag-3.
  std::vector<std::string> scheduler_flags;
  std::uint32_t persistent = 0;  // -p seconds (bare -p: 360); 0 = not persistent
  std::uint8_t netmask = 0;      // -M as a prefix length; 0 = not given (/32, /128)
  bool ops = false;              // -o

  // -a / -e / -d. -e, like ipvsadm, sets all of these too.
  std::optional<Endpoint> real;  // -r; without a port, the service's port
  ForwardMethod forward = ForwardMethod::dr;  // -g is ipvsadm's default; -i, -m
  std::uint32_t weight = 1;                   // -w 0..65535
  std::uint32_t upper_threshold = 0;          // -x, 0 = none
  std::uint32_t lower_threshold = 0;          // -y

  ListOptions list;  // -L, -S (numeric only), -c, --timeout

  // --set; 0 leaves that timeout as it is (IPVS semantics).
  std::uint32_t tcp_timeout = 0, tcpfin_timeout = 0, udp_timeout = 0;

  // --start-daemon / --stop-daemon STATE ("master", "backup"), with
  // --mcast-interface and --syncid, which vsd checks against [ha] (its
  // sync goes to the peer director, not to a multicast group); --reason is
  // vsd's own: why the role changes, for the log (vsd-ha-notify passes
  // keepalived's state change).
  std::string daemon_state;
  std::string mcast_interface;
  std::optional<std::uint32_t> syncid;
  std::string reason;

  bool json = false;                  // --json: print the daemon's JSON
  std::optional<std::string> socket;  // --socket PATH

  friend bool operator==(const IpvsadmCommand&, const IpvsadmCommand&) = default;
};

// The numeric ipvsadm spelling: "-t 192.0.2.10:80", "-u [2001:db8::10]:53",
// "-f 1", "-f 1 -6".
std::string to_ipvsadm_args(const IpvsadmService& service);
// The command as an ipvsadm command line (without the program name), e.g.
// "-a -t 192.0.2.10:80 -r 203.0.113.11:80 -m -w 3"; parses back to itself.
std::string to_ipvsadm_args(const IpvsadmCommand& command);

// -b flags as IPVS's three scheduler-flag bits (1: flag-1 = sh-fallback =
// mh-fallback, 2: flag-2 = sh-port = mh-port, 4: flag-3) and back, named as
// ipvsadm prints them for that scheduler.
unsigned sched_flag_bits(const std::vector<std::string>& names);
std::vector<std::string> sched_flag_names(std::string_view scheduler, unsigned bits);

// ipvsadm's -M spelling for a prefix length: "255.255.255.0" (IPv4) or "64".
std::string netmask_to_string(std::uint8_t prefix, bool ipv6);

nlohmann::json ipvsadm_service_json(const IpvsadmService& service);
nlohmann::json ipvsadm_command_json(const IpvsadmCommand& command);
// nullopt with *error set when the JSON is not a valid service/command.
std::optional<IpvsadmService> ipvsadm_service_from_json(const nlohmann::json& j, std::string* error);
std::optional<IpvsadmCommand> ipvsadm_command_from_json(const nlohmann::json& j, std::string* error);

}  // namespace vsd
