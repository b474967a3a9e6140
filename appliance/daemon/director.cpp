#include "appliance/daemon/director.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <thread>

#include "appliance/config/config_writer.hpp"
#include "appliance/control/server.hpp"
#include "appliance/health/slow_start.hpp"
#include "appliance/daemon/ipvsadm_apply.hpp"
#include "appliance/daemon/metrics.hpp"
#include "appliance/daemon/metrics_server.hpp"
#include "appliance/daemon/data_plane.hpp"
#include "appliance/daemon/ruleset_spec.hpp"
#include "appliance/core/service_snapshot.hpp"
#include "appliance/daemon/status.hpp"
#include "appliance/version.hpp"
#include "arp/announcer.hpp"

namespace vsd {

namespace {

std::size_t count_reals(const Config& c) {
  std::size_t n = 0;
  for (const auto& s : c.services) n += s.reals.size();
  return n;
}

bool has_direct_forwarding(const Config& c) {
  for (const auto& s : c.services)
    for (const auto& r : s.reals)
      if (r.forward != ForwardMethod::nat) return true;
  return false;
}

bool same_service(const ServiceConfig& a, const ServiceConfig& b) {
  return a.is_fwmark() ? a.fwmark == b.fwmark
                       : (!b.is_fwmark() && a.protocol == b.protocol && a.address == b.address);
}

// One log line per operator-visible change between two configurations,
// with the VIP and RIP in it.
void log_changes(const Config& before, const Config& after, const std::string& why) {
  for (const auto& s : after.services) {
    const ServiceConfig* old = nullptr;
    for (const auto& o : before.services)
      if (same_service(o, s)) old = &o;
    if (!old) {
      spdlog::info("{}: service {} added (scheduler {}{})", why, service_label(s), s.scheduler,
                   s.persistent ? ", persistent " + std::to_string(s.persistent) + "s" : "");
    } else if (old->scheduler != s.scheduler || old->persistent != s.persistent ||
               old->persistence_netmask != s.persistence_netmask || old->ops != s.ops ||
               old->scheduler_flags != s.scheduler_flags) {
      spdlog::info("{}: service {} changed (scheduler {}, persistent {}s)", why, service_label(s),
                   s.scheduler, s.persistent);
    }
    for (const auto& r : s.reals) {
      const RealServerConfig* was = nullptr;
      if (old)
        for (const auto& o : old->reals)
          if (o.address == r.address) was = &o;
      if (!was)
        spdlog::info("{}: service {}: real server {} added ({}, weight {})", why, service_label(s),
                     real_label(s, r), to_string(r.forward), r.weight);
      else if (was->weight != r.weight || was->forward != r.forward ||
               was->upper_threshold != r.upper_threshold || was->lower_threshold != r.lower_threshold)
        spdlog::info("{}: service {}: real server {} now {} weight {} (was {} weight {}){}", why,
                     service_label(s), real_label(s, r), to_string(r.forward), r.weight,
                     to_string(was->forward), was->weight, r.weight == 0 ? " - quiesced" : "");
    }
    if (old)
      for (const auto& o : old->reals) {
        bool kept = false;
        for (const auto& r : s.reals) kept |= r.address == o.address;
        if (!kept)
          spdlog::info("{}: service {}: real server {} removed", why, service_label(s), real_label(*old, o));
      }
  }
  for (const auto& o : before.services) {
    bool kept = false;
    for (const auto& s : after.services) kept |= same_service(o, s);
    if (!kept) spdlog::info("{}: service {} removed", why, service_label(o));
  }
}

}  // namespace

Director::Director(Config config, std::string config_path, NodeFacts facts)
    : config_(std::move(config)),
      config_path_(std::move(config_path)),
      facts_(std::move(facts)),
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
  metrics_.reset();
  control_.reset();
  if (data_plane_) data_plane_->stop();
  data_plane_.reset();
  announcer_.reset();
  for (const auto& k : sysctls_.restore_all()) spdlog::info("restored {}", k);
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
    // DR/TUN packets leave through sockets that do not segment: the kernel
    // must hand them over at wire size (NAT keeps GSO: 10x the throughput).
    qo.gso = !has_direct_forwarding(config_);
    queues.push_back(std::make_unique<nfq::QueueSocket>(qo));
  }
  spdlog::info("listening on NFQUEUE {}..{} (fail_open={}, gso={})", config_.director.queue,
               config_.director.queue + config_.director.queues - 1, config_.director.fail_open,
               !has_direct_forwarding(config_));
  std::string tx_error;
  if (!transmitter_.open(&tx_error)) throw std::runtime_error(tx_error);
  data_plane_ = std::make_unique<DataPlane>(engine_, std::move(queues), transmitter_);
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
  // Runs on the data thread: a copy, not config_ (the control thread
  // replaces that; the size itself only changes with a restart).
  engine_.on_table_full = [max = config_.director.max_connections](std::uint64_t refused) {
    spdlog::warn("connection table full ({} entries): refused {} new flows; raise [director] "
                 "max_connections",
                 max, refused);
  };
  health_.set_transition_callback(
      [this](const std::string& id, bool up, const std::string& why) { on_health(id, up, why); });
  health_.set_log([](const std::string& line) { spdlog::warn("health: {}", line); });
  sync_health_targets();
  engine_.publish(build_snapshot(snapshot_spec(effective_config(), &egress_), nullptr, &clock_));
  for (const auto& s : config_.services)
    for (const auto& r : s.reals)
      spdlog::info("service {} -> real server {} {} weight {}{}", service_label(s), real_label(s, r),
                   to_string(r.forward), r.weight, r.check ? " (health checked)" : "");
  try {
    apply_node_settings();
    // DR/TUN: routes and MACs before the first packet. A fresh director has
    // no MAC for its DR real servers yet: give ARP/ND up to a second, so the
    // first clients' SYNs are not dropped (no_route) and retransmitted a
    // second later. Unreachable ones are logged and keep being resolved in
    // the background.
    for (int round = 0; refresh_egress() && round < 10; ++round)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    open_queues_and_rules();
    announce_vips({});
    control_ = std::make_unique<ControlServer>(
        io_, config_.control.socket, [this](const nlohmann::json& r) { return handle(r); });
    if (!config_.metrics.listen.empty()) {
      metrics_ = std::make_unique<MetricsServer>(io_, config_.metrics.listen,
                                                 [this] { return render_metrics(status()); });
      spdlog::info("metrics on http://{}/metrics", config_.metrics.listen);
    }
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
  arm_estimator();
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
      next.director.max_connections != config_.director.max_connections ||
      next.director.fail_open != config_.director.fail_open)
    spdlog::warn("reload: [director] queue/queues/max_connections/fail_open changes need a restart; kept");
  next.director.queue = config_.director.queue;
  next.director.queues = config_.director.queues;
  next.director.max_connections = config_.director.max_connections;
  next.director.fail_open = config_.director.fail_open;
  next.control = config_.control;
  if (next.metrics.listen != config_.metrics.listen)
    spdlog::warn("reload: [metrics] listen changes need a restart; kept {}", config_.metrics.listen);
  next.metrics = config_.metrics;
  std::string err;
  if (!apply_config(std::move(next), "reload", &err)) {
    *summary = "reload refused: " + err;
    spdlog::error("{}", *summary);
    return false;
  }
  *summary = "reloaded " + config_path_ + ": " + std::to_string(config_.services.size()) +
             " services, " + std::to_string(count_reals(config_)) + " real servers";
  spdlog::info("{}", *summary);
  return true;
}

