// The running configuration back as TOML, in the layout and with the key
// names of etc/vsd.toml, for `vsadm --save-toml` (after ipvsadm-style
// changes the daemon can print what to put in /etc/vsd/vsd.toml).
// parse_config(write_config_toml(c)) gives back c (tested).
#pragma once

#include <string>

#include "appliance/config/config.hpp"

namespace vsd {

// Walks the key table (config_keys.hpp): the main settings are written
// always ([director]'s queue, queues, fail_open and max_connections, the
// [timeouts], the control socket, the log level, a service's address,
// protocol and scheduler, a real server's address, weight and forward),
// every other key when it differs from its default, and a section only when
// it has a key to show. A real server whose port is 0 (the service's port)
// is written without a port. A service's [service.check] is written as its
// table set it; a real server's check as what it changes from that (no
// [service.real.check] when it is exactly the service's), so a reload gives
// back the same effective checks. A real server without a check in a
// service with [service.check] gets that check back, as vsadm -a gives it.
std::string write_config_toml(const Config& cfg);

}  // namespace vsd
