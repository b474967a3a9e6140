#include "appliance/control/server.hpp"

#include "appliance/control/client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <vector>

namespace vsd {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kMaxRequest = kMaxControlRequest;

std::string errno_text(int e) { return std::strerror(e); }

std::string seconds_text(std::chrono::milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", static_cast<double>(d.count()) / 1000.0);
  return buf;
}

// Creates the missing directories above the socket, 0755 each. A
// directory that exists is left exactly as it is, whoever made it.
void make_parents(const std::filesystem::path& dir) {
  if (dir.empty()) return;
  std::filesystem::path at;
  for (const auto& part : dir) {
    at /= part;
    if (::mkdir(at.c_str(), 0755) == 0) {
      ::chmod(at.c_str(), 0755);  // ours, just made: undo the umask
    } else if (errno != EEXIST) {
      throw std::runtime_error("cannot create directory " + at.string() + " for the control socket: " +
                               errno_text(errno));
    }
  }
  struct stat st{};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw std::runtime_error(dir.string() + " (the control socket's directory) is not a directory");
}

}  // namespace

struct ControlServer::Impl : std::enable_shared_from_this<ControlServer::Impl> {
  Impl(asio::io_context& io, Handler h, ControlServerOptions o)
      : io(io), handler(std::move(h)), options(std::move(o)), acceptor(io), backoff(io) {
    if (!options.log)
      options.log = [](const std::string& line) { std::fprintf(stderr, "vsd: %s\n", line.c_str()); };
  }

  void accept();
  void on_accept_error(const boost::system::error_code& ec);
  bool peer_allowed(int fd, std::string& refusal);
  void log_refusal(const std::string& line);

  asio::io_context& io;
  Handler handler;
  ControlServerOptions options;
  local::acceptor acceptor;
  asio::steady_timer backoff;
  bool accept_failing = false;
  uid_t own_uid = ::geteuid();
  dev_t dev = 0;  // the socket file's identity, to remove only our own
  ino_t ino = 0;
  Clock::time_point last_refusal_log{};
  unsigned refusals_unlogged = 0;
};

namespace {

// One connection: read a line, answer a line (or a stream of them), close;
// or, for a refused peer, one error line and close. A timer bounds both
// halves.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(local::socket sock, std::shared_ptr<ControlServer::Impl> server)
      : sock_(std::move(sock)), server_(std::move(server)), timer_(server_->io) {}

  void start() {
    start_ = Clock::now();
    arm(start_ + server_->options.request_timeout);
    auto self = shared_from_this();
    asio::async_read_until(sock_, asio::dynamic_buffer(in_, kMaxRequest), '\n',
                           [self](boost::system::error_code ec, std::size_t n) { self->on_read(ec, n); });
  }

  // The error line goes out at once; the peer's request is then read and
  // thrown away until it closes (or request_timeout), so that a client that
  // writes before it reads (vsadm does) gets the line, not EPIPE.
  void refuse(const std::string& why) {
    start_ = Clock::now();
    arm(start_ + server_->options.request_timeout);
    refused_ = true;
    write(nlohmann::json{{"ok", false}, {"error", why}});
  }

 private:
  enum class Phase { reading, writing, done };

  void arm(Clock::time_point deadline) {
    deadline_ = deadline;
    timer_.expires_at(deadline);
    auto self = shared_from_this();
    timer_.async_wait([self](boost::system::error_code ec) {
      if (!ec) self->on_timeout();
    });
  }

  void on_timeout() {
    // A wait that had already fired when the deadline moved on.
    if (phase_ == Phase::done || Clock::now() < deadline_) return;
    // A stream whose reader has room again took bytes that this thread
    // has not seen yet (it was busy or not scheduled): that is progress.
    if (phase_ == Phase::writing && streaming_ && writable())
      return arm(Clock::now() + server_->options.session_timeout);
    boost::system::error_code ignored;
    if (phase_ == Phase::reading) {
      timed_out_ = true;
      sock_.cancel(ignored);  // on_read answers with the reason, then closes
    } else if (phase_ == Phase::writing) {
      sock_.close(ignored);  // a peer that does not read its reply
    }
  }

