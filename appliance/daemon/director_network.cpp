// The director's side of the node and the network: the sysctls it needs,
// how DR and TUN packets reach each real server, and the gratuitous ARP /
// unsolicited NA for its VIPs.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "appliance/daemon/director.hpp"
#include "appliance/daemon/ruleset_spec.hpp"
#include "arp/announcer.hpp"
#include "nfq/rtnl_socket.hpp"

namespace vsd {

void Director::apply_node_settings() {
  for (const auto& c : plan_sysctls(config_, Role::director, facts_)) {
    bool changed = false;
    std::string err;
    if (!sysctls_.ensure(c.key, c.value, &changed, &err))
      spdlog::warn("cannot set {}={} ({}): {}; set it by hand", c.key, c.value, c.why, err);
    else if (changed)
      spdlog::info("set {}={} (was {}): {}; restored on exit", c.key, c.value,
                   c.current.empty() ? "?" : c.current, c.why);
  }
  save_node_state();
}

bool Director::refresh_egress() {
  EgressTable next;
  std::map<IpAddress, std::string> next_devices;
  bool unresolved = false;  // worth asking again soon (no route, MAC being resolved)
  bool missing = false;     // some DR/TUN real server has no MAC / outer source now
  std::set<IpAddress> done;
  for (const auto& s : config_.services)
    for (const auto& r : node_reals(s)) {  // a DR/TUN sorry server too
      if (r.forward == ForwardMethod::nat || !done.insert(r.address.addr).second) continue;
      const IpAddress& rip = r.address.addr;
      std::string err;
      rtnl::RouteInfo ri;
      DestEgress e;
      EgressReport report;
      if (!rtnl::route_get(rip, &ri, &err)) {
        report = {EgressState::no_route,
                  fmt::format("real server {} ({}) has no route: {}; add one (ip route add ...)",
                              rip.to_string(), to_string(r.forward), err)};
        unresolved = true;
      } else {
        e.tunnel_source = ri.prefsrc;
        e.mtu = ri.mtu;
        e.ifindex = ri.oif;
        if (r.forward == ForwardMethod::tun) {
          tun_sources_[rip] = ri.prefsrc;  // a kernel tunnel's outer source by default
          report = {EgressState::tunnel,
                    fmt::format("TUN real server {}: IP-in-IP from {} via {}, MTU {}", rip.to_string(),
                                ri.prefsrc.to_string(), ri.ifname, ri.mtu)};
        } else if (ri.has_gateway()) {
          report = {EgressState::via_gateway,
                    fmt::format("DR real server {} is reached via gateway {}, not on a directly "
                                "connected segment: DR cannot reach it; put it on {}'s segment or "
                                "use forward = \"tun\"",
                                rip.to_string(), ri.gateway.to_string(), ri.ifname)};
        } else if (MacAddress mac; rtnl::neighbour_lookup(rip, ri.oif, &mac, &err)) {
          e.mac = mac;
          e.mac_known = true;
          unresolved_rounds_.erase(rip);
          report = {EgressState::direct, fmt::format("DR real server {} at {} on {}", rip.to_string(),
                                                     mac_to_string(mac), ri.ifname)};
          // vsd's frames bypass the neighbour table, so the kernel never
          // confirms a STALE entry by itself; this makes it probe (a
          // REACHABLE or static entry is left alone) and a changed MAC is
          // found instead of sent to forever.
          std::string ignored;
          rtnl::neighbour_resolve(rip, ri.oif, &ignored);
        } else {
          // Ask the kernel to resolve it; the next round reads the answer.
          std::string why = err;
          rtnl::neighbour_resolve(rip, ri.oif, &err);
          // ~2 s of 200 ms rounds without an answer is a problem to report,
          // once: the state it names may flip between rounds.
          const unsigned rounds = ++unresolved_rounds_[rip];
          if (rounds > 10)
            report = egress_report_[rip];
          else if (rounds == 10)
            report = {EgressState::no_mac,
                      fmt::format("DR real server {}: no MAC on {} ({}); its packets are dropped "
                                  "(counter no_route): is it up, on this segment, and answering "
                                  "ARP/ND for its own address?",
                                  rip.to_string(), ri.ifname, why)};
          else
            report = {EgressState::resolving_mac,
                      fmt::format("DR real server {}: resolving its MAC on {}", rip.to_string(), ri.ifname)};
          unresolved = true;
        }
        // The kernel fast path forwards this DR server's flows (`dup`) on
        // the interface the route names; the kernel resolves its MAC.
        if (r.forward == ForwardMethod::dr && !ri.has_gateway()) next_devices[rip] = ri.ifname;
      }
      if (egress_report_[rip] != report) {
        if (is_problem(report.state))
          spdlog::error("{}", report.line);
        else
          spdlog::info("{}", report.line);
        egress_report_[rip] = report;
      }
      missing |= r.forward == ForwardMethod::dr ? !e.mac_known : e.tunnel_source.is_unspecified();
      next[rip] = e;
    }
  // The kernel TUN path's devices follow the TUN real servers on the flow
  // table and their outer sources. One made again has a new ifindex,
  // which the installed dup rule would still name: install again.
  bool tunnels_changed = false;
  if (tunnels_) {
    auto synced = tunnels_->sync(wanted_tunnels(config_, plan_, tunnel_support_, tun_sources_));
    tunnels_changed = synced.changed || synced.devices != tun_devices_;
    tun_devices_ = std::move(synced.devices);
  }
  if (next_devices != dr_devices_ || tunnels_changed) {
    dr_devices_ = std::move(next_devices);
    replan();
    if (rules_installed_) {
      try {
        nfq::install(make_ruleset_spec(config_, table_, plan_), queue_form_);
      } catch (const std::exception& e) {
        spdlog::error("fast path: cannot update the DR/TUN devices in nft table '{}': {}", table_, e.what());
      }
    }
    egress_.clear();  // publish below
  }
  if (next != egress_) {
    egress_ = std::move(next);
    publish_effective();
  }
  report_transmit_errors();
  // Quickly while a MAC or route is missing, then as a watch for changes.
  egress_timer_.expires_after(unresolved ? std::chrono::milliseconds(200) : std::chrono::seconds(2));
  egress_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) refresh_egress();
  });
  return missing;
}

