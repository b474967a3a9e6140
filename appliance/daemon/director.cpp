#include "appliance/daemon/director.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <thread>

#include "appliance/config/config_validate.hpp"
#include "appliance/config/config_writer.hpp"
#include "appliance/control/server.hpp"
#include "appliance/daemon/config_diff.hpp"
#include "appliance/daemon/node_recovery.hpp"
#include "appliance/daemon/stop_signals.hpp"
#include "appliance/daemon/data_plane.hpp"
#include "appliance/daemon/ipvsadm_apply.hpp"
#include "appliance/daemon/metrics.hpp"
#include "appliance/daemon/metrics_server.hpp"
#include "appliance/daemon/ruleset_spec.hpp"
#include "appliance/daemon/sd_notify.hpp"
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
    for (const auto& r : node_reals(s))  // a DR/TUN sorry server too
      if (r.forward != ForwardMethod::nat) return true;
  return false;
}

}  // namespace

Director::Director(Config config, std::string config_path, NodeFacts facts)
    : config_(std::move(config)),
      config_path_(std::move(config_path)),
      facts_(std::move(facts)),
      engine_(config_.director.max_connections, clock_) {}

Director::~Director() {
  // Reverse order of start: the VIPs' routes withdrawn first (routers stop
  // sending here), stop diverting, stop answering, restore the node.
  watchdog_.reset();
  table_watch_.reset();  // vsd's own removal is not a flush to repair
  bgp_.reset();
  if (rules_installed_) remove_tables_logged(table_);
  // The tunnel devices after the rules that send into them. A kill -9
  // skips both: the kernel carries the flows on, a restart adopts them.
  if (tunnels_) tunnels_->remove_all();
  metrics_.reset();
  control_.reset();
  ha_sync_.reset();
  if (data_plane_) data_plane_->stop();
  data_plane_.reset();
  announcer_.reset();
  for (const auto& k : sysctls_.restore_all()) spdlog::info("restored {}", k);
  if (locked_) state_file_.remove();  // cleaned up: nothing for the next start to undo
}

// After every change to the node: what a vsd killed now leaves behind.
void Director::save_node_state() {
  NodeState st;
  st.sysctls = sysctls_.saved();
  if (rules_installed_) st.tables.push_back(table_);
  std::string err;
  if (!state_file_.save(st, &err))
    spdlog::warn("{}; after a crash the next start cannot restore this node's settings", err);
}

void Director::open_queues_and_rules() {
  queue_form_ = nfq::probe_queue_form();
  spdlog::info("kernel queue form: {}", nfq::to_string(queue_form_));
  probe_fast_path();
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
  start_kernel_flows();
  auto spec = make_ruleset_spec(config_, table_, plan_);
  nfq::install(spec, queue_form_);
  rules_installed_ = true;
  spdlog::info("nft table '{}' installed: {} rules ({} services); see `nft list ruleset` (tables ip {} and ip6 {})",
               table_, spec.matches.size(), config_.services.size(), table_, table_);
}

// Each fast-path method whose nft objects the kernel refuses (a missing
// module: nft_ct, nft_nat, nft_dup, nf_conntrack_timeout ...) falls back
// to vsd forwarding every packet, with one line that says so.
void Director::probe_fast_path() {
  if (!plan_.marks.enabled()) return;
  nat_refused_ = nfq::probe_fast_path(nfq::Path::nat_kernel, queue_form_);
  direct_refused_ = nfq::probe_fast_path(nfq::Path::direct_kernel, queue_form_);
  if (!nat_refused_.empty())
    spdlog::error("fast path: the kernel refused the NAT objects (conntrack mark, dnat map, ct "
                  "timeout: {}); NAT services go through vsd packet by packet; load nft_ct, "
                  "nft_nat and nf_conntrack_timeout, or set [director] fast_path = false",
                  nat_refused_);
  if (!direct_refused_.empty())
    spdlog::error("fast path: the kernel refused the DR/TUN flow table (dynamic maps, dup: {}); "
                  "DR/TUN services go through vsd packet by packet; load nft_dup_ipv4 and "
                  "nft_dup_ipv6, or set [director] fast_path = false",
                  direct_refused_);
  if (nat_refused_.empty() && direct_refused_.empty()) return;
  replan();
  publish_effective();
}

