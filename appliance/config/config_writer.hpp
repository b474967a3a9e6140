// The running configuration back as TOML, in the layout and with the key
// names of etc/vsd.toml, for `vsadm --save-toml` (after ipvsadm-style
// changes the daemon can print what to put in /etc/vsd/vsd.toml).
// parse_config(write_config_toml(c)) gives back c (tested).
#pragma once

#include <string>

#include "appliance/config/config.hpp"

namespace vsd {

// Every [director] / [timeouts] / [control] / [log] key is written; the
// optional service and real-server keys (fwmark, members, scheduler_flags,
// persistent, persistence_netmask, ops, thresholds) only when set. A real
// server whose port is 0 (the service's port) is written without a port.
std::string write_config_toml(const Config& cfg);

}  // namespace vsd
