// HTTP endpoint for Prometheus: GET /metrics answers with body() (the text
// from render_metrics). Runs on the daemon's control io_context, no threads
// of its own; every socket operation is asynchronous so a slow scraper never
// stalls vsadm requests or health checks on the same context.
#pragma once

#include "appliance/asio.hpp"
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace vsd {

class MetricsServer {
 public:
  using Body = std::function<std::string()>;

  // listen: "127.0.0.1:9473", "[::1]:9473" (port 0: any free port).
  // timeout bounds each request read and each reply write on a connection,
  // so an idle or stalled client is dropped. Throws std::runtime_error on a
  // malformed listen string or when the address cannot be bound.
  MetricsServer(boost::asio::io_context& io, const std::string& listen, Body body,
                std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Closes the listener and every open connection; body() is not called again.
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  std::uint16_t port() const;

  struct Shared;  // state the connections share with the server

 private:
  void accept();

  std::shared_ptr<Shared> shared_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_;  // accept failures (EMFILE) back off, not spin
};

// "host:port" with an IPv4 literal or a bracketed IPv6 literal. Throws
// std::runtime_error naming what is wrong.
boost::asio::ip::tcp::endpoint parse_listen(const std::string& listen);

}  // namespace vsd