// The data path counts its send failures (no log there: one line per packet
// would flood); the egress watch sums them up, one line per round with news.
void Director::report_transmit_errors() {
  const auto& tx = transmitter_.counters();
  const std::uint64_t errors = tx.errors.load(std::memory_order_relaxed);
  if (errors == tx_errors_reported_) return;
  const auto last = transmitter_.last_failure();
  spdlog::warn("could not send {} TUN/DR/ICMP packet(s) toward real servers or clients (the last: "
               "{} bytes for {}: {}); EMSGSIZE means a packet above the egress MTU (lower the "
               "clients' MSS or raise the MTU), ENETUNREACH/EHOSTUNREACH a missing route",
               errors - tx_errors_reported_, last.len, last.dst.to_string(), std::strerror(last.error));
  tx_errors_reported_ = errors;
}

std::size_t Director::announce_vips(std::vector<IpAddress> vips) {
  // A pair's backup must not pull the VIPs' traffic to itself.
  if (!ha_announces()) return 0;
  if (vips.empty()) vips = config_vips(config_);
  if (!announcer_)
    announcer_ = std::make_unique<arp::Announcer>(io_, [](int level, const std::string& line) {
      if (level == arp::Announcer::kWarn)
        spdlog::warn("{}", line);
      else
        spdlog::info("{}", line);
    });
  arp::AnnounceOptions o;
  o.repeat = config_.arp.garp_repeat;
  o.interval = std::chrono::milliseconds(config_.arp.garp_interval_ms);
  if (o.repeat == 0) return 0;
  return announcer_->announce(vips, o);
}

void Director::announce_added_vips(const Config& before) {
  auto old = config_vips(before);
  std::vector<IpAddress> added;
  for (const auto& v : config_vips(config_))
    if (std::find(old.begin(), old.end(), v) == old.end()) added.push_back(v);
  if (!added.empty()) announce_vips(added);
}

}  // namespace vsd
