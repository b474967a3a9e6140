// vsd's configuration: one TOML file whose names map to ipvsadm's options.
// A file is accepted whole or refused whole: every error is reported as
// FILE:LINE:COL: reason, and nothing of a refused file is applied.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "forwarders/ip_address.hpp"

namespace vsd {

enum class Protocol : std::uint8_t { tcp = 6, udp = 17 };  // IP protocol numbers
enum class ForwardMethod : std::uint8_t { nat, tun, dr };   // ipvsadm -m | -i | -g
const char* to_string(Protocol);       // "tcp" / "udp"
const char* to_string(ForwardMethod);  // "nat" / "tun" / "dr"

struct SourceLocation {
  std::string file;
  int line = 0, column = 0;
};

struct RealServerConfig {
  Endpoint address;  // port 0: the service's port
  std::uint32_t weight = 1;
  ForwardMethod forward = ForwardMethod::nat;
  SourceLocation where;
};

struct ServiceConfig {
  Endpoint address;
  Protocol protocol = Protocol::tcp;
  std::string scheduler = "wlc";  // ipvsadm's default
  std::vector<RealServerConfig> reals;
  SourceLocation where;
};

struct DirectorConfig {
  std::uint16_t queue = 0;
  std::uint16_t queues = 1;
  bool fail_open = false;
  std::uint32_t max_connections = 1048576;
};

struct TimeoutConfig {
  std::uint32_t tcp = 900, tcpfin = 120, udp = 300;
};

struct ControlConfig {
  std::string socket = "/run/vsd/vsd.sock";
};

struct LogConfig {
  std::string level = "info";
};

struct Config {
  DirectorConfig director;
  TimeoutConfig timeouts;
  ControlConfig control;
  LogConfig log;
  std::vector<ServiceConfig> services;
};

struct ConfigError {
  SourceLocation where;
  std::string reason;
  std::string to_string() const;  // "FILE:LINE:COL: reason"
};

struct ConfigResult {
  std::optional<Config> config;  // set iff errors is empty
  std::vector<ConfigError> errors;
};

ConfigResult parse_config(std::string_view text, std::string_view file_name);
ConfigResult load_config_file(const std::string& path);

}  // namespace vsd