// DR/TUN packets leave through sockets that neither segment nor fragment,
// so while any real server is DR/TUN the kernel must queue wire-size
// packets; NAT alone keeps GSO (10x the bulk throughput). Turned off live on
// the data thread, so vsadm/reload adding the first DR server needs no
// restart. Never back on until a restart: connections to a removed DR/TUN
// server (or one switched to NAT) may still run, and they would stall on
// packets too big to send.
void Director::match_queue_gso() {
  if (!data_plane_ || !has_direct_forwarding(config_)) return;
  data_plane_->run_on_data_thread([&] {
    for (auto& q : data_plane_->queues()) {
      if (!q->gso()) continue;
      if (int err = q->set_gso(false))
        spdlog::error("NFQUEUE {}: cannot turn GSO off: {}; DR/TUN packets above the MTU will "
                      "fail to send: restart vsd",
                      q->queue_num(), std::strerror(err));
      else
        spdlog::info("NFQUEUE {}: GSO off (DR/TUN real servers need wire-size packets; on "
                     "again only after a restart without them)",
                     q->queue_num());
    }
    return 0;
  });
}

bool Director::apply_config(Config next, const std::string& why, std::string* error) {
  // The ruleset first: if the kernel refuses it, nothing changes anywhere.
  try {
    nfq::install(make_ruleset_spec(next, table_), queue_form_);
  } catch (const std::exception& e) {
    *error = std::string("nft ruleset not installed (the running configuration is unchanged): ") + e.what();
    return false;
  }
  if (next.log.level != config_.log.level) {
    spdlog::set_level(spdlog::level::from_str(next.log.level));
    spdlog::info("{}: log level {}", why, next.log.level);
  }
  log_changes(config_, next, why);
  Config before = std::move(config_);
  config_ = std::move(next);
  match_queue_gso();  // before a DR/TUN real server can be picked
  // A first NAT server needs ip_forward, a first DR/TUN one no redirects;
  // values already set (and the originals to restore) stay as they are.
  apply_node_settings();
  sync_health_targets();
  refresh_egress();  // publishes, also for real servers it has no way to yet
  publish_effective();
  announce_added_vips(before);
  return true;
}

