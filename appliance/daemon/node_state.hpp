// What vsd changed on this node, kept in a file beside the control socket
// (/run/vsd/vsd.state), so that a vsd that could not clean up (kill -9, a
// crash) is cleaned up by the next start and its clean stop: sysctls go
// back to their values before the FIRST start, VIPs it put on lo come off,
// tables of a role the node no longer has go. Written (atomically, by
// rename) after every change; removed by a clean stop.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/ip_address.hpp"

namespace vsd {

struct NodeState {
  // sysctl(8) key -> its value before vsd first changed it, in change order.
  std::vector<std::pair<std::string, std::string>> sysctls;
  std::vector<IpAddress> lo_vips;   // put on lo by vsd (real-server role)
  std::vector<std::string> tables;  // nft tables vsd made: "vsd" (director), "vsd_rs" (real server)
  bool empty() const { return sysctls.empty() && lo_vips.empty() && tables.empty(); }
  bool operator==(const NodeState&) const = default;
};

std::string node_state_json(const NodeState& state);
// False with *error naming what is wrong (the file is then ignored).
bool parse_node_state(std::string_view text, NodeState* out, std::string* error);

// A file of vsd's beside its control socket: /run/vsd/vsd.sock and
// ".state" -> /run/vsd/vsd.state. Each instance (a test's own socket
// directory, a real server's private /run/vsd) has its own.
std::string beside_control_socket(const std::string& control_socket, const std::string& extension);

class NodeStateFile {
 public:
  explicit NodeStateFile(std::string path) : path_(std::move(path)) {}
  const std::string& path() const { return path_; }
  // What an unclean stop left: nullopt when there is no file. A file that
  // does not parse is reported in *error and treated as absent.
  std::optional<NodeState> load(std::string* error) const;
  // Writes the whole state (tmp file + rename); false with *error.
  bool save(const NodeState& state, std::string* error) const;
  void remove() const;

 private:
  std::string path_;
};

}  // namespace vsd