// The fast path's kernel side: before the rules, so that flows the kernel
// already carries (a restart) are known before new ones are decided. When
// the kernel cannot report flows, vsd says so and forwards every packet
// itself: never a fast path that loses its states silently.
void Director::start_kernel_flows() {
  if (!plan_.marks.enabled()) {
    spdlog::info("fast path: off ([director] fast_path = false): every packet goes through vsd");
    return;
  }
  auto with_engine = [this](const std::function<void(Engine&)>& fn) {
    data_plane_->with_engine([&] {
      fn(engine_);
      return 0;
    });
  };
  try {
    kernel_ = std::make_unique<KernelFlows>(io_, with_engine, table_, plan_.marks);
    kernel_->start();
  } catch (const std::exception& e) {
    kernel_.reset();
    spdlog::error("fast path: cannot follow the kernel's flows ({}); every packet goes through vsd "
                  "instead; load nf_conntrack_netlink or set [director] fast_path = false to "
                  "silence this",
                  e.what());
    kernel_unavailable_ = true;
    replan();
    publish_effective();
    return;
  }
  log_plan();
}

void Director::log_plan() {
  std::size_t nat = 0, direct = 0, user = 0;
  for (const auto& s : config_.services) switch (plan_.path(s)) {
      case nfq::Path::nat_kernel: ++nat; break;
      case nfq::Path::direct_kernel: ++direct; break;
      case nfq::Path::userspace: ++user; break;
    }
  spdlog::info("fast path: {} service(s) in the kernel after their first packet (NAT by conntrack: "
               "{}, DR/TUN by the flow table: {}), {} through vsd; mark_mask {:#010x}",
               nat + direct, nat, direct, user, plan_.marks.mask);
}

// Where the kernel makes ipip / ip6tnl devices, each TUN real server on
// the flow table gets one and the kernel carries its flows like a DR
// server's (tunnel_devices.hpp); elsewhere vsd encapsulates every TUN
// packet. Probed only with the fast path on (the probe makes a throwaway
// device). The manager exists either way: its first sync (the egress
// watch) deletes the devices a killed vsd left that nothing needs now.
void Director::start_tunnels() {
  if (plan_.marks.enabled()) tunnel_support_ = rtnl::kernel_tunnels();
  tunnels_ = std::make_unique<TunnelDevices>(make_rtnl_tunnel_kernel(), [](bool problem, const std::string& line) {
    if (problem)
      spdlog::warn("{}", line);
    else
      spdlog::info("{}", line);
  });
}

// Numbers for new (service, real server) pairs, and the plan from them.
void Director::replan() {
  std::size_t missing = 0;
  if (!numbers_.assign(config_, &missing))
    spdlog::warn("fast path: {} real server(s) got no decision number (mark_mask has room for {}); "
                 "vsd forwards their flows itself: widen [director] mark_mask",
                 missing, numbers_.capacity());
  std::string err;
  if (!numbers_.save(numbers_path(), &err)) spdlog::warn("fast path: {}; a restart will renumber", err);
  plan_ = plan_fast_path(config_, numbers_, node_offers(), &plan_);
  // Read by the pair's sync for every datagram; the numbers change only here.
  decisions_fingerprint_ = numbers_.fingerprint(config_);
}

NodeOffers Director::node_offers() const {
  NodeOffers node;
  node.kernel_flows = !kernel_unavailable_;
  node.nat_kernel = nat_refused_.empty();
  node.direct_kernel = direct_refused_.empty();
  node.dr_devices = dr_devices_;
  node.tun_devices = tun_devices_;
  return node;
}

std::string Director::numbers_path() const {
  return beside_control_socket(config_.control.socket, ".decisions");
}