std::string health_target_id(const ServiceConfig& s, const RealServerConfig& r) {
  return service_label(s) + " -> " + real_label(s, r);
}

void Director::sync_health_targets() {
  std::set<std::string> wanted;
  for (const auto& s : config_.services)
    for (const auto& r : s.reals) {
      if (!r.check) continue;
      std::string id = health_target_id(s, r);
      wanted.insert(id);
      Endpoint real{r.address.addr, r.address.port ? r.address.port : s.address.port};
      bool fresh = !health_.contains(id);
      health_.upsert({id, service_label(s), real, *r.check});
      if (fresh) health_up_[id] = health_.is_up(id).value_or(true);
    }
  for (auto it = health_up_.begin(); it != health_up_.end();) {
    if (wanted.count(it->first)) {
      ++it;
      continue;
    }
    health_.remove(it->first);
    recovered_ms_.erase(it->first);
    it = health_up_.erase(it);
  }
}

void Director::on_health(const std::string& id, bool up, const std::string& reason) {
  health_up_[id] = up;
  if (up) recovered_ms_[id] = clock_.now_ms();
  // One line per transition, with what it does to the data path.
  const char* action = "";
  for (const auto& s : config_.services)
    for (const auto& r : s.reals)
      if (r.check && health_target_id(s, r) == id)
        action = up ? "back in service" : r.check->on_failure == health::OnFailure::quiesce
                                              ? "quiesced (weight 0)" : "removed from service";
  if (up)
    spdlog::info("health: {} is up ({}): {}", id, reason, action);
  else
    spdlog::warn("health: {} is down ({}): {}; existing connections continue", id, reason, action);
  publish_effective();
}

Config Director::effective_config() const {
  Config eff = config_;
  const std::uint64_t now_ms = clock_.now_ms();
  for (auto& s : eff.services) {
    const ServiceConfig& orig = s;
    std::vector<RealServerConfig> kept;
    for (auto& r : s.reals) {
      if (r.check) {
        const std::string id = health_target_id(orig, r);
        auto it = health_up_.find(id);
        if (it != health_up_.end() && !it->second) {
          if (r.check->on_failure == health::OnFailure::remove) continue;
          r.weight = 0;
        } else if (r.check->slow_start_ms) {
          // Recovered lately: the weight ramps up (never 0 once up).
          if (auto rec = recovered_ms_.find(id); rec != recovered_ms_.end() && r.weight > 0)
            r.weight = std::max<std::uint32_t>(
                1, health::slow_start_weight(r.weight, r.check->slow_start_ms, rec->second, now_ms));
        }
      }
      kept.push_back(r);
    }
    s.reals = std::move(kept);
    if (s.sorry_server) {
      bool healthy = false;
      for (const auto& r : s.reals) healthy |= r.weight > 0;
      if (!healthy) {
        RealServerConfig sorry;
        sorry.address = *s.sorry_server;
        s.reals.push_back(sorry);
      }
    }
  }
  return eff;
}

