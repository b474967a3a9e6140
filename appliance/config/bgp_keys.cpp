// [bgp]: scale-out's keys (config.hpp BgpConfig), one row each.
#include "appliance/config/config_keys.hpp"
#include "appliance/config/key_makers.hpp"

namespace vsd {
namespace {

using namespace keys;

bool read_neighbors(ConfigReader& r, const toml::node& n, BgpConfig& bgp) {
  const std::string example = "bgp.neighbors must be an array of the routers' addresses, e.g. [\"192.0.2.254\"]";
  auto out = read_addresses(r, n, example, "bgp.neighbors entries must be IP addresses (the routers this director peers with)");
  if (!out) return false;
  if (out->empty()) {
    r.error(n, example);
    return false;
  }
  bgp.neighbors = std::move(*out);
  return true;
}

void write_neighbors(TomlOut& out, std::string_view name, const BgpConfig& bgp) {
  write_addresses(out, name, bgp.neighbors);
}

// A Linux interface name: what the kernel's dev_valid_name() takes.
std::optional<std::string> interface_problem(const std::string& name) {
  if (name.empty() || name.size() > 15 || name == "." || name == ".." ||
      name.find_first_of("/: \t\n") != std::string::npos)
    return "bgp.interface must be an interface name of 1 to 15 characters without '/', ':' or spaces, got \"" +
           name + "\"";
  return std::nullopt;
}

bool read_interface(ConfigReader& r, const toml::node& n, BgpConfig& bgp) {
  auto v = r.string(n);
  if (!v) return false;
  if (auto why = interface_problem(*v)) {
    r.error(n, *why);
    return false;
  }
  bgp.interface = *v;
  return true;
}

const ConfigKey<BgpConfig> bgp_keys[] = {
    integer_key<&BgpConfig::local_as, 1, 4294967295LL>("local_as"),
    {"neighbors", read_neighbors, write_neighbors, unchanged<&BgpConfig::neighbors>},
    integer_key<&BgpConfig::neighbor_as, 1, 4294967295LL>("neighbor_as"),
    integer_key<&BgpConfig::hold_time, 3, 65535>("hold_time"),
    {"interface", read_interface, write_string<&BgpConfig::interface>, unchanged<&BgpConfig::interface>,
     Save::if_changed,
     [](KeyChecker& c, const BgpConfig& b) {
       if (auto why = interface_problem(b.interface)) c.error(*why);
     }},
    string_key<&BgpConfig::routes_file>("routes_file"),
    string_key<&BgpConfig::bird_socket>("bird_socket"),
};

void bgp_end(ConfigReader& r, const toml::table& t, BgpConfig& bgp) {
  if (t.empty()) return;
  if (!bgp.enabled()) {
    if (!t.contains("local_as")) r.error(t, "[bgp] needs bgp.local_as, this director's AS number");
    return;
  }
  // A key that was there but refused has its own error.
  if (bgp.neighbors.empty() && !t.contains("neighbors"))
    r.error(t, "[bgp] needs bgp.neighbors, the routers' addresses");
  if (bgp.neighbor_as == 0 && !t.contains("neighbor_as"))
    r.error(t, "[bgp] needs bgp.neighbor_as, the routers' AS number");
  if (bgp.routes_file.empty() || bgp.routes_file[0] != '/')
    r.error(t, "bgp.routes_file must be an absolute path (bird's static protocol includes it)");
}

}  // namespace

const KeyTable<BgpConfig> bgp_table{{"[bgp]", "bgp", "bgp"}, bgp_keys, bgp_end};

}  // namespace vsd