int Director::run() {
  spdlog::info("vsd {} starting: {} services, {} real servers, max_connections={}", kVersion,
               config_.services.size(), count_reals(config_), config_.director.max_connections);
  // Runs on a data thread: a copy, not config_ (the control thread
  // replaces that; the size itself only changes with a restart).
  engine_.on_table_full = [max = config_.director.max_connections](std::uint64_t refused) {
    spdlog::warn("connection table full ({} entries): refused {} new flows; raise [director] "
                 "max_connections",
                 max, refused);
  };
  health_.set_transition_callback(
      [this](const std::string& id, bool up, const std::string& why) { on_health(id, up, why); });
  health_.set_log([](const std::string& line) { spdlog::warn("health: {}", line); });
  health_.set_weight_callback([this](const std::string& id, const health::WeightEffect& w, const std::string& why) {
    spdlog::info("health: {}: {} ({})", id, policy_.weight(config_, id, w), why);
    publish_effective();
  });
  health_.set_address_source(node_addresses_now);  // ha_suspend
  sync_health_targets();
  numbers_.load(numbers_path());
  replan();
  engine_.publish(build_snapshot(snapshot_spec(policy_.effective(config_, clock_.now_ms()), &egress_, &plan_),
                                 nullptr, &clock_));
  end_removed_kernel_flows();  // records the first snapshot's decisions
  for (const auto& s : config_.services)
    for (const auto& r : s.reals)
      spdlog::info("service {} -> real server {} {} weight {}{}", service_label(s), real_label(s, r),
                   to_string(r.forward), r.weight, r.check ? " (health checked)" : "");
  try {
    std::string lock_error;
    if (!lock_.acquire(&lock_error)) throw std::runtime_error(lock_error);
    locked_ = true;
    recover_node(state_file_, Role::director, {}, sysctls_);
    apply_node_settings();
    start_tunnels();
    // DR/TUN: routes and MACs before the first packet. A fresh director has
    // no MAC for its DR real servers yet: give ARP/ND up to a second, so the
    // first clients' SYNs are not dropped (no_route) and retransmitted a
    // second later. Unreachable ones are logged and keep being resolved in
    // the background.
    for (int round = 0; refresh_egress() && round < 10; ++round)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    open_queues_and_rules();
    if (plan_.marks.enabled())
      spdlog::info("{}", tun_path_line(tunnel_support_, tun_devices_.size(),
                                       direct_refused_.empty() && !kernel_unavailable_));
    // Settings that exist once the rules loaded their modules (conntrack).
    apply_node_settings();
    start_ha();
    start_bgp();
    announce_vips({});
    control_ = std::make_unique<ControlServer>(
        io_, config_.control.socket,
        [this](const nlohmann::json& r) { return control::handle_request(*this, r); });
    if (!config_.metrics.listen.empty()) {
      metrics_ = std::make_unique<MetricsServer>(io_, config_.metrics.listen,
                                                 [this] {
                                                   const control::Status st = status();
                                                   return render_metrics(st, {read_process_stats(), reload_status_,
                                                                              ipvs_totals_.update(st)});
                                                 });
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
          reload();
          signals.async_wait(on_signal);
          return;
        }
        spdlog::info("signal {}: shutting down", sig);
        io_.stop();
      };
  signals.async_wait(on_signal);
  deliver_stop_signals();  // those that came during the start are handled now
  arm_estimator();
  start_supervision();
  spdlog::info("ready");
  io_.run();
  sd::stopping("stopping: removing the nft tables, putting the node's settings back");
  return 0;
}

