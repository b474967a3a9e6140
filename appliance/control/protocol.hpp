// The control protocol between vsadm and vsd: one JSON request line, one
// JSON reply line on the control socket (client.hpp, server.hpp); the
// connection listing alone is a stream of lines.
//
//   request  {"cmd": <command>, ...arguments}
//   reply    {"ok": true, ...result} | {"ok": false, "error": "what to do"}
//
// The commands, their arguments and results:
//   status       -> Status fields (status.hpp)            vsadm -L, --json, metrics
//   connections  -> a stream (below)                      vsadm -L -c
//   edit         {"commands": [ipvsadm command JSON]}     vsadm -A -E -D -C -a -e -d --set -R
//                  (all or nothing; ipvsadm_command.hpp)
//   zero         {"service": <service> | null}            vsadm -Z [SERVICE]
//   reload       -> {"message": summary}                  vsadm --reload, SIGHUP
//   save_toml    -> {"toml": text}                        vsadm --save-toml
//   garp         -> {"message": summary}                  vsadm --garp
//   sync_daemon  {"action": "start"|"stop", "state": "master"|"backup",
//                 "mcast_interface", "syncid", "reason"}   vsadm --start-daemon, --stop-daemon
//
// The connections stream: a table may hold millions of entries, so vsd
// reads it in bounded steps (the daemon's ConnectionReader) and sends each
// step's entries as it goes; neither side holds the whole listing.
//   {"ok": true, "stream": "connections"}          first line
//   {"connections": [ConnectionStatus, ...]}        one line per step that
//                                                   found entries (0 or more)
//   {"ok": true, "end": true, "count": N}           last line: N entries sent
// A stream that fails on the way ends with {"ok": false, "error": ...}
// instead, or with the connection closed (vsd stopping, a client that
// stops reading: server.hpp); vsadm then says the listing is incomplete.
// What a listing guarantees while the table changes under it:
// ConnTable::for_each_from (an entry that lives through the listing is
// listed exactly once; none twice).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
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

// The connection listing read in steps (the daemon's ConnectionReader):
// each next() appends one bounded step's entries to `out` (maybe none) and
// returns false once the walk is done (out may hold its last entries).
class ConnectionCursor {
 public:
  virtual ~ConnectionCursor() = default;
  virtual bool next(std::vector<ConnectionStatus>& out) = 0;
};

// The daemon's side of each command, typed: the director implements it;
// handle_request() (protocol.cpp) turns requests into calls and results
// into replies, so no JSON key is spelled anywhere else in the daemon.
class Handler {
 public:
  virtual ~Handler() = default;
  virtual Status status() = 0;
  // A cursor over the table, read by the control server step by step as
  // the client takes the lines (it must stay usable until the control
  // server is gone).
  virtual std::unique_ptr<ConnectionCursor> connections() = 0;
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

// A reply as the control server writes it: one line, or the first line of
// a stream whose further lines `more` gives a batch at a time.
struct Reply {
  // Implicit: a one-line reply is its JSON.
  Reply(nlohmann::json first = nlohmann::json::object()) : line(std::move(first)) {}
  nlohmann::json line;
  // A stream: appends its next lines (each ending in '\n') to `out` and
  // returns true while more follow, false with the last ones. The server
  // calls it on the control thread, again only once all it appended before
  // is written, so a stream holds one batch at a time; it may append
  // nothing (the server lets other work run, then calls again).
  std::function<bool(std::string& out)> more;
  bool streamed() const { return static_cast<bool>(more); }
};

// Decodes one request, calls the handler, encodes the reply (a stream for
// connections). A request it cannot decode gets {"ok": false, "error": ...}
// naming what is wrong.
Reply handle_request(Handler& handler, const nlohmann::json& request);

// The connections stream over a cursor (what handle_request answers).
Reply connections_stream(std::unique_ptr<ConnectionCursor> cursor);

// vsadm's side: the requests, and what it reads from the replies.
nlohmann::json edit_request(const std::vector<IpvsadmCommand>& commands);
nlohmann::json zero_request(const std::optional<IpvsadmService>& service);
nlohmann::json sync_daemon_request(const IpvsadmCommand& command);  // --start-daemon, --stop-daemon
nlohmann::json simple_request(const char* command);  // status, connections, reload, save_toml, garp
bool reply_ok(const nlohmann::json& reply);
// The message of an ok reply, the error of a refused one.
std::string reply_text(const nlohmann::json& reply);
std::string toml_from_reply(const nlohmann::json& reply);
// The entries one line carries (a stream's step, an older vsd's reply).
std::vector<ConnectionStatus> connections_from_reply(const nlohmann::json& reply);

// vsadm's side of the connections stream: each reply line in turn to
// feed(), until it says end or error. Also reads the one-line reply of an
// older vsd ({"ok": true, "connections": [...]}).
class ConnectionsReply {
 public:
  enum class Step { more, end, error };
  // Appends the line's entries to `out`.
  Step feed(const nlohmann::json& line, std::vector<ConnectionStatus>& out);
  // The connection closed before the end line: an error naming how far
  // the listing got. Returns Step::error (Step::end after the end line).
  Step closed();
  std::uint64_t count() const { return count_; }  // entries received
  const std::string& error() const { return error_; }
  bool started() const { return started_; }  // an ok first line came

 private:
  Step fail(std::string why);
  bool started_ = false, ended_ = false;
  std::uint64_t count_ = 0;
  std::string error_;
};

}  // namespace vsd::control
