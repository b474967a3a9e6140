#include <array>
#include <boost/asio/ssl.hpp>
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
  template <class... StreamArgs>
  HttpProbe(boost::asio::io_context& io, const Endpoint& destination, const std::string& path,
            HttpExpect expect, StreamArgs&... stream_args)
      : Probe(io),
        destination_(to_tcp(destination)),
        request_(http_request(path, destination.to_string())),
        check_(std::move(expect)),
        stream_(io, stream_args...) {}

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
                              if (ec) return self->finish(false, "TLS handshake: " + ec.message());
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
  Stream stream_;
  std::array<char, 8192> buffer_{};
};

}  // namespace

std::shared_ptr<Probe> make_http_probe(boost::asio::io_context& io, const Endpoint& destination,
                                       const std::string& path, HttpExpect expect) {
  return std::make_shared<HttpProbe<tcp::socket>>(io, destination, path, std::move(expect));
}

std::shared_ptr<Probe> make_https_probe(boost::asio::io_context& io, boost::asio::ssl::context& tls,
                                        const Endpoint& destination, const std::string& path,
                                        HttpExpect expect) {
  return std::make_shared<HttpProbe<TlsStream>>(io, destination, path, std::move(expect), tls);
}

}  // namespace vsd::health
