// vsd: the virtual-server director daemon. Foreground, logs to stderr (the
// journal under systemd).
#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "appliance/config.hpp"
#include "appliance/director.hpp"
#include "appliance/version.hpp"

int main(int argc, char** argv) {
  // CLI11 (Debian libcli11-dev) gives vsd the usual --help/-h and error
  // messages; vsadm parses by hand because it must mimic ipvsadm's getopt.
  CLI::App app{"vsd - userspace virtual-server director (LVS NAT/TUN/DR over NFQUEUE)"};
  std::string config_path = "/etc/vsd/vsd.toml";
  bool check = false;
  std::string log_level;
  app.add_option("-c,--config", config_path, "configuration file")->capture_default_str();
  app.add_flag("--check", check, "validate the configuration and exit (0 ok, 2 errors)");
  app.add_option("--log-level", log_level, "override [log] level: trace|debug|info|warn|error");
  app.set_version_flag("--version", std::string("vsd ") + vsd::kVersion);
  CLI11_PARSE(app, argc, argv);

  auto result = vsd::load_config_file(config_path);
  if (!result.config) {
    for (const auto& e : result.errors) std::cerr << e.to_string() << "\n";
    std::cerr << config_path << ": " << result.errors.size()
              << " error(s); nothing was applied\n";
    return 2;
  }
  if (check) {
    std::size_t reals = 0;
    for (const auto& s : result.config->services) reals += s.reals.size();
    std::cout << config_path << ": OK, " << result.config->services.size() << " services, "
              << reals << " real servers\n";
    return 0;
  }

  auto logger = spdlog::stderr_color_mt("vsd");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e vsd[%P] %l: %v");
  auto level = spdlog::level::from_str(log_level.empty() ? result.config->log.level : log_level);
  spdlog::set_level(level);

  vsd::Director director(std::move(*result.config), config_path);
  int rc = director.run();
  return rc;
}