  bool writable() {
    pollfd p{sock_.native_handle(), POLLOUT, 0};
    return ::poll(&p, 1, 0) == 1 && (p.revents & POLLOUT) && !(p.revents & (POLLERR | POLLHUP));
  }

  // A request of the right shape but wrong types ({"cmd": 1}) must not
  // throw out of the event loop: the daemon would die with its rules in place.
  control::Reply answer(const nlohmann::json& req) {
    try {
      return server_->handler(req);
    } catch (const std::exception& e) {
      return nlohmann::json{{"ok", false}, {"error", std::string("control request refused: ") + e.what()}};
    }
  }

  void on_read(boost::system::error_code ec, std::size_t n) {
    if (phase_ != Phase::reading) return;
    control::Reply reply;
    if (!ec) {
      auto req = nlohmann::json::parse(in_.substr(0, n), nullptr, false);
      if (req.is_discarded() || !req.is_object()) {
        reply = nlohmann::json{{"ok", false}, {"error", "control request is not a JSON object"}};
      } else if (!server_->acceptor.is_open()) {
        reply = stopping();  // the handler may be gone
      } else {
        // The time vsd spends answering is not the client's: the session
        // deadline moves on by it.
        auto before = Clock::now();
        reply = answer(req);
        start_ += Clock::now() - before;
      }
    } else if (timed_out_) {
      reply = nlohmann::json{{"ok", false},
                             {"error", "control request not received within " +
                                           seconds_text(server_->options.request_timeout)}};
    } else if (ec == asio::error::eof && in_.empty()) {
      return finish();  // connected and left: the daemon's own in-use probe
    } else {
      reply = nlohmann::json{{"ok", false}, {"error", "control request not read: " + ec.message()}};
    }
    arm(start_ + server_->options.session_timeout);
    write(std::move(reply));
  }

  static nlohmann::json stopping() { return {{"ok", false}, {"error", "vsd is stopping"}}; }

  static std::string line(const nlohmann::json& j) {
    // Replace, not throw, on invalid UTF-8 echoed back in an error text.
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }

  void write(control::Reply reply) {
    phase_ = Phase::writing;
    out_ = line(reply.line);
    sent_ = 0;
    streaming_ = reply.streamed();
    more_ = std::move(reply.more);
    send();
  }

  // Writes out_. In a stream every write that the peer takes moves the
  // deadline on: a listing is cut only when the client stops reading.
  void send() {
    auto self = shared_from_this();
    sock_.async_write_some(asio::buffer(out_.data() + sent_, out_.size() - sent_),
                           [self](boost::system::error_code ec, std::size_t n) {
                             if (ec) return self->finish();
                             self->sent_ += n;
                             if (self->streaming_)
                               self->arm(Clock::now() + self->server_->options.session_timeout);
                             if (self->sent_ < self->out_.size()) return self->send();
                             self->written();
                           });
  }

  void written() {
    out_.clear();
    sent_ = 0;
    if (more_) return produce();
    if (!refused_) return finish();
    boost::system::error_code ignored;
    sock_.shutdown(local::socket::shutdown_send, ignored);
    drain();
  }

  // A stream's next batch, asked for only now that the last one is
  // written: one batch in memory per session. Producing it is vsd's time,
  // not the client's: the deadline starts after it.
  void produce() {
    if (!sock_.is_open()) return finish();
    bool again = false;
    if (!server_->acceptor.is_open()) {
      out_ = line(stopping());  // the stream's source may be gone
    } else {
      try {
        again = more_(out_);
      } catch (const std::exception& e) {
        out_ += line({{"ok", false}, {"error", std::string("control stream failed: ") + e.what()}});
      }
    }
    if (!again) more_ = nullptr;
    arm(Clock::now() + server_->options.session_timeout);
    if (!out_.empty()) return send();
    if (!more_) return finish();
    // Nothing in this batch (an empty stretch of the table): let the
    // control thread's other work run before the next one.
    asio::post(server_->io, [self = shared_from_this()] { self->produce(); });
  }

