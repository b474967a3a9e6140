#include "appliance/control/client.hpp"

#include <stdexcept>

#include "appliance/asio.hpp"

namespace vsd {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;

namespace {

local::socket send_request(asio::io_context& io, const std::string& path, const nlohmann::json& request) {
  local::socket sock(io);
  boost::system::error_code ec;
  sock.connect(local::endpoint(path), ec);
  if (ec)
    throw std::runtime_error("cannot reach vsd at " + path + ": " + ec.message() +
                             " (is vsd running? is --socket / VSD_SOCKET right?)");
  std::string out = request.dump() + "\n";
  asio::write(sock, asio::buffer(out), ec);
  if (ec) throw std::runtime_error("cannot send to vsd at " + path + ": " + ec.message());
  return sock;
}

nlohmann::json parse_reply(const char* begin, const char* end) {
  auto reply = nlohmann::json::parse(begin, end, nullptr, false);
  if (reply.is_discarded()) throw std::runtime_error("vsd sent a reply that is not JSON");
  return reply;
}

}  // namespace

nlohmann::json control_request(const std::string& path, const nlohmann::json& request) {
  asio::io_context io;
  local::socket sock = send_request(io, path, request);
  boost::system::error_code ec;
  std::string in;
  asio::read_until(sock, asio::dynamic_buffer(in, kMaxControlReply), '\n', ec);
  if (ec && in.empty())
    throw std::runtime_error("no reply from vsd at " + path + ": " + ec.message());
  return parse_reply(in.data(), in.data() + in.size());
}

bool control_request_lines(const std::string& path, const nlohmann::json& request,
                           const std::function<bool(const nlohmann::json& line)>& on_line,
                           std::size_t max_line) {
  asio::io_context io;
  local::socket sock = send_request(io, path, request);
  std::string in;
  for (;;) {
    boost::system::error_code ec;
    const std::size_t n = asio::read_until(sock, asio::dynamic_buffer(in, max_line), '\n', ec);
    if (ec == asio::error::not_found)
      throw std::runtime_error("vsd sent a reply line longer than " + std::to_string(max_line) + " bytes");
    if (ec) return false;  // closed (a last line without its newline is incomplete)
    const nlohmann::json line = parse_reply(in.data(), in.data() + n);
    in.erase(0, n);
    if (!on_line(line)) return true;
  }
}

}  // namespace vsd
