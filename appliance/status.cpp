#include "appliance/status.hpp"

namespace vsd {
namespace {

nlohmann::json traffic_json(const TrafficCounters& t) {
  return {{"conns", t.conns.get()},     {"inpkts", t.inpkts.get()},
          {"outpkts", t.outpkts.get()}, {"inbytes", t.inbytes.get()},
          {"outbytes", t.outbytes.get()}};
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
          {"conns_expired", c.conns_expired.get()}};
}

nlohmann::json status_json(const ServiceSnapshot& snap, const DaemonInfo& info) {
  nlohmann::json services = nlohmann::json::array();
  for (const auto& s : snap.services) {
    nlohmann::json reals = nlohmann::json::array();
    for (const auto& d : s.dests) {
      reals.push_back({{"address", d.addr.to_string()},
                       {"forward", to_string(d.forward)},
                       {"weight", d.weight},
                       {"active_conns", d.state->active_conns.get()},
                       {"inactive_conns", d.state->inactive_conns.get()},
                       {"stats", traffic_json(d.state->traffic)}});
    }
    services.push_back({{"protocol", to_string(s.protocol)},
                        {"address", s.vip.to_string()},
                        {"scheduler", s.scheduler_name},
                        {"reals", std::move(reals)},
                        {"stats", traffic_json(s.state->traffic)}});
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
