// ipvsadm 1.31's listing layouts, rendered from the daemon's typed status
// (control/status.hpp), so operators' eyes and scripts carry over from
// ipvsadm: -L [-n] with --stats, --rate, --thresholds, --persistent-conn,
// --exact, --nosort, -L -t SERVICE, --timeout, -c, and -S (ipvsadm-save).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "appliance/control/status.hpp"
#include "appliance/vsadm/ipvsadm_args.hpp"
#include "appliance/vsadm/ipvsadm_names.hpp"

namespace vsd {

// `ipvsadm -L -n`:
//   IP Virtual Server version 1.2.1 (size=4096)
//   Prot LocalAddress:Port Scheduler Flags
//     -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
//   TCP  192.0.2.10:80 wrr
//     -> 203.0.113.11:8000            Masq    3      0          0
std::string format_list(const control::Status& status);

// -L with any of the listing options (stats, rate, thresholds,
// persistent_conn, exact, nosort, numeric); names through `names` unless numeric.
std::string format_list(const control::Status& status, const ListOptions& opts,
                        const NameResolver& names);

// -L -t|-u|-f SERVICE: the title and that service, without the version
// line (as ipvsadm). nullopt when there is no such service ("No such service").
std::optional<std::string> format_list_service(const control::Status& status,
                                               const IpvsadmService& service,
                                               const ListOptions& opts, const NameResolver& names);

// -S [-n]: "-A -t 192.0.2.10:0 -s wrr -p 1800" / "-a -t 192.0.2.10:0 -r
// 203.0.113.11:0 -g -w 3". Like ipvsadm it writes no -x/-y.
std::string format_save(const control::Status& status, bool numeric, const NameResolver& names);

// --timeout: "Timeout (tcp tcpfin udp): 900 120 300".
std::string format_timeout(const control::Status& status);
// ipvsadm -L --daemon: "master sync daemon (mcast=eth2, syncid=0, port=8848)"
// per role held, nothing when none.
std::string format_daemons(const control::Status& status);

// -c [-n] [--persistent-conn]: the head and the rows.
std::string format_connections(const std::vector<control::ConnectionStatus>& connections,
                               const ListOptions& opts, const NameResolver& names);
// The same in parts, for a listing printed as it arrives: the head
// ("IPVS connection entries" and the column names), then each batch's rows.
std::string format_connections_head(const ListOptions& opts);
std::string format_connection_rows(const std::vector<control::ConnectionStatus>& connections,
                                   const ListOptions& opts, const NameResolver& names);

// --json -L -c as it arrives: the document vsadm printed in one piece
// before the listing was streamed ({"connections": [...], "ok": true},
// indented by 2), byte for byte, written in parts. A listing that fails on
// the way still ends as a whole document, with "ok": false and the error.
class ConnectionsJson {
 public:
  std::string begin() const;
  std::string add(const std::vector<control::ConnectionStatus>& connections);
  std::string end(const std::string& error = {}) const;  // error: "" when complete

 private:
  bool any_ = false;
};

// ipvsadm's name for a forwarding method: Masq, Tunnel, Route.
const char* ipvsadm_forward_name(ForwardMethod forward);

}  // namespace vsd
