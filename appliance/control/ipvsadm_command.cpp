#include "appliance/control/ipvsadm_command.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace vsd {
namespace {

using nlohmann::json;

const char* forward_switch(ForwardMethod f) {
  return f == ForwardMethod::nat ? "-m" : f == ForwardMethod::tun ? "-i" : "-g";
}

constexpr std::pair<IpvsadmOp, const char*> kEditOps[] = {
    {IpvsadmOp::add_service, "add-service"},   {IpvsadmOp::edit_service, "edit-service"},
    {IpvsadmOp::delete_service, "delete-service"}, {IpvsadmOp::clear, "flush"},
    {IpvsadmOp::add_server, "add-server"},     {IpvsadmOp::edit_server, "edit-server"},
    {IpvsadmOp::delete_server, "delete-server"}, {IpvsadmOp::set_timeouts, "set"}};

// A JSON number that T holds: a float outside T converts with undefined
// behaviour, an integer outside it wraps.
template <class T>
bool fits(const json& v) {
  using L = std::numeric_limits<T>;
  if (v.is_number_float()) {
    const double d = v.get<double>(), top = std::ldexp(1.0, L::digits);
    return L::is_signed ? d >= -top && d < top : d > -1.0 && d < top;
  }
  if (v.is_number_unsigned()) return v.get<std::uint64_t>() <= static_cast<std::uint64_t>(L::max());
  if (v.is_number_integer()) {
    const std::int64_t i = v.get<std::int64_t>();
    return L::is_signed ? i >= static_cast<std::int64_t>(L::lowest()) && i <= static_cast<std::int64_t>(L::max())
                        : i >= 0 && static_cast<std::uint64_t>(i) <= static_cast<std::uint64_t>(L::max());
  }
  return true;
}

template <class T>
T get(const json& j, const char* key, T fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>)
    if (!fits<T>(*it)) throw json::type_error::create(302, std::string(key) + " is out of range", nullptr);
  return it->get<T>();
}

}  // namespace

const char* ipvsadm_op_name(IpvsadmOp op) {
  switch (op) {
    case IpvsadmOp::list: return "list";
    case IpvsadmOp::add_service: return "add-service";
    case IpvsadmOp::edit_service: return "edit-service";
    case IpvsadmOp::delete_service: return "delete-service";
    case IpvsadmOp::clear: return "flush";
    case IpvsadmOp::add_server: return "add-server";
    case IpvsadmOp::edit_server: return "edit-server";
    case IpvsadmOp::delete_server: return "delete-server";
    case IpvsadmOp::set_timeouts: return "set";
    case IpvsadmOp::restore: return "restore";
    case IpvsadmOp::save: return "save";
    case IpvsadmOp::zero: return "zero";
    case IpvsadmOp::help: return "help";
    case IpvsadmOp::version: return "version";
    case IpvsadmOp::garp: return "garp";
    case IpvsadmOp::reload: return "reload";
    case IpvsadmOp::save_toml: return "save-toml";
    case IpvsadmOp::start_daemon: return "start-daemon";
    case IpvsadmOp::stop_daemon: return "stop-daemon";
  }
  return "?";
}

unsigned sched_flag_bits(const std::vector<std::string>& names) {
  unsigned bits = 0;
  for (const auto& n : names) {
    if (n == "flag-1" || n == "sh-fallback" || n == "mh-fallback") bits |= 1;
    if (n == "flag-2" || n == "sh-port" || n == "mh-port") bits |= 2;
    if (n == "flag-3") bits |= 4;
  }
  return bits;
}

std::vector<std::string> sched_flag_names(std::string_view scheduler, unsigned bits) {
  std::vector<std::string> out;
  if (scheduler == "sh" || scheduler == "mh") {
    std::string s(scheduler);
    if (bits & 1) out.push_back(s + "-fallback");
    if (bits & 2) out.push_back(s + "-port");
  } else {
    for (unsigned i = 0; i < 3; ++i)
      if (bits & (1u << i)) out.push_back("flag-" + std::to_string(i + 1));
  }
  return out;
}

std::string netmask_to_string(std::uint8_t prefix, bool ipv6) {
  if (ipv6) return std::to_string(prefix);
  std::uint32_t mask = prefix == 0 ? 0 : 0xffffffffu << (32 - std::min<int>(prefix, 32));
  return std::to_string(mask >> 24) + "." + std::to_string((mask >> 16) & 0xff) + "." +
         std::to_string((mask >> 8) & 0xff) + "." + std::to_string(mask & 0xff);
}

