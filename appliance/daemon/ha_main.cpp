// `vsd ha keepalived|conntrackd`: print this node's configuration for the
// pair's helper daemons (ha_configs.hpp).
#include "appliance/daemon/ha_main.hpp"

#include <CLI/CLI.hpp>
#include <iostream>

#include "appliance/config/config.hpp"
#include "appliance/daemon/ha_configs.hpp"
#include "appliance/daemon/node_facts.hpp"
#include "appliance/daemon/node_state.hpp"

namespace vsd {

int ha_main(int argc, char** argv) {
  CLI::App app{"vsd ha - the director pair's keepalived.conf and conntrackd.conf, from [ha]"};
  app.name("vsd ha");
  std::string what, config_path = "/etc/vsd/vsd.toml", notify, state_dir;
  app.add_option("what", what, "keepalived | conntrackd")
      ->required()
      ->check(CLI::IsMember({"keepalived", "conntrackd"}));
  app.add_option("-c,--config", config_path, "the cluster file")->capture_default_str();
  app.add_option("--notify", notify,
                 "keepalived: the notify command (default: /usr/libexec/vsd/vsd-ha-notify with "
                 "this config's control socket and /etc/conntrackd/conntrackd.conf)");
  app.add_option("--state-dir", state_dir,
                 "conntrackd: where its lock file and control socket go (default /run/conntrackd)");
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
  if (!config.ha.enabled()) {
    std::cerr << config_path << ": no [ha] section with directors: there is no pair to configure\n";
    return 2;
  }
  NodeFacts facts;
  std::string why;
  if (!gather_node_facts(&facts, &why)) {
    std::cerr << "cannot read this node's addresses: " << why << "\n";
    return 1;
  }
  auto node = ha_node(config.ha, facts, &why);
  if (!node) {
    std::cerr << config_path << ": " << why << "\n";
    return 2;
  }
  if (what == "keepalived") {
    if (notify.empty()) {
      // Only NAT flows live in conntrack: a DR/TUN pair runs no conntrackd.
      bool nat = false;
      for (const auto& s : config.services)
        for (const auto& r : s.reals) nat |= r.forward == ForwardMethod::nat;
      notify = "/usr/libexec/vsd/vsd-ha-notify --socket " + config.control.socket +
               " --conntrackd-conf " + (nat ? "/etc/conntrackd/conntrackd.conf" : "none");
    }
    std::cout << keepalived_conf(config, *node, notify);
  } else {
    std::cout << conntrackd_conf(config, *node, state_dir.empty() ? "/run/conntrackd" : state_dir);
  }
  return 0;
}

}  // namespace vsd
