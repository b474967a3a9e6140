#include "appliance/ipvsadm_format.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace vsd {

const char* ipvsadm_forward_name(const std::string& forward) {
  if (forward == "nat") return "Masq";
  if (forward == "tun") return "Tunnel";
  if (forward == "dr") return "Route";
  return "?";
}

std::string format_list(const nlohmann::json& status) {
  std::string out;
  char line[512];
  // The version is the IPVS one whose semantics vsd follows; scripts that
  // parse ipvsadm output skip or match this line. `vsadm --version` gives vsd's.
  std::snprintf(line, sizeof line, "IP Virtual Server version 1.2.1 (size=%u)\n",
                status.value("max_connections", 0u));
  out += line;
  out += "Prot LocalAddress:Port Scheduler Flags\n";
  out += "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n";
  for (const auto& s : status.value("services", nlohmann::json::array())) {
    std::string proto = s.value("protocol", "");
    std::transform(proto.begin(), proto.end(), proto.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    std::snprintf(line, sizeof line, "%s  %s %s\n", proto.c_str(),
                  s.value("address", "").c_str(), s.value("scheduler", "").c_str());
    out += line;
    for (const auto& r : s.value("reals", nlohmann::json::array())) {
      std::snprintf(line, sizeof line, "  -> %-28s %-7s %-6u %-10llu %-10llu\n",
                    r.value("address", "").c_str(),
                    ipvsadm_forward_name(r.value("forward", "")), r.value("weight", 0u),
                    static_cast<unsigned long long>(r.value("active_conns", 0ull)),
                    static_cast<unsigned long long>(r.value("inactive_conns", 0ull)));
      out += line;
    }
  }
  return out;
}

}  // namespace vsd
