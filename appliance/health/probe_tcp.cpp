#include "appliance/health/probes.hpp"

namespace vsd::health {

namespace {

class TcpProbe final : public Probe {
 public:
  TcpProbe(boost::asio::io_context& io, const Endpoint& destination)
      : Probe(io), destination_(to_tcp(destination)), socket_(io) {}

 private:
  void begin() override {
    socket_.async_connect(destination_, [self = self<TcpProbe>()](const boost::system::error_code& ec) {
      if (self->finished()) return;
      if (ec)
        self->finish(false, "connect: " + ec.message());
      else
        self->finish(true, "connected");
    });
  }
  void stop_io() override {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

  boost::asio::ip::tcp::endpoint destination_;
  boost::asio::ip::tcp::socket socket_;
};

}  // namespace

std::shared_ptr<Probe> make_tcp_probe(boost::asio::io_context& io, const Endpoint& destination) {
  return std::make_shared<TcpProbe>(io, destination);
}

}  // namespace vsd::health