control::Outcome Director::reload_file() {
  auto result = load_config_file(config_path_);
  if (!result.config) {
    for (const auto& e : result.errors) spdlog::error("reload refused: {}", e.to_string());
    auto refused = control::Outcome::refused("reload refused: " + std::to_string(result.errors.size()) +
                                             " errors; the running configuration is unchanged");
    spdlog::error("{}", refused.text);
    return refused;
  }
  Config next = std::move(*result.config);
  if (next.director.queue != config_.director.queue ||
      next.director.queues != config_.director.queues ||
      next.director.max_connections != config_.director.max_connections ||
      next.director.fail_open != config_.director.fail_open ||
      next.director.fast_path != config_.director.fast_path ||
      next.director.mark_mask != config_.director.mark_mask)
    spdlog::warn("reload: [director] queue/queues/max_connections/fail_open/fast_path/mark_mask "
                 "changes need a restart; kept");
  // The fast path's marks are in every kernel-carried flow: they change
  // only with a restart, which adopts the flows again.
  next.director.fast_path = config_.director.fast_path;
  next.director.mark_mask = config_.director.mark_mask;
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
    auto refused = control::Outcome::refused("reload refused: " + err);
    spdlog::error("{}", refused.text);
    return refused;
  }
  auto done = control::Outcome::done("reloaded " + config_path_ + ": " +
                                     std::to_string(config_.services.size()) + " services, " +
                                     std::to_string(count_reals(config_)) + " real servers");
  spdlog::info("{}", done.text);
  return done;
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
  for (std::size_t i = 0; i < data_plane_->queues().size(); ++i)
    data_plane_->run_on_queue_thread(i, [&] {
      auto& q = data_plane_->queues()[i];
      if (!q->gso()) return 0;
      if (int err = q->set_gso(false))
        spdlog::error("NFQUEUE {}: cannot turn GSO off: {}; DR/TUN packets above the MTU will "
                      "fail to send: restart vsd",
                      q->queue_num(), std::strerror(err));
      else
        spdlog::info("NFQUEUE {}: GSO off (DR/TUN real servers need wire-size packets; on "
                     "again only after a restart without them)",
                     q->queue_num());
      return 0;
    });
}

bool Director::apply_config(Config next, const std::string& why, std::string* error) {
  // The ruleset first: if the kernel refuses it, nothing changes anywhere.
  std::size_t missing = 0;
  numbers_.assign(next, &missing);
  const FastPathPlan next_plan = plan_fast_path(next, numbers_, node_offers(), &plan_);
  try {
    nfq::install(make_ruleset_spec(next, table_, next_plan), queue_form_);
  } catch (const std::exception& e) {
    *error = std::string("nft ruleset not installed (the running configuration is unchanged): ") + e.what();
    return false;
  }
  if (next.log.level != config_.log.level) {
    spdlog::set_level(spdlog::level::from_str(next.log.level));
    spdlog::info("{}: log level {}", why, next.log.level);
  }
  for (const auto& line : describe_changes(config_, next)) spdlog::info("{}: {}", why, line);
  if (metrics_) ipvs_totals_.update(status());  // what a service removed now counted stays in the totals
  Config before = std::move(config_);
  config_ = std::move(next);
  replan();
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

void Director::sync_health_targets() {
  std::set<std::string> wanted;
  for (auto& t : HealthPolicy::targets(config_)) {
    wanted.insert(t.id);
    const bool fresh = !health_.contains(t.id);
    const std::string id = t.id;
    health_.upsert(std::move(t));
    if (fresh) policy_.track(id, health_.is_up(id).value_or(true));
  }
  for (const auto& id : policy_.forget_others(wanted)) health_.remove(id);
}

void Director::on_health(const std::string& id, bool up, const std::string& reason) {
  // One line per transition, with what it does to the data path.
  const std::string action = policy_.transition(config_, id, up, clock_.now_ms());
  if (up)
    spdlog::info("health: {} is up ({}): {}", id, reason, action);
  else
    spdlog::warn("health: {} is down ({}): {}; existing connections continue", id, reason, action);
  publish_effective();
}

void Director::publish_effective() {
  const std::uint64_t now_ms = clock_.now_ms();
  Config eff = policy_.effective(config_, now_ms);
  for (const auto& q : policy_.quorum_changes(eff)) {
    if (q.gained)
      spdlog::info("service {}: quorum gained (healthy weight {} >= {} + {})", q.service,
                   q.healthy_weight, q.quorum, q.hysteresis);
    else
      spdlog::warn("service {}: quorum lost (healthy weight {}, quorum {}, hysteresis {})", q.service,
                   q.healthy_weight, q.quorum, q.hysteresis);
    if (!q.command.empty())
      notifier_.notify({q.command, "quorum " + q.service, q.service, "", q.gained,
                        "healthy weight " + std::to_string(q.healthy_weight)});
  }
  for (const auto& e : policy_.sorry_changes(eff))
    spdlog::warn("service {}: {}", e.service,
                 e.serving ? "no healthy real server: sorry server " + e.sorry_server.to_string() +
                                 " takes new connections"
                           : "a real server is healthy again: sorry server " +
                                 e.sorry_server.to_string() + " takes no new connections");
  // While a weight ramps (slow start), republish four times a second.
  if (policy_.ramping(config_, now_ms)) {
    slow_start_timer_.expires_after(std::chrono::milliseconds(250));
    slow_start_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) publish_effective();
    });
  }
  engine_.publish(build_snapshot(snapshot_spec(eff, &egress_, &plan_), engine_.published().get(), &clock_));
  end_removed_kernel_flows();
  announce_bgp(eff, "");
}

