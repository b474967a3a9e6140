#include "appliance/health/probe.hpp"

#include <sys/stat.h>

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

void Probe::finish(bool ok, std::string reason) { finish(ProbeResult{ok, std::move(reason), {}, {}}); }

void Probe::finish(ProbeResult result) {
  if (finished_) return;
  finished_ = true;
  deadline_.cancel();
  stop_io();
  if (done_)
    boost::asio::post(io_, [done = std::move(done_), r = std::move(result)]() mutable { done(std::move(r)); });
  done_ = nullptr;
}

struct ProbeContext::TlsEntry {
  std::vector<std::pair<std::string, std::int64_t>> files;  // name, modification time (ns)
  std::shared_ptr<boost::asio::ssl::context> context;
};

ProbeContext::ProbeContext(boost::asio::io_context& io) : io_(io) {}
ProbeContext::~ProbeContext() = default;

std::shared_ptr<boost::asio::ssl::context> ProbeContext::tls() {
  if (!tls_) {
    tls_ = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client);
    tls_->set_verify_mode(boost::asio::ssl::verify_none);
  }
  return tls_;
}

namespace {

std::int64_t modified_ns(const std::string& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return -1;
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

}  // namespace

std::shared_ptr<boost::asio::ssl::context> ProbeContext::tls(const CheckConfig& c, std::string* error) {
  if (c.tls_ca.empty() && c.tls_cert.empty() && c.tls_key.empty()) return tls();
  const std::string key = c.tls_ca + "\n" + c.tls_cert + "\n" + c.tls_key;
  std::vector<std::pair<std::string, std::int64_t>> files;
  for (const auto* f : {&c.tls_ca, &c.tls_cert, &c.tls_key})
    if (!f->empty()) files.emplace_back(*f, modified_ns(*f));
  auto& entry = contexts_[key];
  if (entry && entry->files == files) return entry->context;
  auto ctx = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client);
  boost::system::error_code ec;
  auto failed = [&](const std::string& what, const std::string& file) {
    if (error) *error = "TLS " + what + " " + file + ": " + ec.message();
    contexts_.erase(key);
    return nullptr;
  };
  if (!c.tls_ca.empty() && ctx->load_verify_file(c.tls_ca, ec)) return failed("CA file", c.tls_ca);
  if (!c.tls_cert.empty() && ctx->use_certificate_chain_file(c.tls_cert, ec))
    return failed("client certificate", c.tls_cert);
  if (!c.tls_key.empty() && ctx->use_private_key_file(c.tls_key, boost::asio::ssl::context::pem, ec))
    return failed("client key", c.tls_key);
  ctx->set_verify_mode(c.tls_ca.empty() ? boost::asio::ssl::verify_none : boost::asio::ssl::verify_peer);
  entry = std::make_shared<TlsEntry>(TlsEntry{std::move(files), ctx});
  return ctx;
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

namespace {

// The host part of a Host header ("www.example.com:8080" -> "www.example.com");
// empty for an IP literal, which is no TLS server name.
std::string server_name(const std::string& host) {
  if (host.empty() || host.front() == '[') return "";
  std::string name = host.substr(0, host.rfind(':') == std::string::npos ? host.size() : host.rfind(':'));
  if (IpAddress::parse(name)) return "";
  return name;
}

std::shared_ptr<Probe> make_http_check(ProbeContext& context, const CheckConfig& check, const Endpoint& destination) {
  auto& io = context.io();
  std::shared_ptr<boost::asio::ssl::context> tls;
  if (check.type == CheckType::https) {
    std::string error;
    tls = context.tls(check, &error);
    if (!tls) return make_failed_probe(io, error);
  }
  std::vector<ProbeMaker> steps;
  std::vector<std::string> names;
  for (const HttpUrl& u : check_urls(check)) {
    const std::string host = !u.virtualhost.empty() ? u.virtualhost : check.virtualhost;
    HttpExpect expect{u.status, u.digest};
    names.push_back(u.path);
    if (check.type == CheckType::http) {
      steps.push_back([&io, destination, path = u.path, expect, host] {
        return make_http_probe(io, destination, path, expect, host);
      });
      continue;
    }
    TlsRequest request;
    request.sni = check.sni ? *check.sni : server_name(host);
    request.verify = !check.tls_ca.empty();
    request.verify_name = request.sni;
    steps.push_back([&io, tls, destination, path = u.path, expect, host, request] {
      return make_https_probe(io, tls, destination, path, expect, host, request);
    });
  }
  if (steps.size() == 1) return steps.front()();
  return make_sequence_probe(io, std::move(steps), std::move(names));
}

}  // namespace

std::shared_ptr<Probe> make_probe(ProbeContext& context, const CheckConfig& check, const Endpoint& destination) {
  auto& io = context.io();
  const bool needs_port = check.type == CheckType::tcp || check.type == CheckType::http ||
                          check.type == CheckType::https || check.type == CheckType::udp ||
                          check.type == CheckType::dns;
  if (needs_port && destination.port == 0)
    return make_failed_probe(io, "no port to probe: give the real server a port or set connect_to");
  switch (check.type) {
    case CheckType::tcp: return make_tcp_probe(io, destination);
    case CheckType::http:
    case CheckType::https: return make_http_check(context, check, destination);
    case CheckType::udp: return make_udp_probe(io, destination, check.payload, check.expect);
    case CheckType::icmp: return make_icmp_probe(io, destination.addr);
    case CheckType::misc:
      return std::make_shared<MiscProbe>(
          io, check.command,
          std::vector<std::pair<std::string, std::string>>{
              {"VSD_ADDRESS", destination.addr.to_string()}, {"VSD_PORT", std::to_string(destination.port)}},
          check.dynamic, check.user);
    case CheckType::dns:
      return make_dns_probe(io, destination, check.query_type, check.query_name, check.answer);
    case CheckType::file: return make_file_probe(io, check.file, check.factor, check.reverse);
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
