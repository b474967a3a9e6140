// One run of one check, on Asio. A probe never blocks: it starts I/O on the
// io_context and reports once. The deadline belongs to the base class, so
// every kind of check gets the same timeout handling.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "appliance/asio.hpp"
#include "appliance/health/check_config.hpp"
#include "appliance/health/probe_result.hpp"
#include "net/ip_address.hpp"

namespace boost::asio::ssl {
class context;
}

namespace vsd::health {

class Probe : public std::enable_shared_from_this<Probe> {
 public:
  using Done = std::function<void(ProbeResult)>;
  virtual ~Probe() = default;
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;

  // Starts the check; `done` runs exactly once, from the io_context (never
  // inside start()), unless the probe is abandoned first.
  void start(std::chrono::milliseconds timeout, Done done);
  // Stops the check without reporting: sockets close, a command's process
  // group is killed (and still reaped). Idempotent.
  void abandon();
  bool finished() const { return finished_; }

 protected:
  explicit Probe(boost::asio::io_context& io);

  virtual void begin() = 0;    // start the I/O
  virtual void stop_io() = 0;  // close what begin() opened
  // Default: stop the I/O and fail with timeout_reason().
  virtual void on_timeout();
  virtual std::string timeout_reason() const;
  // The first call wins: cancels the deadline, stops the I/O, posts `done`.
  void finish(bool ok, std::string reason);
  void finish(ProbeResult result);

  template <class Derived>
  std::shared_ptr<Derived> self() {
    return std::static_pointer_cast<Derived>(shared_from_this());
  }

  boost::asio::io_context& io_;
  std::chrono::milliseconds timeout_{0};

 private:
  boost::asio::steady_timer deadline_;
  Done done_;
  bool finished_ = false;
};

// What the probes of one monitor share: the io_context and, created on first
// use, the TLS client contexts of the https checks: one without files, and
// one per set of tls_ca / tls_cert / tls_key files (made again when one of
// them changed on disk, so a renewed certificate is taken at the next check).
class ProbeContext {
 public:
  explicit ProbeContext(boost::asio::io_context& io);
  ~ProbeContext();
  boost::asio::io_context& io() { return io_; }
  std::shared_ptr<boost::asio::ssl::context> tls();
  // nullptr with `error` set when a file cannot be used.
  std::shared_ptr<boost::asio::ssl::context> tls(const CheckConfig& check, std::string* error);

 private:
  struct TlsEntry;
  boost::asio::io_context& io_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  std::map<std::string, std::shared_ptr<TlsEntry>> contexts_;
};

// A probe for `check` aimed at `destination` (the real server with
// connect_to applied, see probe_destination()).
std::shared_ptr<Probe> make_probe(ProbeContext& context, const CheckConfig& check, const Endpoint& destination);

// Helpers shared by the probe implementations.
boost::asio::ip::address to_asio(const IpAddress& address);
boost::asio::ip::tcp::endpoint to_tcp(const Endpoint& endpoint);
boost::asio::ip::udp::endpoint to_udp(const Endpoint& endpoint);
std::string printable(std::string_view bytes, std::size_t max = 48);  // for reasons: \xNN escapes

}  // namespace vsd::health
