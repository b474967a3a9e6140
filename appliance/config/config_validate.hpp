// validate(): the rules a configuration keeps beyond what each key's reader
// can tell from its own value.
#pragma once

#include <vector>

#include "appliance/config/config.hpp"

namespace vsd {

// Everything parse_config would refuse in `config` once its keys are read:
//  - a value a file could not hold (out of range, an unknown scheduler or log
//    level, a relative control socket, a bad health check, ...), by each key
//    table row's own check;
//  - the rules between keys and tables: a service has an address or a
//    fwmark; a port-0 service needs persistent;
//    ops is for UDP services and excludes persistent; lower_threshold below
//    upper_threshold (and not without it); real servers, the sorry server,
//    the TUN source and fwmark members in the service's address family (only
//    forward = "tun" real servers may differ); DR/TUN real servers on the
//    service's port; no service and no real server of a service twice;
//    scheduler flags of the service's scheduler; hysteresis, quorum_up and
//    quorum_down need quorum; the persistence netmask within the family;
//    members only on fwmark services; [director] queue + queues - 1 <= 65535;
//    a real server added without a check to a service with [service.check]
//    can take that check (the daemon gives it, as vsadm -a does);
//    synproxy only on TCP VIP:port services with NAT real servers and the
//    fast path on, and synproxy_mss / synproxy_wscale only with synproxy.
//
// parse_config runs it on what it read, so a Config it returns passes. For a
// Config built or edited in code (vsadm -A/-a/-E/-e, then ipvsadm_apply) it
// stands for writing the file and reading it back: the same reasons.
//
// Positions: an error about a value read from a file has that value's
// FILE:LINE:COL (after an edit in code, the place the value was read from,
// else its table's). One about a value built in code has none (where.file
// empty, line 0) and its `subject` names the service or real server, so
// to_string() prints e.g. "TCP 192.0.2.10:80: service.ops and persistent
// exclude each other (as in IPVS)". Errors come in table order.
std::vector<ConfigError> validate(const Config& config);

// parse_config's call: `read_errors` are the reader's, and a key written in
// the file with an error at its place holds no value to judge (it was
// reported there).
std::vector<ConfigError> validate(const Config& config, const std::vector<ConfigError>& read_errors);

}  // namespace vsd