std::string to_ipvsadm_args(const IpvsadmService& s) {
  if (s.is_fwmark()) return "-f " + std::to_string(s.fwmark) + (s.ipv6 ? " -6" : "");
  return std::string(s.protocol == Protocol::tcp ? "-t " : "-u ") + s.address.to_string();
}

std::string to_ipvsadm_args(const IpvsadmCommand& c) {
  std::string svc = c.service ? " " + to_ipvsadm_args(*c.service) : "";
  std::string real = c.real ? " -r " + c.real->to_string() : "";
  switch (c.op) {
    case IpvsadmOp::add_service:
    case IpvsadmOp::edit_service: {
      std::string out = (c.op == IpvsadmOp::add_service ? "-A" : "-E") + svc + " -s " + c.scheduler;
      if (c.persistent) out += " -p " + std::to_string(c.persistent);
      if (c.netmask)
        out += " -M " + netmask_to_string(c.netmask, c.service && c.service->is_ipv6());
      if (c.ops) out += " -o";
      if (!c.scheduler_flags.empty()) {
        out += " -b ";
        for (std::size_t i = 0; i < c.scheduler_flags.size(); ++i)
          out += (i ? "," : "") + c.scheduler_flags[i];
      }
      return out;
    }
    case IpvsadmOp::delete_service: return "-D" + svc;
    case IpvsadmOp::clear: return "-C";
    case IpvsadmOp::add_server:
    case IpvsadmOp::edit_server: {
      std::string out = (c.op == IpvsadmOp::add_server ? "-a" : "-e") + svc + real + " " +
                        forward_switch(c.forward) + " -w " + std::to_string(c.weight);
      if (c.upper_threshold) out += " -x " + std::to_string(c.upper_threshold);
      if (c.lower_threshold) out += " -y " + std::to_string(c.lower_threshold);
      return out;
    }
    case IpvsadmOp::delete_server: return "-d" + svc + real;
    case IpvsadmOp::set_timeouts:
      return "--set " + std::to_string(c.tcp_timeout) + " " + std::to_string(c.tcpfin_timeout) +
             " " + std::to_string(c.udp_timeout);
    case IpvsadmOp::zero: return "-Z" + svc;
    case IpvsadmOp::save: return c.list.numeric ? "-S -n" : "-S";
    case IpvsadmOp::list: {
      std::string out = "-L" + svc;
      const auto& l = c.list;
      if (l.numeric) out += " -n";
      if (l.connections) out += " -c";
      if (l.timeout) out += " --timeout";
      if (l.daemon) out += " --daemon";
      if (l.stats) out += " --stats";
      if (l.rate) out += " --rate";
      if (l.thresholds) out += " --thresholds";
      if (l.persistent_conn) out += " --persistent-conn";
      if (l.exact) out += " --exact";
      if (l.nosort) out += " --nosort";
      return out;
    }
    case IpvsadmOp::restore: return "-R";
    case IpvsadmOp::help: return "-h";
    case IpvsadmOp::version: return "--version";
    case IpvsadmOp::garp: return "--garp";
    case IpvsadmOp::reload: return "--reload";
    case IpvsadmOp::save_toml: return "--save-toml";
    case IpvsadmOp::start_daemon:
    case IpvsadmOp::stop_daemon: {
      std::string out = std::string(c.op == IpvsadmOp::start_daemon ? "--start-daemon " : "--stop-daemon ") +
                        c.daemon_state;
      if (!c.mcast_interface.empty()) out += " --mcast-interface " + c.mcast_interface;
      if (c.syncid) out += " --syncid " + std::to_string(*c.syncid);
      return out;
    }
  }
  return "";
}

json ipvsadm_service_json(const IpvsadmService& s) {
  if (s.is_fwmark()) return {{"fwmark", s.fwmark}, {"ipv6", s.ipv6}};
  return {{"protocol", to_string(s.protocol)}, {"address", s.address.to_string()}};
}

json ipvsadm_command_json(const IpvsadmCommand& c) {
  json j = {{"op", ipvsadm_op_name(c.op)}};
  if (c.service) j["service"] = ipvsadm_service_json(*c.service);
  switch (c.op) {
    case IpvsadmOp::add_service:
    case IpvsadmOp::edit_service:
      j["scheduler"] = c.scheduler;
      j["scheduler_flags"] = c.scheduler_flags;
      j["persistent"] = c.persistent;
      j["netmask"] = c.netmask;
      j["ops"] = c.ops;
      break;
    case IpvsadmOp::add_server:
    case IpvsadmOp::edit_server:
      j["forward"] = to_string(c.forward);
      j["weight"] = c.weight;
      j["upper_threshold"] = c.upper_threshold;
      j["lower_threshold"] = c.lower_threshold;
      [[fallthrough]];
    case IpvsadmOp::delete_server:
      if (c.real) j["real"] = c.real->to_string();
      break;
    case IpvsadmOp::set_timeouts:
      j["timeouts"] = {{"tcp", c.tcp_timeout}, {"tcpfin", c.tcpfin_timeout}, {"udp", c.udp_timeout}};
      break;
    default: break;
  }
  return j;
}

