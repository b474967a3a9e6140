// ipvsadm's table changes (-A -E -D -C -a -e -d --set) applied to vsd's
// Config, with the errors IPVS gives in the words ipvsadm prints, and the
// JSON form in which vsadm sends them to the daemon:
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
#include <vector>

#include "appliance/config.hpp"
#include "appliance/ipvsadm_args.hpp"

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

nlohmann::json ipvsadm_service_json(const IpvsadmService& service);
nlohmann::json ipvsadm_command_json(const IpvsadmCommand& command);
// nullopt with *error set when the JSON is not a valid service/command.
std::optional<IpvsadmService> ipvsadm_service_from_json(const nlohmann::json& j, std::string* error);
std::optional<IpvsadmCommand> ipvsadm_command_from_json(const nlohmann::json& j, std::string* error);

// The daemon's half of {"cmd":"edit","commands":[...]}: decodes and applies
// the batch to cfg, all or nothing. The error, ready for the reply's
// "error", is ipvsadm's message; for a batch of more than one it is
// prefixed with the failing command as an ipvsadm line
// ("-a -t 192.0.2.10:80 -r 203.0.113.11:80 -m -w 1: Service not defined").
std::optional<std::string> apply_ipvsadm_json(Config& cfg, const nlohmann::json& commands);

}  // namespace vsd
