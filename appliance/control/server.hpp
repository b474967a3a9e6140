// The daemon's end of the control socket (client.hpp is vsadm's): a
// root-only unix stream socket on which vsadm sends one JSON request line
// and reads one JSON reply line. Runs on the control plane's io_context,
// never on the data path.
#pragma once

#include "appliance/asio.hpp"
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace vsd {

class ControlServer {
 public:
  using Handler = std::function<nlohmann::json(const nlohmann::json& request)>;

  // Throws std::runtime_error with a clear reason (path in use, no permission).
  ControlServer(boost::asio::io_context& io, std::string path, Handler handler);
  ~ControlServer();

  const std::string& path() const { return path_; }

 private:
  void accept();

  boost::asio::io_context& io_;
  std::string path_;
  Handler handler_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
};

}  // namespace vsd