std::optional<IpvsadmService> ipvsadm_service_from_json(const json& j, std::string* error) {
  auto bad = [&](std::string why) -> std::optional<IpvsadmService> {
    if (error) *error = "bad service " + j.dump() + ": " + why;
    return std::nullopt;
  };
  try {
    if (!j.is_object()) return bad("not an object");
    IpvsadmService s;
    if (j.contains("fwmark")) {
      s.fwmark = get<std::uint32_t>(j, "fwmark", 0);
      if (s.fwmark == 0) return bad("fwmark must be greater than zero");
      s.ipv6 = get<bool>(j, "ipv6", false);
      return s;
    }
    std::string proto = get<std::string>(j, "protocol", "tcp");
    if (proto != "tcp" && proto != "udp") return bad("protocol must be tcp or udp");
    s.protocol = proto == "tcp" ? Protocol::tcp : Protocol::udp;
    std::string why;
    auto e = Endpoint::parse(j.at("address").get<std::string>(), &why);
    if (!e) return bad(why);
    s.address = *e;
    return s;
  } catch (const json::exception& e) {
    return bad(e.what());
  }
}

std::optional<IpvsadmCommand> ipvsadm_command_from_json(const json& j, std::string* error) {
  auto bad = [&](std::string why) -> std::optional<IpvsadmCommand> {
    if (error) *error = "bad command " + j.dump() + ": " + why;
    return std::nullopt;
  };
  try {
    if (!j.is_object()) return bad("not an object");
    IpvsadmCommand c;
    std::string op = j.at("op").get<std::string>();
    auto known = std::find_if(std::begin(kEditOps), std::end(kEditOps),
                              [&](const auto& p) { return op == p.second; });
    if (known == std::end(kEditOps)) return bad("op must be a table-changing ipvsadm command");
    c.op = known->first;
    if (j.contains("service") && !j.at("service").is_null()) {
      std::string why;
      c.service = ipvsadm_service_from_json(j.at("service"), &why);
      if (!c.service) return bad(why);
    }
    c.scheduler = get<std::string>(j, "scheduler", "wlc");
    c.scheduler_flags = get<std::vector<std::string>>(j, "scheduler_flags", {});
    c.persistent = get<std::uint32_t>(j, "persistent", 0);
    c.netmask = get<std::uint8_t>(j, "netmask", 0);
    c.ops = get<bool>(j, "ops", false);
    if (j.contains("real") && !j.at("real").is_null()) {
      std::string why;
      c.real = Endpoint::parse(j.at("real").get<std::string>(), &why);
      if (!c.real) return bad("real: " + why);
    }
    std::string fwd = get<std::string>(j, "forward", "dr");
    if (fwd == "nat") c.forward = ForwardMethod::nat;
    else if (fwd == "tun") c.forward = ForwardMethod::tun;
    else if (fwd == "dr") c.forward = ForwardMethod::dr;
    else return bad("forward must be nat, tun or dr");
    c.weight = get<std::uint32_t>(j, "weight", 1);
    if (c.weight > 65535) return bad("weight must be from 0 to 65535");
    c.upper_threshold = get<std::uint32_t>(j, "upper_threshold", 0);
    c.lower_threshold = get<std::uint32_t>(j, "lower_threshold", 0);
    if (j.contains("timeouts")) {
      const json& t = j.at("timeouts");
      c.tcp_timeout = get<std::uint32_t>(t, "tcp", 0);
      c.tcpfin_timeout = get<std::uint32_t>(t, "tcpfin", 0);
      c.udp_timeout = get<std::uint32_t>(t, "udp", 0);
    }
    bool needs_service = c.op != IpvsadmOp::clear && c.op != IpvsadmOp::set_timeouts;
    if (needs_service && !c.service) return bad("needs a service");
    bool needs_real = c.op == IpvsadmOp::add_server || c.op == IpvsadmOp::edit_server ||
                      c.op == IpvsadmOp::delete_server;
    if (needs_real && !c.real) return bad("needs a real server");
    return c;
  } catch (const json::exception& e) {
    return bad(e.what());
  }
}

}  // namespace vsd
