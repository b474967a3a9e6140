// ipvsadm's table changes (-A -E -D -C -a -e -d --set) applied to vsd's
// Config, with the errors IPVS gives in the words ipvsadm prints.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "appliance/config/config.hpp"
#include "appliance/control/ipvsadm_command.hpp"

namespace vsd {

// Applies one command. On error returns ipvsadm's message ("Service not
// defined", "Destination already exists", ...) and leaves cfg untouched.
// As in config.hpp, a real's port 0 means the service's port and a fwmark
// service's address stays unset (-6 is not kept: vsd takes the family from
// the members or real servers).
std::optional<std::string> apply_ipvsadm_command(Config& cfg, const IpvsadmCommand& cmd);

// All or nothing: cfg changes only if every command applies. On error,
// *failed (when given) is the index of the command that failed.
std::optional<std::string> apply_ipvsadm_batch(Config& cfg, const std::vector<IpvsadmCommand>& cmds,
                                               std::size_t* failed = nullptr);

// The daemon's half of the edit command (control/protocol.hpp): applies
// the batch to cfg, all or nothing. The error, ready for the reply, is
// ipvsadm's message; for a batch of more than one it is prefixed with the
// failing command as an ipvsadm line ("-a -t 192.0.2.10:80 -r
// 203.0.113.11:80 -m -w 1: Service not defined").
std::optional<std::string> apply_ipvsadm_commands(Config& cfg, const std::vector<IpvsadmCommand>& cmds);

}  // namespace vsd
