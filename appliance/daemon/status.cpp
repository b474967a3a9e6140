#include "appliance/daemon/status.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace vsd {
namespace {

control::Traffic traffic(const TrafficSample& t) { return {t[0], t[1], t[2], t[3], t[4]}; }

control::Rates rates(const RateEstimate& r) {
  auto round = [](double v) { return static_cast<std::uint64_t>(v + 0.5); };
  return {round(r.cps()), round(r.inpps()), round(r.outpps()), round(r.inbps()), round(r.outbps())};
}

bool same_service(const ServiceView& v, const ServiceConfig& c) {
  return c.is_fwmark() ? v.fwmark == c.fwmark
                       : !v.fwmark && v.protocol == c.protocol && v.vip == c.address;
}

Endpoint real_endpoint(const ServiceConfig& s, const RealServerConfig& r) {
  return {r.address.addr, r.address.port ? r.address.port : s.address.port};
}

}  // namespace

control::Counters counters_status(const EngineCounters& c) {
  control::Counters out;
  out.packets = c.packets.get();
  for (std::size_t i = 1; i < kParseStatusCount; ++i) {
    auto st = static_cast<ParseStatus>(i);
    if (st == ParseStatus::unsupported_protocol) continue;  // counted as "unsupported"
    out.malformed.emplace_back(to_string(st), c.malformed[i].get());
  }
  out.unsupported = c.unsupported.get();
  out.no_connection = c.no_connection.get();
  out.no_destination = c.no_destination.get();
  out.table_full = c.table_full.get();
  out.key_collision = c.key_collision.get();
  out.reply_no_connection = c.reply_no_connection.get();
  out.conns_created = c.conns_created.get();
  out.conns_expired = c.conns_expired.get();
  out.templates_created = c.templates_created.get();
  out.ops_datagrams = c.ops_datagrams.get();
  out.nodest_flushed = c.nodest_flushed.get();
  out.tunneled = c.tunneled.get();
  out.direct_routed = c.direct_routed.get();
  out.tun_too_big = c.tun_too_big.get();
  out.dr_too_big = c.dr_too_big.get();
  out.tun_ttl_expired = c.tun_ttl_expired.get();
  out.tun_failed = c.tun_failed.get();
  out.no_route = c.no_route.get();
  out.icmp_translated = c.icmp_translated.get();
  out.icmp_passed = c.icmp_passed.get();
  out.kernel_decided = c.kernel_decided.get();
  out.kernel_adopted = c.kernel_adopted.get();
  out.sloppy_adopted = c.sloppy_adopted.get();
  out.icmp_rate_limited = c.icmp_rate_limited.get();
  out.drop_entry = c.drop_entry.get();
  out.drop_packet = c.drop_packet.get();
  out.share_full = c.share_full.get();
  out.secure_tcp_expired = c.secure_tcp_expired.get();
  return out;
}