void Director::check_quorum(const Config& eff) {
  for (const auto& s : eff.services) {
    if (!s.quorum) continue;
    std::uint64_t sum = 0;
    for (const auto& r : s.reals)
      if (!(s.sorry_server && r.address == *s.sorry_server)) sum += r.weight;
    const std::string label = service_label(s);
    auto it = quorum_.find(label);
    std::optional<bool> changed;
    if (it == quorum_.end()) {
      it = quorum_.emplace(label, health::QuorumTracker(s.quorum, s.hysteresis, sum)).first;
      if (!it->second.up()) changed = false;
    } else {
      changed = it->second.update(sum);
    }
    if (!changed) continue;
    if (*changed)
      spdlog::info("service {}: quorum gained (healthy weight {} >= {} + {})", label, sum, s.quorum, s.hysteresis);
    else
      spdlog::warn("service {}: quorum lost (healthy weight {}, quorum {}, hysteresis {})", label, sum,
                   s.quorum, s.hysteresis);
    const std::string& cmd = *changed ? s.quorum_up : s.quorum_down;
    if (!cmd.empty())
      notifier_.notify({cmd, "quorum " + label, label, "", *changed,
                        "healthy weight " + std::to_string(sum)});
  }
}

void Director::publish_effective() {
  Config eff = effective_config();
  check_quorum(eff);
  // While a weight ramps (slow start), republish four times a second.
  bool ramping = false;
  const std::uint64_t now_ms = clock_.now_ms();
  for (const auto& s : config_.services)
    for (const auto& r : s.reals)
      if (r.check && r.check->slow_start_ms)
        if (auto rec = recovered_ms_.find(health_target_id(s, r)); rec != recovered_ms_.end())
          ramping |= health::slow_start_next_change_ms(r.weight, r.check->slow_start_ms,
                                                       rec->second, now_ms).has_value();
  if (ramping) {
    slow_start_timer_.expires_after(std::chrono::milliseconds(250));
    slow_start_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) publish_effective();
    });
  }
  for (const auto& s : eff.services) {
    if (!s.sorry_server) continue;
    bool serving = !s.reals.empty() && s.reals.back().address == *s.sorry_server;
    bool& was = sorry_active_[service_label(s)];
    if (serving != was)
      spdlog::warn("service {}: {}", service_label(s),
                   serving ? "no healthy real server: sorry server " + s.sorry_server->to_string() + " takes new connections"
                           : "a real server is healthy again: sorry server " + s.sorry_server->to_string() + " takes no new connections");
    was = serving;
  }
  engine_.publish(build_snapshot(snapshot_spec(eff, &egress_), engine_.published().get(), &clock_));
}

// Runs on the control thread every 2 s, like IPVS's estimator.
void Director::arm_estimator() {
  estimator_.expires_after(std::chrono::seconds(2));
  estimator_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    auto snap = engine_.published();
    for (const auto& s : snap->services) {
      s.state->rates.tick(s.state->traffic);
      for (const auto& d : s.dests) d.state->rates.tick(d.state->traffic);
    }
    arm_estimator();
  });
}

nlohmann::json Director::edit(const nlohmann::json& commands) {
  Config next = config_;
  if (auto err = apply_ipvsadm_json(next, commands)) return {{"ok", false}, {"error", *err}};
  // The edited configuration must pass the same checks as a file would.
  auto checked = parse_config(write_config_toml(next), "vsadm edit");
  if (!checked.config) {
    std::string msg;
    for (const auto& e : checked.errors) msg += (msg.empty() ? "" : "; ") + e.reason;
    spdlog::warn("vsadm edit refused: {}", msg);
    return {{"ok", false}, {"error", msg}};
  }
  // A real server added with vsadm -a gets its service's [service.check].
  for (auto& svc : next.services)
    for (auto& r : svc.reals)
      if (!r.check && svc.check_defaults) r.check = health::merge_check(&*svc.check_defaults, nullptr).config;
  // Apply the edited Config itself, not the re-read one: the TOML writer
  // does not carry everything (health checks, sorry servers, [metrics]).
  std::string err;
  if (!apply_config(std::move(next), "vsadm", &err)) {
    spdlog::error("vsadm edit refused: {}", err);
    return {{"ok", false}, {"error", err}};
  }
  return {{"ok", true}};
}

