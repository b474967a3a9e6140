// `vsd bgp bird`: this director's bird.conf for scale-out, from [bgp].
#include "appliance/daemon/bgp_main.hpp"

#include <CLI/CLI.hpp>
#include <iostream>

#include "appliance/config/config.hpp"
#include "appliance/daemon/bgp_routes.hpp"
#include "appliance/daemon/node_facts.hpp"

namespace vsd {

int bgp_main(int argc, char** argv) {
  CLI::App app{"vsd bgp - this director's bird.conf for scale-out, from [bgp]"};
  app.name("vsd bgp");
  std::string what, config_path = "/etc/vsd/vsd.toml", router_id_text;
  app.add_option("what", what, "bird")->required()->check(CLI::IsMember({"bird"}));
  app.add_option("-c,--config", config_path, "the cluster file")->capture_default_str();
  app.add_option("--router-id", router_id_text,
                 "bird's router id (default: this node's source address toward the first neighbor)");
  try {
    app.parse(argc - 1, argv + 1);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  auto result = load_config_file(config_path);
  if (!result.config) {
    for (const auto& e : result.errors) std::cerr << e.to_string() << "\n";
    return 2;
  }
  const Config& config = *result.config;
  if (!config.bgp.enabled()) {
    std::cerr << config_path << ": no [bgp] section with local_as: nothing to announce\n";
    return 2;
  }
  std::optional<IpAddress> router_id;
  if (!router_id_text.empty()) {
    router_id = IpAddress::parse(router_id_text);
    if (!router_id || !router_id->is_v4()) {
      std::cerr << "--router-id " << router_id_text << ": bird's router id is an IPv4 address\n";
      return 2;
    }
  } else {
    NodeFacts facts;
    std::string why;
    if (!gather_node_facts(&facts, &why)) {
      std::cerr << "cannot read this node's addresses: " << why << "\n";
      return 1;
    }
    const RouteFact r = facts.route ? facts.route(config.bgp.neighbors[0]) : RouteFact{};
    if (r.found && r.prefsrc.is_v4()) router_id = r.prefsrc;
    for (const auto& a : facts.addresses)
      if (!router_id && a.addr.is_v4() && a.addr.v4_bytes()[0] != 127) router_id = a.addr;
    if (!router_id) {
      std::cerr << "no IPv4 address to use as bird's router id: give --router-id\n";
      return 2;
    }
  }
  std::cout << bird_conf(config.bgp, *router_id);
  return 0;
}

}  // namespace vsd
