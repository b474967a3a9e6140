// ipvsadm's listing layouts, rendered from the daemon's status JSON, so
// operators' eyes and scripts carry over from `ipvsadm -L -n`.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace vsd {

// `ipvsadm -L -n`:
//   IP Virtual Server version 1.2.1 (size=4096)
//   Prot LocalAddress:Port Scheduler Flags
//     -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
//   TCP  192.0.2.10:80 wrr
//     -> 203.0.113.11:8000            Masq    3      0          0
std::string format_list(const nlohmann::json& status);

// ipvsadm's name for a forwarding method: Masq, Tunnel, Route.
const char* ipvsadm_forward_name(const std::string& forward);

}  // namespace vsd