nlohmann::json Director::zero(const nlohmann::json& service) {
  auto snap = engine_.published();
  std::optional<IpvsadmService> key;  // none: every service (ipvsadm -Z)
  if (!service.is_null()) {
    std::string why;
    key = ipvsadm_service_from_json(service, &why);
    if (!key) return {{"ok", false}, {"error", why}};
  }
  std::vector<const ServiceView*> targets;
  for (const auto& s : snap->services) {
    bool match = !key || (key->is_fwmark() ? s.fwmark == key->fwmark
                                           : (!s.fwmark && s.protocol == key->protocol && s.vip == key->address));
    if (match) targets.push_back(&s);
  }
  if (key && targets.empty()) return {{"ok", false}, {"error", "No such service"}};
  auto reset = [](TrafficCounters& t) {
    t.conns.reset();
    t.inpkts.reset();
    t.outpkts.reset();
    t.inbytes.reset();
    t.outbytes.reset();
  };
  // The data path is the counters' only writer: zero them on its thread.
  auto work = [&] {
    for (const auto* s : targets) {
      reset(s->state->traffic);
      for (const auto& d : s->dests) reset(d.state->traffic);
    }
    return 0;
  };
  if (data_plane_) data_plane_->run_on_data_thread(work); else work();
  for (const auto* s : targets) {
    s->state->rates.reset();
    for (const auto& d : s->dests) d.state->rates.reset();
  }
  spdlog::info("vsadm: counters zeroed ({} services)", targets.size());
  return {{"ok", true}};
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
  // Packets vsd sent itself (TUN, DR, ICMP answers) rather than by verdict.
  const auto& tx = transmitter_.counters();
  info.counters["transmit_sent"] = tx.sent.load();
  info.counters["transmit_errors"] = tx.errors.load();
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
  auto st = status_json(*engine_.published(), info);
  // Health per real server of the configuration (a removed one is not in
  // the snapshot): "up" / "down", shown by vsadm and the metrics.
  for (auto& js : st["services"]) {
    for (const auto& s : config_.services) {
      bool same = s.is_fwmark() ? js.value("fwmark", 0u) == s.fwmark
                                : js.value("address", "") == s.address.to_string() &&
                                      js.value("protocol", "") == to_string(s.protocol);
      if (!same) continue;
      for (const auto& r : s.reals) {
        if (!r.check) continue;
        auto it = health_up_.find(health_target_id(s, r));
        bool up = it == health_up_.end() || it->second;
        bool listed = false;
        for (auto& jr : js["reals"])
          if (jr.value("address", "") == real_label(s, r)) {
            jr["health"] = up ? "up" : "down";
            listed = true;
          }
        if (!listed)  // removed on failure: listed with weight 0, as keepalived operators expect to see it
          js["reals"].push_back({{"address", real_label(s, r)}, {"forward", to_string(r.forward)},
                                 {"weight", 0}, {"health", "down"}, {"removed", true}});
      }
      if (s.sorry_server) js["sorry_server"] = s.sorry_server->to_string();
    }
  }
  st["health"] = health_.status_json();
  return st;
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
    return {{"ok", ok}, {ok ? "message" : "error", summary}};
  }
  if (cmd == "connections") {
    const std::uint32_t now = clock_.now_s();
    auto list = data_plane_ ? data_plane_->run_on_data_thread(
                                  [&] { return connections_json(engine_.connections(), now); })
                            : connections_json(engine_.connections(), now);
    return {{"ok", true}, {"connections", std::move(list)}};
  }
  if (cmd == "edit") {
    if (!request.contains("commands") || !request["commands"].is_array())
      return {{"ok", false}, {"error", "edit needs \"commands\": [...]"}};
    return edit(request["commands"]);
  }
  if (cmd == "zero") return zero(request.value("service", nlohmann::json()));
  if (cmd == "save_toml") return {{"ok", true}, {"toml", write_config_toml(config_)}};
  if (cmd == "garp") {
    if (config_.arp.garp_repeat == 0)
      return {{"ok", false}, {"error", "[arp] garp_repeat is 0: gratuitous ARP is off"}};
    std::size_t n = announce_vips({});
    return {{"ok", true},
            {"message", "announcing " + std::to_string(n) + " VIP(s) x" +
                            std::to_string(config_.arp.garp_repeat) + " (see vsd's log)"}};
  }
  return {{"ok", false}, {"error", "unknown control command '" + cmd + "'"}};
}

}  // namespace vsd