// expire_nodest_conn for kernel-carried flows: the engine forgets a gone
// real server's connections when it adopts the snapshot; the kernel's
// conntrack entries and flow-table elements of that decision go here.
// Without expire_nodest_conn they carry on, as IPVS's do.
void Director::end_removed_kernel_flows() {
  std::set<std::uint32_t> now;
  for (const auto& s : engine_.published()->services)
    for (const auto& d : s.dests)
      if (d.kernel_mark) now.insert(d.kernel_mark);
  std::vector<std::uint32_t> gone;
  std::set_difference(kernel_marks_.begin(), kernel_marks_.end(), now.begin(), now.end(),
                      std::back_inserter(gone));
  kernel_marks_ = std::move(now);
  if (gone.empty() || !kernel_ || !config_.director.expire_nodest_conn) return;
  try {
    if (std::size_t n = kernel_->end_flows(gone))
      spdlog::info("expire_nodest_conn: ended {} kernel-carried flow(s) of {} removed real server(s)",
                   n, gone.size());
  } catch (const std::exception& e) {
    spdlog::warn("expire_nodest_conn: cannot end the kernel's flows of removed real servers ({}); "
                 "they run on until they close",
                 e.what());
  }
}

// Runs on the control thread every 2 s, like IPVS's estimator.
void Director::arm_estimator() {
  estimator_.expires_after(std::chrono::seconds(2));
  estimator_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    auto snap = engine_.published();
    if (kernel_) kernel_->read_counters(*snap);
    for (const auto& s : snap->services) {
      s.state->rates.tick(s.totals());
      for (const auto& d : s.dests) d.state->rates.tick(d.state->totals());
    }
    arm_estimator();
  });
}

control::Outcome Director::edit(const std::vector<IpvsadmCommand>& commands) {
  Config next = config_;
  if (auto err = apply_ipvsadm_commands(next, commands)) return control::Outcome::refused(*err);
  // The edited configuration must pass the same checks as a file would.
  if (auto errors = validate(next); !errors.empty()) {
    std::string msg;
    for (const auto& e : errors) msg += (msg.empty() ? "" : "; ") + e.reason;
    spdlog::warn("vsadm edit refused: {}", msg);
    return control::Outcome::refused(msg);
  }
  // A real server added with vsadm -a gets its service's [service.check].
  for (auto& svc : next.services)
    for (auto& r : svc.reals)
      if (!r.check && svc.check_defaults) set_checks(r, service_checks(svc));
  std::string err;
  if (!apply_config(std::move(next), "vsadm", &err)) {
    spdlog::error("vsadm edit refused: {}", err);
    return control::Outcome::refused(err);
  }
  return control::Outcome::done();
}

