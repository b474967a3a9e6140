#include "appliance/daemon/node_state.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace vsd {

std::string node_state_json(const NodeState& state) {
  nlohmann::json j;
  j["version"] = 1;
  j["sysctls"] = nlohmann::json::array();
  for (const auto& [key, value] : state.sysctls) j["sysctls"].push_back({{"key", key}, {"original", value}});
  j["lo_vips"] = nlohmann::json::array();
  for (const auto& v : state.lo_vips) j["lo_vips"].push_back(v.to_string());
  j["tables"] = state.tables;
  return j.dump(2) + "\n";
}

bool parse_node_state(std::string_view text, NodeState* out, std::string* error) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  auto bad = [error](const std::string& why) {
    if (error) *error = why;
    return false;
  };
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  if (j.value("version", 0) != 1) return bad("unknown version (expected 1)");
  NodeState s;
  const auto& sysctls = j.value("sysctls", nlohmann::json::array());
  if (!sysctls.is_array()) return bad("\"sysctls\" is not an array");
  for (const auto& e : sysctls) {
    if (!e.is_object() || !e.contains("key") || !e["key"].is_string() || !e.contains("original") ||
        !e["original"].is_string())
      return bad("a \"sysctls\" entry lacks \"key\" or \"original\" strings");
    const std::string key = e["key"];
    // Only sysctl(8) spellings: the key becomes a path under /proc/sys.
    if (key.empty() || key.find("..") != std::string::npos || key.front() == '.' ||
        key.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._-/") != std::string::npos ||
        key.rfind("net.", 0) != 0)
      return bad("sysctl key \"" + key + "\" is not a net.* key in sysctl(8) spelling");
    s.sysctls.emplace_back(key, e["original"].get<std::string>());
  }
  const auto& vips = j.value("lo_vips", nlohmann::json::array());
  if (!vips.is_array()) return bad("\"lo_vips\" is not an array");
  for (const auto& v : vips) {
    auto a = v.is_string() ? IpAddress::parse(v.get<std::string>()) : std::nullopt;
    if (!a) return bad("\"lo_vips\" holds something that is not an address");
    s.lo_vips.push_back(*a);
  }
  const auto& tables = j.value("tables", nlohmann::json::array());
  if (!tables.is_array()) return bad("\"tables\" is not an array");
  for (const auto& t : tables) {
    if (!t.is_string() || (t != "vsd" && t != "vsd_rs")) return bad("\"tables\" names a table vsd does not make");
    s.tables.push_back(t);
  }
  *out = std::move(s);
  return true;
}

std::string beside_control_socket(const std::string& sock, const std::string& extension) {
  const auto dot = sock.rfind('.');
  const auto slash = sock.rfind('/');
  const bool has_ext = dot != std::string::npos && (slash == std::string::npos || dot > slash);
  return (has_ext ? sock.substr(0, dot) : sock) + extension;
}

std::optional<NodeState> NodeStateFile::load(std::string* error) const {
  std::ifstream in(path_);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  NodeState s;
  std::string why;
  if (!parse_node_state(text.str(), &s, &why)) {
    if (error) *error = path_ + ": " + why;
    return std::nullopt;
  }
  return s;
}

bool NodeStateFile::save(const NodeState& state, std::string* error) const {
  const std::string tmp = path_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << node_state_json(state);
    out.flush();
    if (!out) {
      if (error) *error = "cannot write " + tmp + ": " + std::strerror(errno);
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path_.c_str()) != 0) {
    if (error) *error = "cannot rename " + tmp + " to " + path_ + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

void NodeStateFile::remove() const { ::unlink(path_.c_str()); }

}  // namespace vsd
