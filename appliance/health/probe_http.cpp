#include <array>
#include <boost/asio/ssl.hpp>
#include <openssl/ssl.h>
#include <type_traits>

#include "appliance/health/probes.hpp"

namespace vsd::health {

namespace {

using tcp = boost::asio::ip::tcp;
using TlsStream = boost::asio::ssl::stream<tcp::socket>;

// Plain and TLS share everything but the handshake.
template <class Stream>
class HttpProbe final : public Probe {
  static constexpr bool tls = std::is_same_v<Stream, TlsStream>;

 public:
  HttpProbe(boost::asio::io_context& io, const Endpoint& destination, const std::string& path, HttpExpect expect,
            const std::string& host)
    requires(!tls)
      : Probe(io),
        destination_(to_tcp(destination)),
        request_(http_request(path, host.empty() ? destination.to_string() : host)),
        check_(std::move(expect)),
        stream_(io) {}

  HttpProbe(boost::asio::io_context& io, std::shared_ptr<boost::asio::ssl::context> context,
            const Endpoint& destination, const std::string& path, HttpExpect expect, const std::string& host,
            const TlsRequest& request)
    requires(tls)
      : Probe(io),
        destination_(to_tcp(destination)),
        request_(http_request(path, host.empty() ? destination.to_string() : host)),
        check_(std::move(expect)),
        context_(std::move(context)),
        stream_(io, *context_) {
    if (!request.sni.empty()) SSL_set_tlsext_host_name(stream_.native_handle(), request.sni.c_str());
    if (request.verify) {
      stream_.set_verify_mode(boost::asio::ssl::verify_peer);
      if (!request.verify_name.empty())
        stream_.set_verify_callback(boost::asio::ssl::host_name_verification(request.verify_name));
    } else {
      stream_.set_verify_mode(boost::asio::ssl::verify_none);
    }
  }

 private:
  tcp::socket& socket() {
    if constexpr (tls)
      return stream_.next_layer();
    else
      return stream_;
  }

  void begin() override {
    socket().async_connect(destination_, [self = self<HttpProbe>()](const boost::system::error_code& ec) {
      if (self->finished()) return;
      if (ec) return self->finish(false, "connect: " + ec.message());
      if constexpr (tls)
        self->handshake();
      else
        self->send();
    });
  }

  void handshake() {
    stream_.async_handshake(boost::asio::ssl::stream_base::client,
                            [self = self<HttpProbe>()](const boost::system::error_code& ec) {
                              if (self->finished()) return;
                              if (ec) {
                                std::string why = "TLS handshake: " + ec.message();
                                const long verify = SSL_get_verify_result(self->stream_.native_handle());
                                if (verify != X509_V_OK)
                                  why += " (certificate: " + std::string(X509_verify_cert_error_string(verify)) + ")";
                                return self->finish(false, why);
                              }
                              self->send();
                            });
  }

  void send() {
    boost::asio::async_write(stream_, boost::asio::buffer(request_),
                             [self = self<HttpProbe>()](const boost::system::error_code& ec, std::size_t) {
                               if (self->finished()) return;
                               if (ec) return self->finish(false, "sending the request: " + ec.message());
                               self->receive();
                             });
  }

  void receive() {
    stream_.async_read_some(
        boost::asio::buffer(buffer_), [self = self<HttpProbe>()](const boost::system::error_code& ec, std::size_t n) {
          if (self->finished()) return;
          if (n > 0)
            if (auto verdict = self->check_.feed(std::string_view(self->buffer_.data(), n)))
              return self->finish(verdict->ok, verdict->reason);
          if (ec == boost::asio::error::eof || ec == boost::asio::ssl::error::stream_truncated) {
            auto verdict = self->check_.end_of_stream();
            return self->finish(verdict.ok, verdict.reason);
          }
          if (ec) return self->finish(false, "reading the response: " + ec.message());
          self->receive();
        });
  }

  void stop_io() override {
    boost::system::error_code ignored;
    socket().close(ignored);
  }

  tcp::endpoint destination_;
  std::string request_;
  HttpResponseCheck check_;
  std::shared_ptr<boost::asio::ssl::context> context_;  // TLS: outlives the stream
  Stream stream_;
  std::array<char, 8192> buffer_{};
};

// One step after the other, each with its share of the deadline.
class SequenceProbe final : public Probe {
 public:
  SequenceProbe(boost::asio::io_context& io, std::vector<ProbeMaker> steps, std::vector<std::string> names)
      : Probe(io), steps_(std::move(steps)), names_(std::move(names)) {}

 private:
  void begin() override { next(); }

  void next() {
    if (index_ == steps_.size())
      return finish(true, steps_.size() == 1 ? last_reason_
                                             : "all " + std::to_string(steps_.size()) + " URLs passed");
    current_ = steps_[index_]();
    const auto share = std::chrono::milliseconds(
        std::max<std::int64_t>(1, timeout_.count() / static_cast<std::int64_t>(steps_.size())));
    current_->start(share, [self = self<SequenceProbe>()](ProbeResult r) {
      if (self->finished()) return;
      const std::string name = self->index_ < self->names_.size() ? self->names_[self->index_] : "";
      if (!r.ok) return self->finish(false, self->steps_.size() == 1 ? r.reason : name + ": " + r.reason);
      self->last_reason_ = r.reason;
      ++self->index_;
      self->next();
    });
  }

  void stop_io() override {
    if (current_) current_->abandon();
  }

  std::vector<ProbeMaker> steps_;
  std::vector<std::string> names_;
  std::size_t index_ = 0;
  std::shared_ptr<Probe> current_;
  std::string last_reason_;
};

}  // namespace

std::shared_ptr<Probe> make_http_probe(boost::asio::io_context& io, const Endpoint& destination,
                                       const std::string& path, HttpExpect expect, const std::string& host) {
  return std::make_shared<HttpProbe<tcp::socket>>(io, destination, path, std::move(expect), host);
}

std::shared_ptr<Probe> make_https_probe(boost::asio::io_context& io, std::shared_ptr<boost::asio::ssl::context> tls,
                                        const Endpoint& destination, const std::string& path, HttpExpect expect,
                                        const std::string& host, TlsRequest request) {
  return std::make_shared<HttpProbe<TlsStream>>(io, std::move(tls), destination, path, std::move(expect), host,
                                                request);
}

std::shared_ptr<Probe> make_sequence_probe(boost::asio::io_context& io, std::vector<ProbeMaker> steps,
                                           std::vector<std::string> names) {
  return std::make_shared<SequenceProbe>(io, std::move(steps), std::move(names));
}

}  // namespace vsd::health
