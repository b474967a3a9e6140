#include "appliance/control/client.hpp"

#include "appliance/asio.hpp"

namespace vsd {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;

nlohmann::json control_request(const std::string& path, const nlohmann::json& request) {
  asio::io_context io;
  local::socket sock(io);
  boost::system::error_code ec;
  sock.connect(local::endpoint(path), ec);
  if (ec)
    throw std::runtime_error("cannot reach vsd at " + path + ": " + ec.message() +
                             " (is vsd running? is --socket / VSD_SOCKET right?)");
  std::string out = request.dump() + "\n";
  asio::write(sock, asio::buffer(out), ec);
  if (ec) throw std::runtime_error("cannot send to vsd at " + path + ": " + ec.message());
  std::string in;
  asio::read_until(sock, asio::dynamic_buffer(in, kMaxControlReply), '\n', ec);
  if (ec && in.empty())
    throw std::runtime_error("no reply from vsd at " + path + ": " + ec.message());
  auto reply = nlohmann::json::parse(in, nullptr, false);
  if (reply.is_discarded()) throw std::runtime_error("vsd sent a reply that is not JSON");
  return reply;
}

}  // namespace vsd