control::Outcome Director::zero(const std::optional<IpvsadmService>& key) {
  auto snap = engine_.published();
  std::vector<const ServiceView*> targets;  // no key: every service (ipvsadm -Z)
  for (const auto& s : snap->services) {
    bool match = !key || (key->is_fwmark() ? s.fwmark == key->fwmark
                                           : (!s.fwmark && s.protocol == key->protocol && s.vip == key->address));
    if (match) targets.push_back(&s);
  }
  if (key && targets.empty()) return control::Outcome::refused("No such service");
  if (metrics_) {
    if (key)
      ipvs_totals_.update(status());  // the service's counts so far stay in the totals
    else
      ipvs_totals_.zero_all();  // as IPVS's ip_vs_zero_all
  }
  // The data path is the counters' only writer: zero them with the engine
  // to ourselves.
  auto work = [&] {
    for (const auto* s : targets) {
      s->state->traffic.reset();
      for (const auto& d : s->dests) {
        d.state->traffic.reset();
        d.state->zero_kernel();
      }
    }
    return 0;
  };
  if (data_plane_) data_plane_->with_engine(work); else work();
  for (const auto* s : targets) {
    s->state->rates.reset();
    for (const auto& d : s->dests) d.state->rates.reset();
  }
  spdlog::info("vsadm: counters zeroed ({} services)", targets.size());
  return control::Outcome::done();
}

control::Status Director::status() {
  control::Status st;
  st.version = kVersion;
  st.queue_form = nfq::to_string(queue_form_);
  st.uptime_s = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_)
          .count());
  st.connections = engine_.connection_count();
  st.max_connections = config_.director.max_connections;
  st.counters = counters_status(engine_.counters());
  // Packets vsd sent itself (TUN, DR, ICMP answers) rather than by verdict.
  const auto& tx = transmitter_.counters();
  st.counters.transmit_sent = tx.sent.load();
  st.counters.transmit_errors = tx.errors.load();
  if (data_plane_) {
    for (const auto& q : data_plane_->queues()) {
      const auto& c = q->counters();
      auto kernel = nfq::kernel_queue_stats(q->queue_num());
      st.queues.push_back({q->queue_num(), c.received.load(), c.batches.load(), c.enobufs.load(),
                           c.recv_errors.load(), c.verdict_errors.load(), c.send_errors.load(),
                           c.truncated.load(), kernel.queue_dropped, kernel.user_dropped,
                           kernel.waiting});
    }
  }
  auto snap = engine_.published();
  if (kernel_) kernel_->read_counters(*snap);  // exact at the moment it is asked
  st.timeouts = {snap->timeouts.for_state(TcpState::established),
                 snap->timeouts.for_state(TcpState::fin_wait), snap->timeouts.udp};
  st.services = services_status(*snap, config_, policy_);
  st.health = health_.status_json();
  st.sync_daemons = sync_daemons_status();
  return st;
}

// Read by the control server step by step, each step with the engine held
// for a bounded time (daemon/status.hpp).
std::unique_ptr<control::ConnectionCursor> Director::connections() {
  auto lock = [this](const std::function<void()>& fn) {
    if (!data_plane_) return fn();
    data_plane_->with_engine(fn);
  };
  return std::make_unique<ConnectionReader>(engine_.connections(), clock_, lock);
}

std::string Director::save_toml() { return write_config_toml(config_); }

control::Outcome Director::garp() {
  if (config_.arp.garp_repeat == 0)
    return control::Outcome::refused("[arp] garp_repeat is 0: gratuitous ARP is off");
  if (!ha_announces())
    return control::Outcome::refused(config_.bgp.enabled()
                                         ? "[bgp]: the VIPs are routed to this director by BGP, not announced by ARP"
                                         : "this director is not the pair's master: the master announces the VIPs");
  std::size_t n = announce_vips({});
  return control::Outcome::done("announcing " + std::to_string(n) + " VIP(s) x" +
                                std::to_string(config_.arp.garp_repeat) + " (see vsd's log)");
}

}  // namespace vsd
