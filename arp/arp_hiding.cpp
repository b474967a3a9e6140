#include "arp/arp_hiding.hpp"

#include <algorithm>

namespace vsd::arp {

bool valid_interface_name(const std::string& name) {
  if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
  return std::none_of(name.begin(), name.end(), [](char c) {
    return c == '/' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
           c == '\v' || c == '\f' || c == '\0';
  });
}

namespace {

void add_interface(const std::string& ifname, std::vector<SysctlSetting>* out) {
  std::string key_name = ifname;  // sysctl(8) writes a '.' inside a name as '/'
  std::replace(key_name.begin(), key_name.end(), '.', '/');
  // arp_ignore 1: reply only if the target IP is configured on the incoming
  // interface. arp_announce 2: always pick the best local address on the
  // outgoing interface as ARP sender, never the VIP on lo.
  for (const auto& [name, value] : {std::pair{"arp_ignore", "1"}, std::pair{"arp_announce", "2"}}) {
    out->push_back({"net.ipv4.conf." + key_name + "." + name,
                    "net/ipv4/conf/" + ifname + "/" + name, value});
  }
}

}  // namespace

bool arp_hiding_sysctls(const std::vector<std::string>& interfaces,
                        std::vector<SysctlSetting>* out, std::string* error) {
  for (const auto& name : interfaces) {
    if (!valid_interface_name(name)) {
      if (error)
        *error = "invalid interface name \"" + name +
                 "\": 1 to 15 characters, not \".\" or \"..\", no '/', ':' or spaces";
      return false;
    }
  }
  out->clear();
  std::vector<std::string> done = {"all", "lo"};
  add_interface("all", out);
  add_interface("lo", out);
  for (const auto& name : interfaces) {
    if (std::find(done.begin(), done.end(), name) != done.end()) continue;
    done.push_back(name);
    add_interface(name, out);
  }
  return true;
}

std::string arp_hiding_ruleset(const std::vector<IpAddress>& vips) {
  std::string in_rules, out_rules, notes;
  for (const auto& vip : vips) {
    const std::string a = vip.to_string();
    if (!vip.is_v4()) {
      notes += "# VIP " + a + ": IPv6, no ARP; Linux answers no neighbour solicitation for it on lo\n";
      continue;
    }
    in_rules += "\t\t# VIP " + a + ": the director answers who-has for it, this host stays silent\n";
    in_rules += "\t\tarp operation request arp daddr ip " + a + " drop comment \"vsd: VIP " + a +
                " belongs to the director\"\n";
    out_rules += "\t\t# VIP " + a + ": never the sender address of this host's ARP\n";
    out_rules += "\t\tarp saddr ip " + a + " drop comment \"vsd: do not announce VIP " + a + "\"\n";
  }
  // Declaring the table first makes the delete succeed when it is absent;
  // nft -f applies the whole file as one transaction.
  std::string t = std::string("# vsd real-server ARP hiding (VS-DR / VS-TUN): the VIPs live on lo here.\n") +
                  notes + "table arp " + kArpHidingTable + "\ndelete table arp " + kArpHidingTable +
                  "\ntable arp " + kArpHidingTable + " {\n";
  t += "\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n" + in_rules +
       "\t}\n";
  t += "\tchain output {\n\t\ttype filter hook output priority filter; policy accept;\n" + out_rules +
       "\t}\n}\n";
  return t;
}

std::string arp_hiding_teardown() {
  return std::string("table arp ") + kArpHidingTable + "\ndelete table arp " + kArpHidingTable +
         "\n";
}

}  // namespace vsd::arp
