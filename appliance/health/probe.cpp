#include "appliance/health/probe.hpp"

#include <boost/asio/ssl.hpp>

#include "appliance/health/probe_misc.hpp"
#include "appliance/health/probes.hpp"

namespace vsd::health {

Probe::Probe(boost::asio::io_context& io) : io_(io), deadline_(io) {}

void Probe::start(std::chrono::milliseconds timeout, Done done) {
  timeout_ = timeout;
  done_ = std::move(done);
  deadline_.expires_after(timeout);
  deadline_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->finished_) return;
    self->on_timeout();
  });
  begin();
}

void Probe::abandon() {
  done_ = nullptr;
  if (finished_) return;
  finished_ = true;
  deadline_.cancel();
  stop_io();
}

void Probe::on_timeout() { finish(false, timeout_reason()); }

std::string Probe::timeout_reason() const {
  return "timed out after " + std::to_string(timeout_.count()) + " ms";
}

void Probe::finish(bool ok, std::string reason) {
  if (finished_) return;
  finished_ = true;
  deadline_.cancel();
  stop_io();
  if (done_)
    boost::asio::post(io_, [done = std::move(done_), r = ProbeResult{ok, std::move(reason)}]() mutable {
      done(std::move(r));
    });
  done_ = nullptr;
}

ProbeContext::ProbeContext(boost::asio::io_context& io) : io_(io) {}
ProbeContext::~ProbeContext() = default;

boost::asio::ssl::context& ProbeContext::tls() {
  if (!tls_) {
    tls_ = std::make_unique<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client);
    tls_->set_verify_mode(boost::asio::ssl::verify_none);
  }
  return *tls_;
}

namespace {

class FailedProbe final : public Probe {
 public:
  FailedProbe(boost::asio::io_context& io, std::string reason) : Probe(io), reason_(std::move(reason)) {}

 private:
  void begin() override { finish(false, reason_); }
  void stop_io() override {}
  std::string reason_;
};

}  // namespace

std::shared_ptr<Probe> make_failed_probe(boost::asio::io_context& io, std::string reason) {
  return std::make_shared<FailedProbe>(io, std::move(reason));
}

std::shared_ptr<Probe> make_probe(ProbeContext& context, const CheckConfig& check, const Endpoint& destination) {
  auto& io = context.io();
  const bool needs_port = check.type == CheckType::tcp || check.type == CheckType::http ||
                          check.type == CheckType::https || check.type == CheckType::udp;
  if (needs_port && destination.port == 0)
    return make_failed_probe(io, "no port to probe: give the real server a port or set connect_to");
  switch (check.type) {
    case CheckType::tcp: return make_tcp_probe(io, destination);
    case CheckType::http: return make_http_probe(io, destination, check.path, {check.status, check.digest});
    case CheckType::https:
      return make_https_probe(io, context.tls(), destination, check.path, {check.status, check.digest});
    case CheckType::udp: return make_udp_probe(io, destination, check.payload, check.expect);
    case CheckType::icmp: return make_icmp_probe(io, destination.addr);
    case CheckType::misc:
      return std::make_shared<MiscProbe>(
          io, check.command,
          std::vector<std::pair<std::string, std::string>>{
              {"VSD_ADDRESS", destination.addr.to_string()}, {"VSD_PORT", std::to_string(destination.port)}});
  }
  return make_failed_probe(io, "unknown check type");
}

boost::asio::ip::address to_asio(const IpAddress& a) {
  if (a.is_v4()) {
    boost::asio::ip::address_v4::bytes_type b;
    std::copy(a.v4_bytes(), a.v4_bytes() + 4, b.begin());
    return boost::asio::ip::address_v4(b);
  }
  boost::asio::ip::address_v6::bytes_type b;
  std::copy(a.bytes.begin(), a.bytes.end(), b.begin());
  return boost::asio::ip::address_v6(b);
}

boost::asio::ip::tcp::endpoint to_tcp(const Endpoint& e) { return {to_asio(e.addr), e.port}; }
boost::asio::ip::udp::endpoint to_udp(const Endpoint& e) { return {to_asio(e.addr), e.port}; }

std::string printable(std::string_view bytes, std::size_t max) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes.size() && i < max; ++i) {
    auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  if (bytes.size() > max) out += "...";
  return out;
}

}  // namespace vsd::health
