#include "appliance/director.hpp"

#include <spdlog/spdlog.h>

#include "appliance/control_server.hpp"
#include "appliance/data_plane.hpp"
#include "appliance/ruleset_spec.hpp"
#include "appliance/service_table.hpp"
#include "appliance/status.hpp"
#include "appliance/version.hpp"

namespace vsd {

namespace {

std::size_t count_reals(const Config& c) {
  std::size_t n = 0;
  for (const auto& s : c.services) n += s.reals.size();
  return n;
}

}  // namespace

Director::Director(Config config, std::string config_path)
    : config_(std::move(config)),
      config_path_(std::move(config_path)),
      engine_(config_.director.max_connections, clock_) {}

Director::~Director() {
  // Reverse order of start: stop diverting, stop answering, restore the node.
  if (rules_installed_) {
    try {
      nfq::remove(table_);
      spdlog::info("nft table '{}' removed", table_);
    } catch (const std::exception& e) {
      spdlog::error("cannot remove nft table '{}': {}; remove it by hand: nft delete table ip {}; nft delete table ip6 {}",
                    table_, e.what(), table_, table_);
    }
  }
  control_.reset();
  if (data_plane_) data_plane_->stop();
  data_plane_.reset();
  for (const auto& k : sysctls_.restore_all()) spdlog::info("restored {}", k);
}

void Director::apply_node_settings() {
  bool v4 = false, v6 = false;
  for (const auto& s : config_.services)
    for (const auto& r : s.reals)
      if (r.forward == ForwardMethod::nat) (r.address.addr.is_v4() ? v4 : v6) = true;
  auto ensure = [this](const std::string& key, const char* why) {
    bool changed = false;
    std::string err;
    if (!sysctls_.ensure(key, "1", &changed, &err))
      spdlog::warn("cannot set {}=1 ({}): {}; set it by hand", key, why, err);
    else if (changed)
      spdlog::info("set {}=1 ({}); restored on exit", key, why);
  };
  if (v4) ensure("net.ipv4.ip_forward", "NAT forwards between clients and real servers");
  if (v6) ensure("net.ipv6.conf.all.forwarding", "NAT forwards IPv6 between clients and real servers");
}

void Director::open_queues_and_rules() {
  queue_form_ = nfq::probe_queue_form();
  spdlog::info("kernel queue form: {}", nfq::to_string(queue_form_));
  // Bind the queues before any rule diverts a packet to them.
  std::vector<std::unique_ptr<nfq::QueueSocket>> queues;
  for (unsigned i = 0; i < config_.director.queues; ++i) {
    nfq::QueueOptions qo;
    qo.queue_num = static_cast<std::uint16_t>(config_.director.queue + i);
    qo.fail_open = config_.director.fail_open;
    queues.push_back(std::make_unique<nfq::QueueSocket>(qo));
  }
  spdlog::info("listening on NFQUEUE {}..{} (fail_open={})", config_.director.queue,
               config_.director.queue + config_.director.queues - 1, config_.director.fail_open);
  data_plane_ = std::make_unique<DataPlane>(engine_, std::move(queues));
  data_plane_->start();
  auto spec = make_ruleset_spec(config_, table_);
  nfq::install(spec, queue_form_);
  rules_installed_ = true;
  spdlog::info("nft table '{}' installed: {} rules ({} services); see `nft list ruleset` (tables ip {} and ip6 {})",
               table_, spec.matches.size(), config_.services.size(), table_, table_);
}

int Director::run() {
  spdlog::info("vsd {} starting: {} services, {} real servers, max_connections={}", kVersion,
               config_.services.size(), count_reals(config_), config_.director.max_connections);
  engine_.on_table_full = [this](std::uint64_t refused) {
    spdlog::warn("connection table full ({} entries): refused {} new flows; raise [director] "
                 "max_connections",
                 config_.director.max_connections, refused);
  };
  engine_.publish(build_snapshot(config_, nullptr));
  for (const auto& s : config_.services)
    for (const auto& r : s.reals)
      spdlog::info("service {} {} -> real server {} {} weight {}", to_string(s.protocol),
                   s.address.to_string(),
                   Endpoint{r.address.addr, r.address.port ? r.address.port : s.address.port}.to_string(),
                   to_string(r.forward), r.weight);
  try {
    apply_node_settings();
    open_queues_and_rules();
    control_ = std::make_unique<ControlServer>(
        io_, config_.control.socket, [this](const nlohmann::json& r) { return handle(r); });
  } catch (const std::exception& e) {
    spdlog::error("cannot start: {}", e.what());
    return 1;
  }
  spdlog::info("control socket {}", config_.control.socket);
  boost::asio::signal_set signals(io_, SIGINT, SIGTERM, SIGHUP);
  std::function<void(boost::system::error_code, int)> on_signal =
      [&](boost::system::error_code ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
          std::string summary;
          reload(&summary);
          signals.async_wait(on_signal);
          return;
        }
        spdlog::info("signal {}: shutting down", sig);
        io_.stop();
      };
  signals.async_wait(on_signal);
  spdlog::info("ready");
  io_.run();
  return 0;
}

