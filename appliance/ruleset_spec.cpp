#include "appliance/ruleset_spec.hpp"

#include <set>
#include <tuple>

namespace vsd {

nfq::RulesetSpec make_ruleset_spec(const Config& config, const std::string& table) {
  nfq::RulesetSpec spec;
  spec.table = table;
  spec.queue_first = config.director.queue;
  spec.queue_count = config.director.queues;
  spec.bypass = config.director.fail_open;
  // One reply rule per real server endpoint even when several services share it.
  std::set<std::tuple<std::uint8_t, IpAddress, std::uint16_t>> replies;
  for (const auto& svc : config.services) {
    const auto proto = static_cast<std::uint8_t>(svc.protocol);
    const std::string name = std::string(svc.protocol == Protocol::tcp ? "TCP " : "UDP ") +
                             svc.address.to_string();
    spec.matches.push_back({nfq::DivertMatch::Side::destination, svc.address.addr, proto,
                            svc.address.port, "vsd service " + name});
    for (const auto& real : svc.reals) {
      if (real.forward != ForwardMethod::nat) continue;
      std::uint16_t port = real.address.port ? real.address.port : svc.address.port;
      if (!replies.emplace(proto, real.address.addr, port).second) continue;
      Endpoint rip{real.address.addr, port};
      spec.matches.push_back({nfq::DivertMatch::Side::source, rip.addr, proto, port,
                              "vsd NAT replies " + rip.to_string() + " for " + name});
    }
  }
  return spec;
}

}  // namespace vsd
