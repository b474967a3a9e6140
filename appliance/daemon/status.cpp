#include "appliance/daemon/status.hpp"

namespace vsd {
namespace {

nlohmann::json traffic_json(const TrafficCounters& t) {
  return {{"conns", t.conns.get()},     {"inpkts", t.inpkts.get()},
          {"outpkts", t.outpkts.get()}, {"inbytes", t.inbytes.get()},
          {"outbytes", t.outbytes.get()}};
}

nlohmann::json rates_json(const RateEstimate& r) {
  auto round = [](double v) { return static_cast<std::uint64_t>(v + 0.5); };
  return {{"cps", round(r.cps())},     {"inpps", round(r.inpps())}, {"outpps", round(r.outpps())},
          {"inbps", round(r.inbps())}, {"outbps", round(r.outbps())}};
}

}  // namespace

nlohmann::json counters_json(const EngineCounters& c) {
  nlohmann::json malformed = nlohmann::json::object();
  for (std::size_t i = 1; i < kParseStatusCount; ++i) {
    auto st = static_cast<ParseStatus>(i);
    if (st == ParseStatus::unsupported_protocol) continue;  // counted as "unsupported"
    malformed[to_string(st)] = c.malformed[i].get();
  }
  return {{"packets", c.packets.get()},
          {"malformed", std::move(malformed)},
          {"unsupported", c.unsupported.get()},
          {"no_connection", c.no_connection.get()},
          {"no_destination", c.no_destination.get()},
          {"table_full", c.table_full.get()},
          {"key_collision", c.key_collision.get()},
          {"reply_no_connection", c.reply_no_connection.get()},
          {"conns_created", c.conns_created.get()},
          {"conns_expired", c.conns_expired.get()},
          {"templates_created", c.templates_created.get()},
          {"ops_datagrams", c.ops_datagrams.get()},
          {"nodest_flushed", c.nodest_flushed.get()},
          {"tunneled", c.tunneled.get()},
          {"direct_routed", c.direct_routed.get()},
          {"tun_too_big", c.tun_too_big.get()},
          {"dr_too_big", c.dr_too_big.get()},
          {"tun_ttl_expired", c.tun_ttl_expired.get()},
          {"tun_failed", c.tun_failed.get()},
          {"no_route", c.no_route.get()},
          {"icmp_translated", c.icmp_translated.get()},
          {"icmp_passed", c.icmp_passed.get()}};
}

nlohmann::json status_json(const ServiceSnapshot& snap, const DaemonInfo& info) {
  nlohmann::json services = nlohmann::json::array();
  for (const auto& s : snap.services) {
    nlohmann::json reals = nlohmann::json::array();
    for (const auto& d : s.dests) {
      reals.push_back({{"address", d.addr.to_string()},
                       {"forward", to_string(d.forward)},
                       {"weight", d.weight},
                       {"upper_threshold", d.upper_threshold},
                       {"lower_threshold", d.lower_threshold},
                       {"active_conns", d.state->active_conns.get()},
                       {"inactive_conns", d.state->inactive_conns.get()},
                       {"persistent_conns", d.state->persistent_conns.get()},
                       {"overloaded", d.state->overloaded.load(std::memory_order_relaxed)},
                       {"stats", traffic_json(d.state->traffic)},
                       {"rates", rates_json(d.state->rates)}});
    }
    nlohmann::json flags = nlohmann::json::array();
    for (const auto& f : s.scheduler_flags) flags.push_back(f);
    if (s.ops) flags.push_back("ops");
    nlohmann::json svc = {{"protocol", to_string(s.protocol)},
                          {"scheduler", s.scheduler_name},
                          {"flags", std::move(flags)},
                          {"persistent", s.persistent},
                          // The default mask (/32, /128) is reported as 0, as ipvsadm leaves it out.
                          {"netmask", s.persistent && s.netmask != (s.v6 ? 128 : 32) ? s.netmask : 0},
                          {"reals", std::move(reals)},
                          {"stats", traffic_json(s.state->traffic)},
                          {"rates", rates_json(s.state->rates)}};
    if (s.fwmark) {
      svc["fwmark"] = s.fwmark;
      svc["ipv6"] = s.v6;
    } else {
      svc["address"] = s.vip.to_string();
    }
    services.push_back(std::move(svc));
  }
  return {{"version", info.version},
          {"queue_form", info.queue_form},
          {"uptime_s", info.uptime_s},
          {"connections", info.connections},
          {"max_connections", info.max_connections},
          {"counters", info.counters},
          {"queues", info.queues},
          {"timeouts",
           {{"tcp", snap.timeouts.for_state(TcpState::established)},
            {"tcpfin", snap.timeouts.for_state(TcpState::fin_wait)},
            {"udp", snap.timeouts.udp}}},
          {"services", std::move(services)}};
}

}  // namespace vsd

namespace vsd {

nlohmann::json connections_json(const ConnTable& table, std::uint32_t now) {
  nlohmann::json out = nlohmann::json::array();
  table.for_each([&](const ConnEntry& e) {
    if (e.flags & ConnEntry::kUnhashed) return;  // invalidated templates: not IPVS-visible either
    const bool tmpl = e.is_template();
    const std::uint8_t proto = tmpl ? static_cast<std::uint8_t>(e.proto & 0x7f) : e.proto;
    const char* p = proto == 6 ? "tcp" : proto == 17 ? "udp" : "ip";
    std::string state = tmpl ? "NONE" : proto == 6 ? to_string(e.state) : "UDP";
    out.push_back({{"protocol", p},
                   {"client", Endpoint{e.caddr, e.cport}.to_string()},
                   {"virtual", Endpoint{e.vaddr, e.vport}.to_string()},
                   {"real", Endpoint{e.daddr, e.dport}.to_string()},
                   {"state", state},
                   {"expires_s", e.expires > now ? e.expires - now : 0},
                   {"is_template", tmpl}});
  });
  return out;
}

}  // namespace vsd