bool Director::reload(std::string* summary) {
  auto result = load_config_file(config_path_);
  if (!result.config) {
    for (const auto& e : result.errors) spdlog::error("reload refused: {}", e.to_string());
    *summary = "reload refused: " + std::to_string(result.errors.size()) +
               " errors; the running configuration is unchanged";
    spdlog::error("{}", *summary);
    return false;
  }
  Config next = std::move(*result.config);
  if (next.director.queue != config_.director.queue ||
      next.director.queues != config_.director.queues ||
      next.director.max_connections != config_.director.max_connections)
    spdlog::warn("reload: [director] queue/queues/max_connections changes need a restart; kept");
  next.director = config_.director;
  next.control = config_.control;
  try {
    nfq::install(make_ruleset_spec(next, table_), queue_form_);
  } catch (const std::exception& e) {
    *summary = std::string("reload refused: nft ruleset not installed: ") + e.what();
    spdlog::error("{}", *summary);
    return false;
  }
  engine_.publish(build_snapshot(next, engine_.published().get()));
  config_ = std::move(next);
  *summary = "reloaded " + config_path_ + ": " + std::to_string(config_.services.size()) +
             " services, " + std::to_string(count_reals(config_)) + " real servers";
  spdlog::info("{}", *summary);
  return true;
}

nlohmann::json Director::status() {
  DaemonInfo info;
  info.version = kVersion;
  info.queue_form = nfq::to_string(queue_form_);
  info.uptime_s = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_)
          .count());
  info.connections = engine_.connection_count();
  info.max_connections = config_.director.max_connections;
  info.counters = counters_json(engine_.counters());
  if (data_plane_) {
    for (const auto& q : data_plane_->queues()) {
      const auto& c = q->counters();
      auto kernel = nfq::kernel_queue_stats(q->queue_num());
      info.queues.push_back({{"queue", q->queue_num()},
                             {"received", c.received.load()},
                             {"batches", c.batches.load()},
                             {"enobufs", c.enobufs.load()},
                             {"recv_errors", c.recv_errors.load()},
                             {"verdict_errors", c.verdict_errors.load()},
                             {"send_errors", c.send_errors.load()},
                             {"truncated", c.truncated.load()},
                             {"kernel_queue_dropped", kernel.queue_dropped},
                             {"kernel_user_dropped", kernel.user_dropped},
                             {"kernel_waiting", kernel.waiting}});
    }
  }
  return status_json(*engine_.published(), info);
}

nlohmann::json Director::handle(const nlohmann::json& request) {
  std::string cmd = request.value("cmd", "");
  if (cmd == "status") {
    auto s = status();
    s["ok"] = true;
    return s;
  }
  if (cmd == "reload") {
    std::string summary;
    bool ok = reload(&summary);
    return {{"ok", ok}, {"message", summary}};
  }
  return {{"ok", false}, {"error", "unknown control command '" + cmd + "'"}};
}

}  // namespace vsd
