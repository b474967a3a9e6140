// The daemon's end of the control socket (client.hpp is vsadm's): a unix
// stream socket on which vsadm sends one JSON request line and reads one
// JSON reply line, or a stream of lines (protocol.hpp: control::Reply,
// the connection listing). Runs on the control plane's io_context, never on
// the data path. A stream is written a batch at a time: the next batch is
// asked for only once the last one is written, so a session holds one
// batch, however long the listing and however slow the reader.
//
// Who may talk to it, twice over:
// - the file: created 0600 (0660 and group-owned with an allowed group)
//   atomically — bound inside a private 0700 directory, its mode set there,
//   then renamed into place — so it is never reachable with looser
//   permissions, whatever the process umask. A missing parent directory is
//   created 0755; an existing one is never changed (a 1777 /tmp keeps its
//   sticky bit).
// - the peer: SO_PEERCRED at accept. Root, the user vsd runs as, and, when
//   given, one group (the peer's primary or supplementary groups) are
//   served; anyone else gets one JSON error line and is closed.
//
// A session must send its request line within request_timeout and is
// closed after session_timeout (not counting the time vsd spends answering),
// so a silent or slow client cannot hold a descriptor. A streamed reply is
// not cut while it makes progress: session_timeout then bounds each wait
// for the client to take bytes (and vsd's time producing a batch is not
// counted), so a listing of any length goes on while vsadm reads, and one
// that vsadm stops reading is closed session_timeout later. When accept fails
// (EMFILE, ENFILE, ...) the server logs once and retries every
// accept_backoff instead of spinning the control thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "appliance/asio.hpp"
#include "appliance/control/protocol.hpp"

namespace vsd {

struct ControlServerOptions {
  // Besides root and vsd's own user, members of this group may use the
  // socket (it is then 0660, group-owned). The daemon will take it from a
  // config key ([control] group) once appliance/config has one; until then
  // nobody sets it and the socket is root-only.
  std::optional<gid_t> allowed_gid;
  std::chrono::milliseconds request_timeout{5000};   // to send the request line
  // The whole session; for a stream, each wait for the client to read.
  std::chrono::milliseconds session_timeout{30000};
  std::chrono::milliseconds accept_backoff{100};     // after a failed accept
  // Refused peers and accept failures (each streak once). Default: stderr.
  std::function<void(const std::string&)> log;
};

class ControlServer {
 public:
  // A one-line reply (a JSON value converts) or a stream.
  using Handler = std::function<control::Reply(const nlohmann::json& request)>;

  // Throws std::runtime_error with a clear reason (path in use or not a
  // socket, no permission, path too long).
  ControlServer(boost::asio::io_context& io, std::string path, Handler handler,
                ControlServerOptions options = {});
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  const std::string& path() const { return path_; }

  struct Impl;  // shared with pending handlers and sessions

 private:
  std::string path_;
  std::shared_ptr<Impl> impl_;
};

}  // namespace vsd