  void drain() {
    auto self = shared_from_this();
    sock_.async_read_some(asio::buffer(scratch_), [self](boost::system::error_code ec, std::size_t) {
      if (ec) return self->finish();
      self->drain();
    });
  }

  void finish() {
    phase_ = Phase::done;
    more_ = nullptr;
    boost::system::error_code ignored;
    timer_.cancel();
    sock_.shutdown(local::socket::shutdown_both, ignored);
    sock_.close(ignored);
  }

  local::socket sock_;
  std::shared_ptr<ControlServer::Impl> server_;
  asio::steady_timer timer_;
  Clock::time_point start_{}, deadline_{};
  Phase phase_ = Phase::reading;
  bool timed_out_ = false;
  bool refused_ = false;
  bool streaming_ = false;
  std::string in_, out_;
  std::size_t sent_ = 0;
  std::function<bool(std::string&)> more_;  // the stream's next batch, while it has one
  char scratch_[512];
};

}  // namespace

bool ControlServer::Impl::peer_allowed(int fd, std::string& refusal) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    refusal = "cannot read the peer's credentials: " + errno_text(errno);
    return false;
  }
  if (cred.uid == 0 || cred.uid == own_uid) return true;
  if (options.allowed_gid) {
    gid_t want = *options.allowed_gid;
    if (cred.gid == want) return true;
    // Supplementary groups: what a user added to the group usually has.
    std::vector<gid_t> groups(64);
    len = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    int rc = ::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len);
    if (rc != 0 && errno == ERANGE) {
      groups.resize(len / sizeof(gid_t));
      rc = ::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len);
    }
    if (rc == 0) {
      groups.resize(len / sizeof(gid_t));
      for (gid_t g : groups)
        if (g == want) return true;
    }
  }
  refusal = "uid " + std::to_string(cred.uid) + " gid " + std::to_string(cred.gid) + " (pid " +
            std::to_string(cred.pid) + ")";
  return false;
}

// At most one line a second, however fast a local user reconnects.
void ControlServer::Impl::log_refusal(const std::string& line) {
  auto now = Clock::now();
  if (last_refusal_log != Clock::time_point{} && now - last_refusal_log < std::chrono::seconds(1)) {
    ++refusals_unlogged;
    return;
  }
  std::string text = line;
  if (refusals_unlogged)
    text += " (" + std::to_string(refusals_unlogged) + " more refused since the last line)";
  refusals_unlogged = 0;
  last_refusal_log = now;
  options.log(text);
}

void ControlServer::Impl::accept() {
  acceptor.async_accept([self = shared_from_this()](boost::system::error_code ec, local::socket sock) {
    if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
    if (ec) return self->on_accept_error(ec);
    if (self->accept_failing) {
      self->accept_failing = false;
      self->options.log("control socket: accepting connections again");
    }
    std::string who;
    bool allowed = self->peer_allowed(sock.native_handle(), who);
    auto session = std::make_shared<Session>(std::move(sock), self);
    if (allowed) {
      session->start();
    } else {
      std::string rule = "only root";
      if (self->own_uid != 0) rule += ", uid " + std::to_string(self->own_uid);
      if (self->options.allowed_gid) rule += ", group " + std::to_string(*self->options.allowed_gid);
      self->log_refusal("control socket: refused " + who + ": " + rule + " may use it");
      session->refuse("permission denied: " + rule + " may use the control socket");
    }
    self->accept();
  });
}

void ControlServer::Impl::on_accept_error(const boost::system::error_code& ec) {
  if (!accept_failing) {
    accept_failing = true;
    options.log("control socket: accept failed: " + ec.message() + "; retrying every " +
                std::to_string(options.accept_backoff.count()) + " ms");
  }
  backoff.expires_after(options.accept_backoff);
  backoff.async_wait([self = shared_from_this()](boost::system::error_code wec) {
    if (wec || !self->acceptor.is_open()) return;
    self->accept();
  });
}

