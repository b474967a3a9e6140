// The control protocol between vsadm and vsd: one JSON request line, one
// JSON reply line on the control socket (client.hpp, server.hpp).
//
//   request  {"cmd": <command>, ...arguments}
//   reply    {"ok": true, ...result} | {"ok": false, "error": "what to do"}
//
// The commands, their arguments and results:
//   status       -> Status fields (status.hpp)            vsadm -L, --json, metrics
//   connections  -> {"connections": [ConnectionStatus]}   vsadm -L -c
//   edit         {"commands": [ipvsadm command JSON]}     vsadm -A -E -D -C -a -e -d --set -R
//                  (all or nothing; ipvsadm_command.hpp)
//   zero         {"service": <service> | null}            vsadm -Z [SERVICE]
//   reload       -> {"message": summary}                  vsadm --reload, SIGHUP
//   save_toml    -> {"toml": text}                        vsadm --save-toml
//   garp         -> {"message": summary}                  vsadm --garp
//   sync_daemon  {"action": "start"|"stop", "state": "master"|"backup",
//                 "mcast_interface", "syncid", "reason"}   vsadm --start-daemon, --stop-daemon
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "appliance/control/ipvsadm_command.hpp"
#include "appliance/control/status.hpp"

namespace vsd::control {

inline constexpr const char* kStatus = "status";
inline constexpr const char* kConnections = "connections";
inline constexpr const char* kEdit = "edit";
inline constexpr const char* kZero = "zero";
inline constexpr const char* kReload = "reload";
inline constexpr const char* kSaveToml = "save_toml";
inline constexpr const char* kGarp = "garp";
inline constexpr const char* kSyncDaemon = "sync_daemon";

// A command's outcome: ok with a message for the operator, or refused
// with the error (ipvsadm's words where ipvsadm has them).
struct Outcome {
  bool ok = true;
  std::string text;
  static Outcome done(std::string message = {}) { return {true, std::move(message)}; }
  static Outcome refused(std::string error) { return {false, std::move(error)}; }
};

// The daemon's side of each command, typed: the director implements it;
// handle_request() (commands.cpp) turns requests into calls and results
// into replies, so no JSON key is spelled anywhere else in the daemon.
class Handler {
 public:
  virtual ~Handler() = default;
  virtual Status status() = 0;
  virtual std::vector<ConnectionStatus> connections() = 0;
  virtual Outcome edit(const std::vector<IpvsadmCommand>& commands) = 0;
  // nullopt: every service (ipvsadm -Z).
  virtual Outcome zero(const std::optional<IpvsadmService>& service) = 0;
  virtual Outcome reload() = 0;
  virtual std::string save_toml() = 0;
  virtual Outcome garp() = 0;
  // command.op is start_daemon or stop_daemon, with daemon_state,
  // mcast_interface, syncid and reason.
  virtual Outcome sync_daemon(const IpvsadmCommand& command) = 0;
};

// Decodes one request, calls the handler, encodes the reply. A request it
// cannot decode gets {"ok": false, "error": ...} naming what is wrong.
nlohmann::json handle_request(Handler& handler, const nlohmann::json& request);

// vsadm's side: the requests, and what it reads from the replies.
nlohmann::json edit_request(const std::vector<IpvsadmCommand>& commands);
nlohmann::json zero_request(const std::optional<IpvsadmService>& service);
nlohmann::json sync_daemon_request(const IpvsadmCommand& command);  // --start-daemon, --stop-daemon
nlohmann::json simple_request(const char* command);  // status, connections, reload, save_toml, garp
bool reply_ok(const nlohmann::json& reply);
// The message of an ok reply, the error of a refused one.
std::string reply_text(const nlohmann::json& reply);
std::vector<ConnectionStatus> connections_from_reply(const nlohmann::json& reply);
std::string toml_from_reply(const nlohmann::json& reply);

}  // namespace vsd::control