std::vector<control::ServiceStatus> services_status(const ServiceSnapshot& snap, const Config& config,
                                                    const HealthPolicy& policy) {
  std::vector<control::ServiceStatus> out;
  for (const auto& s : snap.services) {
    control::ServiceStatus st;
    st.protocol = s.protocol;
    st.address = s.vip;
    st.fwmark = s.fwmark;
    st.ipv6 = s.v6;
    st.scheduler = s.scheduler_name;
    st.flags = s.scheduler_flags;
    if (s.ops) st.flags.push_back("ops");
    st.persistent = s.persistent;
    // The default mask (/32, /128) is reported as 0, as ipvsadm leaves it out.
    st.netmask = s.persistent && s.netmask != (s.v6 ? 128 : 32) ? s.netmask : 0;
    st.stats = traffic(s.totals());
    st.rates = rates(s.state->rates);
    for (const auto& d : s.dests) {
      control::RealStatus r;
      r.address = d.addr;
      r.forward = d.forward;
      r.weight = d.weight;
      r.upper_threshold = d.upper_threshold;
      r.lower_threshold = d.lower_threshold;
      r.active_conns = d.state->active_conns.get();
      r.inactive_conns = d.state->inactive_conns.get();
      r.persistent_conns = d.state->persistent_conns.get();
      r.overloaded = d.state->overloaded.load(std::memory_order_relaxed);
      r.stats = traffic(d.state->totals());
      r.rates = rates(d.state->rates);
      st.reals.push_back(r);
    }
    auto cfg = std::find_if(config.services.begin(), config.services.end(),
                            [&](const ServiceConfig& c) { return same_service(s, c); });
    if (cfg != config.services.end()) {
      st.sorry_server = cfg->sorry_server;
      for (const auto& rc : cfg->reals) {
        const control::Health h = policy.health(*cfg, rc);
        if (h == control::Health::unchecked) continue;
        const Endpoint ep = real_endpoint(*cfg, rc);
        auto listed = std::find_if(st.reals.begin(), st.reals.end(),
                                   [&](const control::RealStatus& r) { return r.address == ep; });
        if (listed != st.reals.end()) {
          listed->health = h;
          continue;
        }
        control::RealStatus removed;  // on_failure = "remove": out of the snapshot
        removed.address = ep;
        removed.forward = rc.forward;
        removed.weight = 0;
        removed.health = h;
        removed.removed = true;
        st.reals.push_back(removed);
      }
    }
    out.push_back(std::move(st));
  }
  return out;
}

ConnectionReader::ConnectionReader(const ConnTable& table, const Clock& clock, Lock lock,
                                   std::uint32_t slots_per_step)
    : table_(table),
      clock_(clock),
      lock_(std::move(lock)),
      slots_per_step_(slots_per_step ? slots_per_step : 1) {
  // Touched now: no page fault on it while the engine is held.
  rows_.resize(slots_per_step_);
  rows_.clear();
}

bool ConnectionReader::next(std::vector<control::ConnectionStatus>& out) {
  if (cursor_ >= table_.capacity()) return false;
  if (steps_ == 0) started_ = std::chrono::steady_clock::now();
  const std::uint32_t now = clock_.now_s();
  rows_.clear();
  // Held: the walk of one step and trivial copies into reserved room.
  lock_([this] {
    const auto held = std::chrono::steady_clock::now();
    cursor_ = table_.for_each_from(cursor_, slots_per_step_, [this](const ConnEntry& e) {
      if (e.flags & ConnEntry::kUnhashed) return;  // invalidated templates: not IPVS-visible either
      rows_.push_back({e.caddr, e.vaddr, e.daddr, e.cport, e.vport, e.dport, e.proto, e.flags, e.state,
                       e.expires});
    });
    const std::chrono::nanoseconds took = std::chrono::steady_clock::now() - held;
    longest_hold_ = std::max(longest_hold_, took);
  });
  ++steps_;
  out.reserve(out.size() + rows_.size());
  for (const Row& r : rows_) {
    control::ConnectionStatus c;
    c.is_template = r.flags & ConnEntry::kTemplate;
    c.protocol = c.is_template ? static_cast<std::uint8_t>(r.proto & 0x7f) : r.proto;
    c.client = {r.caddr, r.cport};
    c.virtual_address = {r.vaddr, r.vport};
    c.real = {r.daddr, r.dport};
    c.state = c.is_template ? "NONE" : c.protocol == 6 ? to_string(r.state) : "UDP";
    c.expires_s = r.expires > now ? r.expires - now : 0;
    out.push_back(std::move(c));
  }
  listed_ += rows_.size();
  const bool more = cursor_ < table_.capacity();
  if (!more) {
    using Ms = std::chrono::duration<double, std::milli>;
    spdlog::debug("connection listing: {} entries of {} slots in {} steps of {}, {:.3f} ms at most with "
                  "the engine held, {:.1f} ms in all",
                  listed_, table_.capacity(), steps_, slots_per_step_, Ms(longest_hold_).count(),
                  Ms(std::chrono::steady_clock::now() - started_).count());
  }
  return more;
}

}  // namespace vsd