ControlServer::ControlServer(asio::io_context& io, std::string path, Handler handler,
                             ControlServerOptions options)
    : path_(std::move(path)),
      impl_(std::make_shared<Impl>(io, std::move(handler), std::move(options))) {
  namespace fs = std::filesystem;
  fs::path p(path_);
  fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  if (p.has_parent_path()) make_parents(dir);
  // Not changed (it is not ours), but said: whoever may write there can
  // replace the socket with their own between vsd and vsadm.
  struct stat dst{};
  if (::stat(dir.c_str(), &dst) == 0 && (dst.st_mode & (S_IWGRP | S_IWOTH)) && !(dst.st_mode & S_ISVTX)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(dst.st_mode & 07777));
    impl_->options.log("control socket: its directory " + dir.string() + " (mode " + mode +
                       ") is writable by others without the sticky bit: they can replace the socket");
  }

  struct stat st{};
  if (::lstat(path_.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      throw std::runtime_error("control socket " + path_ +
                               " exists and is not a socket: remove it or set [control] socket "
                               "to another path");
    // A live daemon answers on it; a stale file from a crash does not (the
    // rename below replaces it).
    local::socket probe(io);
    boost::system::error_code ec;
    probe.connect(local::endpoint(path_), ec);
    if (!ec)
      throw std::runtime_error("control socket " + path_ +
                               " is in use: another vsd is running (stop it, or set "
                               "[control] socket to another path)");
  }

  // Bound in a private directory nobody else can enter, given its final
  // mode there, then renamed into place: the socket never exists at a
  // reachable path with the umask's mode. (Setting the umask around bind
  // instead would change it for every thread of the process for that
  // moment, and for any health-check command forked in it.)
  std::string tmpl = (dir / ".vsd-ctl-XXXXXX").string();
  std::string private_dir;
  std::string tmp_sock;
  auto fail = [&](const std::string& what, int err) {
    if (!tmp_sock.empty()) ::unlink(tmp_sock.c_str());
    if (!private_dir.empty()) ::rmdir(private_dir.c_str());
    throw std::runtime_error("cannot listen on control socket " + path_ + ": " + what +
                             (err ? ": " + errno_text(err) : std::string()));
  };
  constexpr std::size_t kMaxPath = sizeof(sockaddr_un::sun_path) - 1;
  if (path_.size() > kMaxPath)
    fail("the path is too long for a unix socket (" + std::to_string(kMaxPath) + " bytes at most)", 0);
  if (tmpl.size() + 2 > kMaxPath)  // + "/s"
    fail("its directory's path is too long (" + std::to_string(kMaxPath - 18) + " bytes at most)", 0);
  if (!::mkdtemp(tmpl.data())) fail("cannot create a private directory in " + dir.string(), errno);
  private_dir = tmpl;
  tmp_sock = private_dir + "/s";

  auto& acc = impl_->acceptor;
  boost::system::error_code ec;
  acc.open(local(), ec);
  if (!ec) acc.bind(local::endpoint(tmp_sock), ec);
  if (ec) fail(ec.message(), 0);
  const auto& gid = impl_->options.allowed_gid;
  if (gid && ::chown(tmp_sock.c_str(), static_cast<uid_t>(-1), *gid) != 0)
    fail("cannot give it group " + std::to_string(*gid), errno);
  if (::chmod(tmp_sock.c_str(), gid ? 0660 : 0600) != 0) fail("chmod", errno);
  acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) fail(ec.message(), 0);
  if (::rename(tmp_sock.c_str(), path_.c_str()) != 0) fail("rename into place", errno);
  tmp_sock.clear();
  ::rmdir(private_dir.c_str());
  if (::lstat(path_.c_str(), &st) == 0) {
    impl_->dev = st.st_dev;
    impl_->ino = st.st_ino;
  }
  impl_->accept();
}

ControlServer::~ControlServer() {
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
  impl_->backoff.cancel();
  // Only our own socket: another vsd may have taken the path since.
  struct stat st{};
  if (::lstat(path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == impl_->dev &&
      st.st_ino == impl_->ino)
    ::unlink(path_.c_str());
}

}  // namespace vsd
