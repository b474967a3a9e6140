// ipvsadm 1.31's listing layouts, rendered from the daemon's JSON, so
// operators' eyes and scripts carry over from ipvsadm: -L [-n] with
// --stats, --rate, --thresholds, --persistent-conn, --exact, --nosort,
// -L -t SERVICE, --timeout, -c, and -S (ipvsadm-save).
//
// Fields read from the {"cmd":"status"} reply (missing ones count as 0/empty):
//   max_connections               -L header "(size=N)"
//   timeouts {tcp, tcpfin, udp}   --timeout, seconds
//   services[]:
//     protocol    "tcp" | "udp"
//     address     "192.0.2.10:80" | "[2001:db8::10]:80"; absent for fwmark services
//     fwmark      nonzero for a firewall-mark service (absent or 0 otherwise)
//     ipv6        fwmark services only: true for `-f N -6` (default false)
//     scheduler   "wrr", "sh", ...
//     flags       ["mh-fallback", "mh-port", "ops"]: scheduler flags (-b, also
//                 flag-1..flag-3) and "ops" for one-packet scheduling (-o)
//     persistent  persistence timeout in seconds, 0 = not persistent
//     netmask     persistence prefix length; 0 = default (/32, /128)
//     stats       {conns, inpkts, outpkts, inbytes, outbytes}  totals
//     rates       {cps, inpps, outpps, inbps, outbps}          per second
//     reals[]:
//       address          "203.0.113.11:8000", the real port in use (0 only
//                        when the service's port is 0)
//       forward          "nat" | "tun" | "dr"
//       weight, upper_threshold, lower_threshold
//       active_conns, inactive_conns, persistent_conns
//       stats, rates     as for the service
// Fields read from the {"cmd":"connections"} reply:
//   connections[]:
//     protocol    "tcp" | "udp" ("ip" for fwmark templates)
//     client, virtual, real   "IP:PORT" (IPv6 in brackets)
//     state       the IPVS name: "ESTABLISHED", "SYN_RECV", "FIN_WAIT",
//                 "TIME_WAIT", "CLOSE", "UDP", ...; templates "NONE"
//     expires_s   seconds until the entry expires
//     is_template true for persistence templates
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "appliance/vsadm/ipvsadm_args.hpp"
#include "appliance/vsadm/ipvsadm_names.hpp"

namespace vsd {

// `ipvsadm -L -n`:
//   IP Virtual Server version 1.2.1 (size=4096)
//   Prot LocalAddress:Port Scheduler Flags
//     -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
//   TCP  192.0.2.10:80 wrr
//     -> 203.0.113.11:8000            Masq    3      0          0
std::string format_list(const nlohmann::json& status);

// -L with any of the listing options (stats, rate, thresholds,
// persistent_conn, exact, nosort, numeric); names through `names` unless numeric.
std::string format_list(const nlohmann::json& status, const ListOptions& opts,
                        const NameResolver& names);

// -L -t|-u|-f SERVICE: the title and that service, without the version
// line (as ipvsadm). nullopt when there is no such service ("No such service").
std::optional<std::string> format_list_service(const nlohmann::json& status,
                                               const IpvsadmService& service,
                                               const ListOptions& opts, const NameResolver& names);

// -S [-n]: "-A -t 192.0.2.10:0 -s wrr -p 1800" / "-a -t 192.0.2.10:0 -r
// 203.0.113.11:0 -g -w 3". Like ipvsadm it writes no -x/-y.
std::string format_save(const nlohmann::json& status, bool numeric, const NameResolver& names);

// --timeout: "Timeout (tcp tcpfin udp): 900 120 300".
std::string format_timeout(const nlohmann::json& status);

// -c [-n] [--persistent-conn], from the {"cmd":"connections"} reply.
std::string format_connections(const nlohmann::json& reply, const ListOptions& opts,
                               const NameResolver& names);

// ipvsadm's name for a forwarding method: Masq, Tunnel, Route.
const char* ipvsadm_forward_name(const std::string& forward);

}  // namespace vsd
