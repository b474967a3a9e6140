#include "appliance/daemon/metrics_server.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <optional>
#include <stdexcept>
#include <unordered_set>

namespace vsd {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// A scrape is "GET /metrics" with a few headers: anything near these limits
// is not Prometheus, and the limits keep one client's memory small.
constexpr std::uint32_t kHeaderLimit = 8 * 1024;
constexpr std::uint64_t kBodyLimit = 4 * 1024;
// Scrapers open one or two connections; more than this is someone else.
constexpr std::size_t kMaxConnections = 32;

class Session;

}  // namespace

struct MetricsServer::Shared {
  MetricsServer::Body body;
  std::chrono::milliseconds timeout;
  bool stopped = false;
  // Weak, so a finished session frees itself; the server closes the rest.
  std::unordered_set<Session*> sessions;
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket sock, std::shared_ptr<MetricsServer::Shared> shared)
      : stream_(std::move(sock)), shared_(std::move(shared)) {
    shared_->sessions.insert(this);
  }
  ~Session() { shared_->sessions.erase(this); }

  void start() { read(); }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(kBodyLimit);
    buffer_.max_size(kHeaderLimit + kBodyLimit);
    stream_.expires_after(shared_->timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (shared_->stopped) return;
    // Client went away, idled past the timeout, or the server is closing.
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == asio::error::eof)
      return close();
    if (ec) return reply(error_response(http::status::bad_request, "bad request: " + ec.message() + "\n"));
    reply(respond(parser_->get()));
  }

  http::response<http::string_body> error_response(http::status st, std::string text) {
    http::response<http::string_body> res{st, 11};
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.keep_alive(false);  // the request could not be framed: the stream is lost
    res.body() = std::move(text);
    res.prepare_payload();
    return res;
  }

  http::response<http::string_body> respond(const http::request<http::string_body>& req) {
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::server, "vsd");
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.keep_alive(req.keep_alive());
    std::string_view target(req.target().data(), req.target().size());
    target = target.substr(0, target.find('?'));  // Prometheus may add ?params
    if (target != "/metrics") {
      res.result(http::status::not_found);
      res.body() = "not found: vsd serves /metrics\n";
    } else if (req.method() != http::verb::get && req.method() != http::verb::head) {
      res.result(http::status::method_not_allowed);
      res.set(http::field::allow, "GET, HEAD");
      res.body() = "method not allowed: use GET\n";
    } else {
      res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      try {
        res.body() = shared_->body();
      } catch (const std::exception& e) {
        res.result(http::status::internal_server_error);
        res.set(http::field::content_type, "text/plain; charset=utf-8");
        res.body() = std::string("metrics unavailable: ") + e.what() + "\n";
      }
    }
    res.prepare_payload();
    if (req.method() == http::verb::head) {
      auto length = res.body().size();
      res.body().clear();
      res.content_length(length);  // HEAD: the header of the GET, no body
    }
    return res;
  }

  void reply(http::response<http::string_body> res) {
    res_ = std::move(res);
    stream_.expires_after(shared_->timeout);
    http::async_write(stream_, res_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (self->shared_->stopped) return;
      if (ec || self->res_.need_eof()) return self->close();
      self->read();
    });
  }

  beast::tcp_stream stream_;
  std::shared_ptr<MetricsServer::Shared> shared_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
};

std::runtime_error bad_listen(const std::string& listen, const std::string& why) {
  return std::runtime_error("metrics listen address '" + listen + "' " + why +
                            " (expected 127.0.0.1:9473 or [::1]:9473)");
}

}  // namespace

tcp::endpoint parse_listen(const std::string& listen) {
  std::string host, port;
  if (!listen.empty() && listen.front() == '[') {
    auto close = listen.find(']');
    if (close == std::string::npos) throw bad_listen(listen, "has no closing ']'");
    if (close + 1 >= listen.size() || listen[close + 1] != ':') throw bad_listen(listen, "has no :port");
    host = listen.substr(1, close - 1);
    port = listen.substr(close + 2);
  } else {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) throw bad_listen(listen, "has no :port");
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
    if (host.find(':') != std::string::npos) throw bad_listen(listen, "needs [] around an IPv6 address");
  }
  if (host.empty()) throw bad_listen(listen, "has no address");
  unsigned value = 0;
  auto [end, err] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || err != std::errc() || end != port.data() + port.size() || value > 65535)
    throw bad_listen(listen, "has a port that is not a number 0-65535");
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) throw bad_listen(listen, "has '" + host + "', which is not an IP address");
  return {addr, static_cast<std::uint16_t>(value)};
}

MetricsServer::MetricsServer(asio::io_context& io, const std::string& listen, Body body,
                             std::chrono::milliseconds timeout)
    : shared_(std::make_shared<Shared>()), acceptor_(io), retry_(io) {
  shared_->body = std::move(body);
  shared_->timeout = timeout;
  auto ep = parse_listen(listen);
  boost::system::error_code ec;
  acceptor_.open(ep.protocol(), ec);
  // A restart must not wait for TIME_WAIT; a live listener still refuses us.
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::string hint = ec == asio::error::address_in_use
                           ? ": another process holds the port (set [metrics] listen to another one)"
                       : ec == boost::system::errc::address_not_available
                           ? ": the address is not on this host"
                           : "";
    throw std::runtime_error("cannot listen for metrics on " + listen + ": " + ec.message() + hint);
  }
  accept();
}

MetricsServer::~MetricsServer() {
  shared_->stopped = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
  retry_.cancel();
  // Copy: a session may finish (and erase itself) as its socket closes.
  auto open = shared_->sessions;
  for (auto* s : open) s->close();
}

std::uint16_t MetricsServer::port() const {
  boost::system::error_code ec;
  return acceptor_.local_endpoint(ec).port();
}

void MetricsServer::accept() {
  acceptor_.async_accept([this, shared = shared_](boost::system::error_code ec, tcp::socket sock) {
    if (ec == asio::error::operation_aborted || shared->stopped) return;
    if (ec) {
      // Out of descriptors and the like: accepting again at once would spin
      // the control io_context.
      retry_.expires_after(std::chrono::milliseconds(100));
      retry_.async_wait([this, shared](boost::system::error_code wec) {
        if (!wec && !shared->stopped) accept();
      });
      return;
    }
    if (shared->sessions.size() >= kMaxConnections)
      sock.close(ec);  // refuse rather than queue: a full server must stay bounded
    else
      std::make_shared<Session>(std::move(sock), shared)->start();
    accept();
  });
}

}  // namespace vsd
