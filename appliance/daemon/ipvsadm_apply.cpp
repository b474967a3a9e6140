#include "appliance/daemon/ipvsadm_apply.hpp"

#include <algorithm>

#include "appliance/core/scheduler_registry.hpp"

namespace vsd {
namespace {

// IPVS keys services by (fwmark, family) or (protocol, address, port). A
// vsd fwmark service has no family of its own (its members' or reals'), so
// it matches on the mark alone.
ServiceConfig* find_service(Config& cfg, const IpvsadmService& key) {
  for (auto& s : cfg.services) {
    if (key.is_fwmark() ? s.fwmark == key.fwmark
                        : !s.is_fwmark() && s.protocol == key.protocol && s.address == key.address)
      return &s;
  }
  return nullptr;
}

std::vector<RealServerConfig>::iterator find_real(ServiceConfig& svc, const Endpoint& real) {
  return std::find_if(svc.reals.begin(), svc.reals.end(), [&](const RealServerConfig& r) {
    std::uint16_t port = r.address.port ? r.address.port : svc.address.port;
    return r.address.addr == real.addr && port == real.port;
  });
}

// IPVS takes any of its three flag bits; vsd only has the flags its sh and
// mh schedulers use, and says so rather than keep a flag that does nothing.
std::optional<std::string> check_service(const IpvsadmCommand& c) {
  if (!is_known_scheduler(c.scheduler)) return "Scheduler or persistence engine not found";
  for (const auto& f : c.scheduler_flags)
    if (!is_known_scheduler_flag(c.scheduler, f))
      return "scheduler flag `" + f + "' has no meaning for scheduler " + c.scheduler + " in vsd";
  return std::nullopt;
}

void set_service_options(ServiceConfig& s, const IpvsadmCommand& c) {
  s.scheduler = c.scheduler;
  s.scheduler_flags = c.scheduler_flags;
  s.persistent = c.persistent;
  s.persistence_netmask = c.netmask;
  s.ops = c.ops;
}

void set_real_options(RealServerConfig& r, const IpvsadmCommand& c) {
  r.weight = c.weight;
  r.forward = c.forward;
  r.upper_threshold = c.upper_threshold;
  r.lower_threshold = c.lower_threshold;
}

// Checks IPVS makes on a destination before looking it up.
std::optional<std::string> check_real(const IpvsadmCommand& c) {
  if (c.lower_threshold > c.upper_threshold) return "Numerical result out of range";  // ERANGE
  if (c.real->addr.is_v4() == c.service->is_ipv6() && c.forward != ForwardMethod::tun)
    return "Different address family is allowed only for tunneling servers";
  return std::nullopt;
}

std::optional<std::string> apply(Config& cfg, const IpvsadmCommand& given) {
  // ipvsadm: "the destination port must be equal to the service port" for
  // -g and -i (the port is not rewritten), so it sets it itself.
  IpvsadmCommand c = given;
  if (c.real && c.service && !c.service->fwmark && c.forward != ForwardMethod::nat &&
      (c.op == IpvsadmOp::add_server || c.op == IpvsadmOp::edit_server))
    c.real->port = c.service->address.port;
  bool needs_service = c.op != IpvsadmOp::clear && c.op != IpvsadmOp::set_timeouts;
  bool needs_real = c.op == IpvsadmOp::add_server || c.op == IpvsadmOp::edit_server ||
                    c.op == IpvsadmOp::delete_server;
  if (needs_service && !c.service) return std::string("no virtual service given");
  if (needs_real && !c.real) return std::string("no real server given");
  switch (c.op) {
    case IpvsadmOp::add_service: {
      if (find_service(cfg, *c.service)) return "Service already exists";
      if (auto why = check_service(c)) return why;
      ServiceConfig s;
      s.protocol = c.service->protocol;
      s.fwmark = c.service->fwmark;
      if (!s.is_fwmark()) s.address = c.service->address;  // fwmark: address unset (config.hpp)
      set_service_options(s, c);
      cfg.services.push_back(std::move(s));
      return std::nullopt;
    }
    case IpvsadmOp::edit_service: {
      ServiceConfig* s = find_service(cfg, *c.service);
      if (!s) return "No such service";
      if (auto why = check_service(c)) return why;
      set_service_options(*s, c);
      return std::nullopt;
    }
    case IpvsadmOp::delete_service: {
      ServiceConfig* s = find_service(cfg, *c.service);
      if (!s) return "No such service";
      cfg.services.erase(cfg.services.begin() + (s - cfg.services.data()));
      return std::nullopt;
    }
    case IpvsadmOp::clear:
      cfg.services.clear();
      return std::nullopt;
    case IpvsadmOp::add_server:
    case IpvsadmOp::edit_server: {
      ServiceConfig* s = find_service(cfg, *c.service);
      if (!s) return "Service not defined";
      if (auto why = check_real(c)) return why;
      auto it = find_real(*s, *c.real);
      if (c.op == IpvsadmOp::add_server) {
        if (it != s->reals.end()) return "Destination already exists";
        RealServerConfig r;
        r.address = *c.real;
        set_real_options(r, c);
        s->reals.push_back(std::move(r));
      } else {
        if (it == s->reals.end()) return "No such destination";
        set_real_options(*it, c);
      }
      return std::nullopt;
    }
    case IpvsadmOp::delete_server: {
      ServiceConfig* s = find_service(cfg, *c.service);
      if (!s) return "Service not defined";
      auto it = find_real(*s, *c.real);
      if (it == s->reals.end()) return "No such destination";
      s->reals.erase(it);
      return std::nullopt;
    }
    case IpvsadmOp::set_timeouts:
      if (c.tcp_timeout) cfg.timeouts.tcp = c.tcp_timeout;
      if (c.tcpfin_timeout) cfg.timeouts.tcpfin = c.tcpfin_timeout;
      if (c.udp_timeout) cfg.timeouts.udp = c.udp_timeout;
      return std::nullopt;
    default:
      return std::string("'") + ipvsadm_op_name(c.op) + "' does not change the table";
  }
}

}  // namespace

std::optional<std::string> apply_ipvsadm_command(Config& cfg, const IpvsadmCommand& cmd) {
  Config copy = cfg;
  if (auto err = apply(copy, cmd)) return err;
  cfg = std::move(copy);
  return std::nullopt;
}

std::optional<std::string> apply_ipvsadm_batch(Config& cfg, const std::vector<IpvsadmCommand>& cmds,
                                               std::size_t* failed) {
  Config copy = cfg;
  for (std::size_t i = 0; i < cmds.size(); ++i) {
    if (auto err = apply(copy, cmds[i])) {
      if (failed) *failed = i;
      return err;
    }
  }
  cfg = std::move(copy);
  return std::nullopt;
}

std::optional<std::string> apply_ipvsadm_commands(Config& cfg, const std::vector<IpvsadmCommand>& cmds) {
  std::size_t failed = 0;
  auto err = apply_ipvsadm_batch(cfg, cmds, &failed);
  if (err && cmds.size() > 1) return to_ipvsadm_args(cmds[failed]) + ": " + *err;
  return err;
}

}  // namespace vsd
