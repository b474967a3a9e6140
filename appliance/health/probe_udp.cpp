#include <array>

#include "appliance/health/probes.hpp"

namespace vsd::health {

namespace {

class UdpProbe final : public Probe {
 public:
  UdpProbe(boost::asio::io_context& io, const Endpoint& destination, std::string payload, std::string expect)
      : Probe(io),
        destination_(to_udp(destination)),
        payload_(std::move(payload)),
        expect_(std::move(expect)),
        socket_(io) {}

 private:
  void begin() override {
    // Connected, so only the real server's replies arrive and its ICMP port
    // unreachable surfaces as ECONNREFUSED.
    boost::system::error_code ec;
    socket_.open(destination_.protocol(), ec);
    if (!ec) socket_.connect(destination_, ec);
    if (ec) return finish(false, "UDP socket: " + ec.message());
    socket_.async_send(boost::asio::buffer(payload_),
                       [self = self<UdpProbe>()](const boost::system::error_code& ec, std::size_t) {
                         if (self->finished()) return;
                         if (ec) return self->finish(false, "send: " + ec.message());
                         self->receive();
                       });
  }

  void receive() {
    socket_.async_receive(
        boost::asio::buffer(buffer_), [self = self<UdpProbe>()](const boost::system::error_code& ec, std::size_t n) {
          if (self->finished()) return;
          if (ec == boost::asio::error::connection_refused)
            return self->finish(false, "port unreachable (ICMP): " + ec.message());
          if (ec) return self->finish(false, "receive: " + ec.message());
          std::string_view reply(self->buffer_.data(), n);
          if (reply.substr(0, self->expect_.size()) == self->expect_)
            return self->finish(true, self->expect_.empty() ? "reply received" : "reply matches");
          self->mismatch_ = std::string(reply);  // keep waiting: a stray reply is no verdict
          self->receive();
        });
  }

  std::string timeout_reason() const override {
    std::string r = "no reply within " + std::to_string(timeout_.count()) + " ms";
    if (mismatch_)
      r += "; a reply did not start with \"" + printable(expect_) + "\": \"" + printable(*mismatch_) + "\"";
    return r;
  }

  void stop_io() override {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

  boost::asio::ip::udp::endpoint destination_;
  std::string payload_, expect_;
  boost::asio::ip::udp::socket socket_;
  std::array<char, 4096> buffer_{};  // enough for a prefix match; longer replies are truncated
  std::optional<std::string> mismatch_;
};

}  // namespace

std::shared_ptr<Probe> make_udp_probe(boost::asio::io_context& io, const Endpoint& destination,
                                      std::string payload, std::string expect) {
  return std::make_shared<UdpProbe>(io, destination, std::move(payload), std::move(expect));
}

}  // namespace vsd::health
