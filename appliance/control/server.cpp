#include "appliance/control/server.hpp"

#include "appliance/control/client.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

namespace vsd {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;

namespace {

constexpr std::size_t kMaxRequest = kMaxControlRequest;

// One connection: read a line, answer a line, close.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(local::socket sock, ControlServer::Handler& handler)
      : sock_(std::move(sock)), handler_(handler) {}

  void start() {
    auto self = shared_from_this();
    asio::async_read_until(sock_, asio::dynamic_buffer(in_, kMaxRequest), '\n',
                           [self](boost::system::error_code ec, std::size_t n) { self->on_read(ec, n); });
  }

 private:
  // A request of the right shape but wrong types ({"cmd": 1}) must not
  // throw out of the event loop: the daemon would die with its rules in place.
  nlohmann::json answer(const nlohmann::json& req) {
    try {
      return handler_(req);
    } catch (const std::exception& e) {
      return {{"ok", false}, {"error", std::string("control request refused: ") + e.what()}};
    }
  }

  void on_read(boost::system::error_code ec, std::size_t n) {
    nlohmann::json reply;
    if (ec) {
      reply = {{"ok", false}, {"error", "control request not read: " + ec.message()}};
      if (ec == asio::error::eof && in_.empty()) return;
    } else {
      auto req = nlohmann::json::parse(in_.substr(0, n), nullptr, false);
      if (req.is_discarded() || !req.is_object())
        reply = {{"ok", false}, {"error", "control request is not a JSON object"}};
      else
        reply = answer(req);
    }
    // Replace, not throw, on invalid UTF-8 echoed back in an error text.
    out_ = reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    auto self = shared_from_this();
    asio::async_write(sock_, asio::buffer(out_),
                      [self](boost::system::error_code, std::size_t) {
                        boost::system::error_code ignored;
                        self->sock_.shutdown(local::socket::shutdown_both, ignored);
                      });
  }

  local::socket sock_;
  ControlServer::Handler& handler_;
  std::string in_, out_;
};

}  // namespace

ControlServer::ControlServer(asio::io_context& io, std::string path, Handler handler)
    : io_(io), path_(std::move(path)), handler_(std::move(handler)), acceptor_(io) {
  namespace fs = std::filesystem;
  fs::path p(path_);
  std::error_code fec;
  if (p.has_parent_path()) {
    fs::create_directories(p.parent_path(), fec);
    ::chmod(p.parent_path().c_str(), 0755);
  }
  if (fs::exists(p, fec)) {
    // A live daemon answers on it; a stale file from a crash does not.
    local::socket probe(io_);
    boost::system::error_code ec;
    probe.connect(local::endpoint(path_), ec);
    if (!ec)
      throw std::runtime_error("control socket " + path_ +
                               " is in use: another vsd is running (stop it, or set "
                               "[control] socket to another path)");
    fs::remove(p, fec);
  }
  boost::system::error_code ec;
  acceptor_.open(local(), ec);
  if (!ec) acceptor_.bind(local::endpoint(path_), ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("cannot listen on control socket " + path_ + ": " + ec.message());
  ::chmod(path_.c_str(), 0600);  // root-only, like ipvsadm's need for CAP_NET_ADMIN
  accept();
}

ControlServer::~ControlServer() {
  boost::system::error_code ec;
  acceptor_.close(ec);
  ::unlink(path_.c_str());
}

void ControlServer::accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, local::socket sock) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) std::make_shared<Session>(std::move(sock), handler_)->start();
    accept();
  });
}

}  // namespace vsd
