#include "appliance/daemon/realserver.hpp"

#include "appliance/daemon/node_recovery.hpp"
#include "appliance/daemon/stop_signals.hpp"
#include "appliance/daemon/ruleset_spec.hpp"
#include "appliance/daemon/sd_notify.hpp"
#include "appliance/daemon/table_watch.hpp"
#include "appliance/daemon/watchdog.hpp"

#include <linux/netfilter.h>
#include <net/if.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>

#include <functional>
#include <unistd.h>

#include <algorithm>

#include "arp/arp_hiding.hpp"
#include "arp/nft_text.hpp"
#include "nfq/rtnl_socket.hpp"

namespace vsd {

RealServer::RealServer(Config config, NodeFacts facts)
    : config_(std::move(config)), facts_(std::move(facts)) {
  vips_ = realserver_vips(config_, facts_);
  tunnel_addrs_ = realserver_tunnel_addresses(config_, facts_);
}

RealServer::~RealServer() { teardown(); }

void RealServer::setup() {
  std::string lock_error;
  if (!lock_.acquire(&lock_error)) throw std::runtime_error(lock_error);
  locked_ = true;
  table_watch_ = std::make_unique<TableWatch>(io_);
  // VIPs an earlier vsd put on lo and this configuration keeps: ours to
  // remove at a clean stop, though address_add finds them there.
  const std::vector<IpAddress> inherited = recover_node(state_file_, Role::realserver, vips_, sysctls_);
  for (const auto& c : plan_sysctls(config_, Role::realserver, facts_)) {
    bool changed = false;
    std::string err;
    if (!sysctls_.ensure(c.key, c.value, &changed, &err))
      throw std::runtime_error("cannot set " + c.key + "=" + c.value + " (" + c.why + "): " + err);
    if (changed)
      spdlog::info("set {}={} (was {}): {}; restored on exit", c.key, c.value,
                   c.current.empty() ? "?" : c.current, c.why);
  }
  lo_index_ = static_cast<int>(if_nametoindex("lo"));
  if (lo_index_ <= 0) throw std::runtime_error("this node has no lo interface");
  for (const auto& vip : vips_) {
    bool existed = false;
    std::string err;
    const std::uint8_t prefix = vip.is_v4() ? 32 : 128;
    if (!rtnl::address_add(lo_index_, vip, prefix, &existed, &err))
      throw std::runtime_error("cannot put VIP " + vip.to_string() + " on lo: " + err);
    if (!existed || std::find(inherited.begin(), inherited.end(), vip) != inherited.end())
      added_vips_.push_back(vip);
    spdlog::info("VIP {}/{} on lo{}", vip.to_string(), prefix, existed ? " (was there already)" : "");
  }
  save_node_state();
  std::vector<IpAddress> v4;
  for (const auto& v : vips_)
    if (v.is_v4()) v4.push_back(v);
  if (!v4.empty() && config_.arp.hiding == ArpHiding::both) {
    std::string err;
    if (!arp::apply_nft_text(arp::arp_hiding_ruleset(vips_), &err))
      throw std::runtime_error("cannot install the ARP-hiding table arp " + table_ + ": " + err);
    arp_table_ = true;
    table_watch_->watch({{NFPROTO_ARP, table_}}, [vips = vips_] {
      std::string e;
      if (!arp::apply_nft_text(arp::arp_hiding_ruleset(vips), &e)) throw std::runtime_error(e);
    });
    save_node_state();
    spdlog::info("ARP hidden for {} VIP(s): nft table arp {} drops requests for them and "
                 "announcements from them; see `nft list table arp {}`",
                 v4.size(), table_, table_);
  }
  // The kernel decapsulates where it can; the rest is queued to vsd. The
  // device listing runs even without TUN addresses: it clears the tunnel
  // devices a killed vsd left on this node.
  decap_devices_ = std::make_unique<DecapDevices>(
      make_rtnl_tunnel_kernel(), [](bool problem, const std::string& line) {
        if (problem)
          spdlog::warn("{}", line);
        else
          spdlog::info("{}", line);
      });
  const rtnl::TunnelSupport support = tunnel_addrs_.empty() ? rtnl::TunnelSupport{} : rtnl::kernel_tunnels();
  const DecapDevices::Outcome decap = decap_devices_->setup(tunnel_addrs_, support);
  for (const auto& [a, dev] : decap.kernel) kernel_decap_.push_back(a);
  if (!decap.vsd.empty()) {
    decap_ = std::make_unique<Decapsulator>(vips_);
    nfq::QueueOptions qo;
    qo.queue_num = config_.director.queue;
    qo.gso = false;  // whole IP-in-IP packets, one per inner packet
    queue_ = std::make_unique<nfq::QueueSocket>(qo);
    queue_fd_ = std::make_unique<boost::asio::posix::stream_descriptor>(io_, ::dup(queue_->fd()));
    nfq::RulesetSpec spec;
    spec.table = table_;
    spec.queue_first = qo.queue_num;
    spec.queue_count = 1;
    spec.notrack = false;  // conntrack sees the inner packet, as with a kernel tunnel
    for (const auto& [a, why] : decap.vsd)
      spec.matches.push_back({nfq::DivertMatch::Side::destination, a,
                              static_cast<std::uint8_t>(a.is_v4() ? IPPROTO_IPIP : IPPROTO_IPV6), 0,
                              "vsd TUN decapsulation for real server " + a.to_string()});
    auto form = nfq::probe_queue_form();
    nfq::install(spec, form);
    decap_table_ = true;
    table_watch_->watch({{NFPROTO_IPV4, table_}, {NFPROTO_IPV6, table_}},
                        [spec, form] { nfq::install(spec, form); });
    save_node_state();
    for (const auto& [a, why] : decap.vsd)
      spdlog::info("TUN: IP-in-IP to {} decapsulated by vsd (NFQUEUE {}, {} form), not by the kernel: "
                   "{}; see `nft list table {} {}`",
                   a.to_string(), qo.queue_num, nfq::to_string(form), why, a.is_v4() ? "ip" : "ip6", table_);
    arm_queue();
  }
}

void RealServer::arm_queue() {
  queue_fd_->async_wait(boost::asio::posix::descriptor::wait_read,
                        [this](boost::system::error_code ec) {
                          if (ec) return;
                          for (int round = 0; round < 16; ++round) {
                            std::size_t n = queue_->poll([this](nfq::QueuedPacket& p) {
                              auto r = decap_->process(p.data, p.len);
                              if (!r.accept) {
                                if (!refusal_logged_) {
                                  refusal_logged_ = true;
                                  spdlog::warn("TUN: refused an IP-in-IP packet from {} (inner "
                                               "destination {}): {}; further refusals are "
                                               "counted and summed up at exit",
                                               r.outer_src.to_string(),
                                               r.inner_dst.is_unspecified() ? "?" : r.inner_dst.to_string(),
                                               refusal_summary());
                                }
                                return nfq::Decision{NF_DROP, false, p.mark};
                              }
                              p.len = static_cast<std::uint32_t>(r.len);
                              return nfq::Decision{NF_ACCEPT, true, p.mark};
                            });
                            if (n == 0) break;
                          }
                          arm_queue();
                        });
}

// "not a VIP: 2, bad_checksum: 1" from the decapsulator's counters.
std::string RealServer::refusal_summary() const {
  const auto& c = decap_->counters();
  std::string out;
  auto add = [&out](const char* what, std::uint64_t n) {
    if (n == 0) return;
    if (!out.empty()) out += ", ";
    out += std::string(what) + ": " + std::to_string(n);
  };
  add("inner destination not a VIP of this node", c.not_a_vip.get());
  add("inner family differs from the outer", c.family_change.get());
  for (std::size_t i = 1; i < kDecapStatusCount; ++i)
    add(to_string(static_cast<DecapStatus>(i)), c.invalid[i].get());
  return out.empty() ? "none" : out;
}

void RealServer::teardown() {
  watchdog_.reset();
  table_watch_.reset();  // vsd's own removal is not a flush to repair
  if (decap_) {
    spdlog::info("TUN: {} packet(s) decapsulated; refused: {}", decap_->counters().decapsulated.get(),
                 refusal_summary());
  }
  if (decap_table_) {
    remove_tables_logged(table_);
    decap_table_ = false;
  }
  if (decap_devices_) {
    if (std::size_t n = decap_devices_->remove_all())
      spdlog::info("TUN: {} decapsulation device(s) deleted", n);
    decap_devices_.reset();
    kernel_decap_.clear();
  }
  queue_fd_.reset();
  queue_.reset();
  if (arp_table_) {
    std::string err;
    if (arp::apply_nft_text(arp::arp_hiding_teardown(), &err))
      spdlog::info("nft table arp {} removed", table_);
    else
      spdlog::error("cannot remove nft table arp {}: {}; remove it by hand: nft delete table arp {}",
                    table_, err, table_);
    arp_table_ = false;
  }
  for (const auto& vip : added_vips_) {
    std::string err;
    const std::uint8_t prefix = vip.is_v4() ? 32 : 128;
    if (rtnl::address_del(lo_index_, vip, prefix, &err))
      spdlog::info("VIP {}/{} removed from lo", vip.to_string(), prefix);
    else
      spdlog::error("cannot remove VIP {} from lo: {}; remove it by hand: ip addr del {}/{} dev lo",
                    vip.to_string(), err, vip.to_string(), prefix);
  }
  added_vips_.clear();
  for (const auto& key : sysctls_.restore_all()) spdlog::info("restored {}", key);
  if (locked_) state_file_.remove();  // cleaned up: nothing for the next start to undo
}

// After every change to the node: what a vsd killed now leaves behind.
void RealServer::save_node_state() {
  NodeState st;
  st.sysctls = sysctls_.saved();
  st.lo_vips = added_vips_;
  if (arp_table_ || decap_table_) st.tables.push_back(table_);
  std::string err;
  if (!state_file_.save(st, &err))
    spdlog::warn("{}; after a crash the next start cannot restore this node's settings", err);
}

int RealServer::run() {
  spdlog::info("vsd real-server role: {} VIP(s), {} TUN address(es)", vips_.size(), tunnel_addrs_.size());
  try {
    setup();
  } catch (const std::exception& e) {
    spdlog::error("cannot start the real-server role: {}", e.what());
    teardown();
    return 1;
  }
  // SIGHUP too (systemctl reload): its default action would end vsd without
  // the teardown, leaving VIPs on lo and a decapsulation queue nobody reads.
  boost::asio::signal_set signals(io_, SIGINT, SIGTERM, SIGHUP);
  std::function<void(boost::system::error_code, int)> on_signal =
      [this, &signals, &on_signal](boost::system::error_code ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
          spdlog::warn("SIGHUP: the real-server role does not reload; restart vsd to apply a "
                       "changed cluster file");
          sd::status("real server: a reload changes nothing here; restart vsd for a changed cluster file");
          signals.async_wait(on_signal);
          return;
        }
        spdlog::info("signal {}: shutting down", sig);
        io_.stop();
      };
  signals.async_wait(on_signal);
  deliver_stop_signals();  // those that came during the start are handled now
  table_watch_->start();
  watchdog_ = std::make_unique<Watchdog>(io_, sd::watchdog_interval(), nullptr, nullptr);
  watchdog_->start();
  sd::ready("real server: " + std::to_string(vips_.size()) + " VIP(s) on lo" +
            (arp_table_ ? ", hidden from ARP" : "") + (kernel_decap_.empty() ? "" : ", TUN decapsulated by the kernel") +
            (decap_ ? ", TUN decapsulated by vsd" : ""));
  spdlog::info("ready");
  io_.run();
  sd::stopping("stopping: removing the VIPs from lo and the nft tables, putting sysctls back");
  teardown();
  return 0;
}

}  // namespace vsd
