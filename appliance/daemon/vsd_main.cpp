// vsd: the virtual-server director daemon, and on the real servers of a
// DR/TUN cluster its real-server role, from the same file. Foreground, logs
// to stderr (the journal under systemd).
#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <iostream>
#include <tuple>

#include "appliance/config/config.hpp"
#include "appliance/daemon/decision_numbers.hpp"
#include "appliance/daemon/director.hpp"
#include "appliance/core/conn_table.hpp"
#include "appliance/daemon/fast_path_plan.hpp"
#include "appliance/daemon/bgp_main.hpp"
#include "appliance/daemon/ha_main.hpp"
#include "appliance/daemon/log_format.hpp"
#include "appliance/daemon/node_facts.hpp"
#include "appliance/daemon/node_plan.hpp"
#include "appliance/daemon/realserver.hpp"
#include "appliance/daemon/stop_signals.hpp"
#include "appliance/daemon/tunnel_devices.hpp"
#include "appliance/importer/importer.hpp"
#include "appliance/version.hpp"

namespace {

// The fast path as the director would plan it, and (as root) whether this
// kernel takes each method's nft objects: a throwaway table, added and
// deleted in one batch, as vsd probes at start.
void check_fast_path(const vsd::Config& config) {
  if (!config.director.fast_path) {
    std::cout << "fast path: off ([director] fast_path = false): every packet through vsd\n";
    return;
  }
  vsd::NodeOffers node;
  vsd::rtnl::TunnelSupport tunnels;
  if (::geteuid() == 0) {
    tunnels = vsd::rtnl::kernel_tunnels();  // a throwaway device of each kind, as vsd at start
    std::cout << "fast path: " << vsd::tun_path_line(tunnels, 0, true) << "\n";
    try {
      const auto form = vsd::nfq::probe_queue_form();
      for (auto [path, name, ok] : {std::tuple{vsd::nfq::Path::nat_kernel, "NAT (conntrack)", &node.nat_kernel},
                                    std::tuple{vsd::nfq::Path::direct_kernel, "DR (flow table)", &node.direct_kernel}}) {
        const std::string why = vsd::nfq::probe_fast_path(path, form);
        *ok = why.empty();
        std::cout << "fast path: kernel " << (*ok ? "takes " : "refuses ") << name << " objects"
                  << (*ok ? "" : ": " + why + "; those services would go through vsd") << "\n";
      }
    } catch (const std::exception& e) {
      std::cout << "fast path: kernel not probed: " << e.what() << "\n";
    }
  } else {
    std::cout << "fast path: kernel support not probed (needs root)\n";
  }
  // Every DR server counted as routed, every TUN server of a kind the
  // kernel makes as having its tunnel: --check does not look up routes.
  for (const auto& s : config.services)
    for (const auto& r : s.reals) {
      if (r.forward == vsd::ForwardMethod::dr) node.dr_devices[r.address.addr] = "?";
      if (r.forward == vsd::ForwardMethod::tun && tunnels.has(vsd::rtnl::tunnel_kind_for(r.address.addr)))
        node.tun_devices[r.address.addr] = "?";
    }
  const auto marks = vsd::MarkLayout::from_mask(config.director.mark_mask).value_or(vsd::MarkLayout{});
  vsd::DecisionNumbers numbers(marks.capacity());
  std::size_t missing = 0;
  numbers.assign(config, &missing);
  const vsd::FastPathPlan plan = vsd::plan_fast_path(config, numbers, node);
  std::size_t nat = 0, direct = 0, user = 0, tun_kernel = 0;
  for (const auto& s : config.services)
    for (const auto& r : s.reals) {
      vsd::Endpoint real = r.address;
      if (real.port == 0) real.port = s.address.port;
      tun_kernel += r.forward == vsd::ForwardMethod::tun && plan.kernel_mark(s, real) != 0;
    }
  for (const auto& s : config.services) switch (plan.path(s)) {
      case vsd::nfq::Path::nat_kernel: ++nat; break;
      case vsd::nfq::Path::direct_kernel: ++direct; break;
      case vsd::nfq::Path::userspace: ++user; break;
    }
  std::cout << "fast path: " << nat << " service(s) NAT by conntrack, " << direct
            << " DR/TUN by the flow table (" << tun_kernel << " TUN real server(s) through kernel tunnels), " << user
            << " through vsd (one-packet scheduling, NAT mixed with DR/TUN, a refused method)\n";
  if (missing)
    std::cout << "fast path: " << missing << " real server(s) get no decision number: widen mark_mask\n";
}

// `vsd --check`: the file, this node's role in it, what cannot work, and
// the node settings vsd would change. 0 = fine, 2 = errors.
int check(const vsd::Config& config, const std::string& path, const vsd::RoleDecision& role,
          const vsd::NodeFacts& facts) {
  std::size_t reals = 0;
  for (const auto& s : config.services) reals += s.reals.size();
  std::cout << path << ": OK, " << config.services.size() << " services, " << reals
            << " real servers\n";
  std::cout << "role: " << vsd::to_string(role.role) << " (" << role.reason << ")\n";
  auto findings = vsd::check_cluster(config, role.role, facts);
  bool errors = false;
  for (const auto& f : findings) {
    std::cout << vsd::to_string(f) << "\n";
    errors |= f.severity == vsd::Finding::error;
  }
  if (role.role == vsd::Role::director) check_fast_path(config);
  auto plan = vsd::plan_sysctls(config, role.role, facts);
  if (plan.empty()) std::cout << "node settings: nothing to change\n";
  for (const auto& c : plan)
    std::cout << "would set " << c.key << "=" << c.value << " (now "
              << (c.current.empty() ? "unknown" : c.current) << "): " << c.why << "\n";
  if (role.role == vsd::Role::realserver) {
    for (const auto& v : vsd::realserver_vips(config, facts))
      std::cout << "would put VIP " << v.to_string() << (v.is_v4() ? "/32" : "/128") << " on lo"
                << (!v.is_v4() ? ""
                    : config.arp.hiding == vsd::ArpHiding::both
                        ? " and hide it from ARP (nft table arp vsd_rs and the sysctls above)"
                        : " and hide it from ARP (the sysctls above)")
                << "\n";
    if (vsd::realserver_needs_decap(config, facts))
      std::cout << "would decapsulate IP-in-IP in userspace (nft tables ip/ip6 vsd_rs, NFQUEUE "
                << config.director.queue << ")\n";
  }
  return errors ? 2 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  vsd::defer_stop_signals();  // before anything: see stop_signals.hpp
  if (argc >= 2 && std::string(argv[1]) == "import") {
    vsd::default_stop_signals();
    return vsd::import_main(argc, argv);
  }
  if (argc >= 2 && std::string(argv[1]) == "bgp") {
    vsd::default_stop_signals();
    return vsd::bgp_main(argc, argv);
  }
  if (argc >= 2 && std::string(argv[1]) == "ha") {
    vsd::default_stop_signals();
    return vsd::ha_main(argc, argv);
  }
  // CLI11 (Debian libcli11-dev) gives vsd the usual --help/-h and error
  // messages; vsadm uses libpopt because it must mimic ipvsadm exactly.
  CLI::App app{"vsd - userspace virtual-server director (LVS NAT/TUN/DR over NFQUEUE)"};
  std::string config_path = "/etc/vsd/vsd.toml";
  bool check_only = false;
  std::string log_level;
  std::string role_name = "auto";
  app.add_option("-c,--config", config_path, "configuration file")->capture_default_str();
  app.add_flag("--check", check_only,
               "validate the configuration for this node, print what vsd would change, and exit "
               "(0 ok, 2 errors)");
  app.add_option("--role", role_name,
                 "what this node does with the cluster file: director, realserver, or auto "
                 "(from the node's own addresses)")
      ->check(CLI::IsMember({"auto", "director", "realserver"}))
      ->capture_default_str();
  app.add_option("--log-level", log_level, "override [log] level: trace|debug|info|warn|error");
  app.set_version_flag("--version", std::string("vsd ") + vsd::kVersion);
  CLI11_PARSE(app, argc, argv);

  // Errors before the logger exists: journald's error priority too (also
  // `vsd --check` run by ExecStartPre= / ExecReload=).
  const char* err = vsd::stderr_is_journal() ? "<3>" : "";
  auto result = vsd::load_config_file(config_path);
  if (!result.config) {
    for (const auto& e : result.errors) std::cerr << err << e.to_string() << "\n";
    std::cerr << err << config_path << ": " << result.errors.size()
              << " error(s); nothing was applied\n";
    return 2;
  }
  vsd::NodeFacts facts;
  std::string facts_error;
  if (!vsd::gather_node_facts(&facts, &facts_error)) {
    std::cerr << err << "cannot read this node's addresses: " << facts_error << "\n";
    return 1;
  }
  std::optional<vsd::Role> requested;
  if (role_name == "director") requested = vsd::Role::director;
  if (role_name == "realserver") requested = vsd::Role::realserver;
  auto role = vsd::decide_role(*result.config, facts, requested);
  if (!role.ok) {
    std::cerr << err << config_path << ": " << role.reason << "\n";
    return 2;
  }
  if (check_only) {
    vsd::default_stop_signals();
    return check(*result.config, config_path, role, facts);
  }

  auto logger = spdlog::stderr_color_mt("vsd");
  spdlog::set_default_logger(logger);
  // Under systemd, "<N>" priority prefixes journald understands (log_format.hpp).
  logger->set_formatter(vsd::make_log_formatter(vsd::stderr_is_journal()));
  auto level = spdlog::level::from_str(log_level.empty() ? result.config->log.level : log_level);
  spdlog::set_level(level);
  spdlog::info("role {}: {}", vsd::to_string(role.role), role.reason);

  // Caught here so that the role's destructor runs on the way out: an
  // uncaught exception would end vsd with its nft tables diverting traffic
  // to a queue nobody reads and its sysctls changed.
  try {
    if (role.role == vsd::Role::realserver) {
      vsd::RealServer rs(std::move(*result.config), std::move(facts));
      return rs.run();
    }
    // The connection table is allocated at once (up to 67 M entries): a
    // size the node cannot hold would be killed by the OOM killer later,
    // or swap, rather than refused now.
    const std::uint64_t table = vsd::ConnTable::bytes_for(result.config->director.max_connections);
    if (auto avail = vsd::memory_available_bytes(); avail && table > *avail / 2) {
      spdlog::critical("[director] max_connections = {} needs {} MiB for the connection table; this "
                       "node has {} MiB available: lower max_connections (or add memory)",
                       result.config->director.max_connections, table >> 20, *avail >> 20);
      return 1;
    }
    vsd::Director director(std::move(*result.config), config_path, std::move(facts));
    return director.run();
  } catch (const std::exception& e) {
    spdlog::critical("vsd stopped on an unexpected error: {}; its tables and settings were put "
                     "back; please report this with the log above",
                     e.what());
    return 1;
  }
}
