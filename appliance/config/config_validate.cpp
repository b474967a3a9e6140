#include "appliance/config/config_validate.hpp"

#include <set>
#include <utility>

#include "appliance/config/config_keys.hpp"
#include "appliance/config/key_checker.hpp"
#include "appliance/core/scheduler_registry.hpp"
#include "appliance/toml_text.hpp"

namespace vsd {
namespace {

// A service or real server built in code has no table in a file.
template <class E>
bool built_in_code(const E& e) {
  return e.where.line == 0;
}

// Where the values come from: set in code, or written in a file, where the
// reader may have refused some (an error at their place).
class Sources {
 public:
  // `read_errors`: parse_config's reader's, when it is parse_config calling.
  explicit Sources(const std::vector<ConfigError>* read_errors) : reading_(read_errors != nullptr) {
    if (read_errors)
      for (const auto& e : *read_errors) refused_.insert({e.where.line, e.where.column});
  }

  // Whether parse_config is calling: then every real server's check is the
  // one the reader merged (or reported why not).
  bool reading() const { return reading_; }

  // The key is written in the file (whatever its value), or `set` in code.
  template <class E>
  bool written(const E& e, std::string_view key, bool set) const {
    return e.locations.contains(key) || set;
  }
  // The key holds a value to judge: set in code, or written and read. A
  // value the reader refused was reported there, and is left alone here.
  template <class E>
  bool given(const E& e, std::string_view key, bool set_in_code) const {
    if (built_in_code(e)) return set_in_code;
    auto it = e.locations.find(key);
    return it != e.locations.end() && !refused_.contains({it->second.line, it->second.column});
  }

  bool has_vip(const ServiceConfig& s) const { return given(s, "address", !s.is_fwmark()); }

  // The family every address of a service shares: its VIP's, its fwmark
  // members', else its first real server's (a fwmark service without members).
  std::optional<bool> family_v4(const ServiceConfig& s) const {
    if (has_vip(s)) return s.address.addr.is_v4();
    if (!s.members.empty()) return s.members.front().addr.is_v4();
    for (const auto& r : s.reals)
      if (given(r, "address", true)) return r.address.addr.is_v4();
    return std::nullopt;
  }

 private:
  bool reading_;
  std::set<std::pair<int, int>> refused_;
};

std::string first_at(const SourceLocation& first) {
  return first.line ? " (first at line " + std::to_string(first.line) + ")" : "";
}

void check_director(KeyChecker& c, const Config& cfg) {
  const DirectorConfig& d = cfg.director;
  if (d.queues >= 1 && std::uint32_t{d.queue} + d.queues - 1 > 65535)
    c.report({&cfg.locations, "", {}, ""}, "director", "[director] queue + queues - 1 must not exceed 65535");
}

void check_real(KeyChecker& c, const Sources& src, const ServiceConfig& s, std::size_t index,
                std::optional<bool> v4) {
  const RealServerConfig& r = s.reals[index];
  const auto at = place_of(s, r);
  if (r.upper_threshold && r.lower_threshold >= r.upper_threshold)
    c.report(at, "lower_threshold",
             "real.lower_threshold (" + std::to_string(r.lower_threshold) + ") must be below upper_threshold (" +
                 std::to_string(r.upper_threshold) + ")");
  if (!r.upper_threshold && r.lower_threshold)
    c.report(at, "lower_threshold", "real.lower_threshold needs an upper_threshold");
  if (!src.written(r, "address", built_in_code(r))) return;
  // DR and TUN hand the client's packet over with its ports untouched
  // (ipvsadm sets the real server's port to the service's for -g/-i).
  if (r.forward != ForwardMethod::nat && !s.is_fwmark() && r.address.port != 0 &&
      r.address.port != s.address.port)
    c.report(at, "address",
             "real server " + r.address.to_string() + " uses forward = \"" + to_string(r.forward) +
                 "\", which does not rewrite ports: give it the service's port " +
                 std::to_string(s.address.port) + " (or none) and let it listen there");
  // IPVS allows mixed families only for tunnels.
  if (v4 && !r.address.addr.is_unspecified() && r.forward != ForwardMethod::tun && r.address.addr.is_v4() != *v4)
    c.report(at, "address",
             "real server " + r.address.to_string() + " is not of the same address family as the service " +
                 service_label(s) + " (only forward = \"tun\" may mix)");
  for (std::size_t i = 0; i < index; ++i)
    if (s.reals[i].address == r.address)
      c.report(at, "address",
               "real server " + r.address.to_string() + " is listed twice in service " + service_label(s) +
                   first_at(s.reals[i].where));
  // The daemon gives a real server without a check its service's (vsadm -a),
  // as reading the file back would; parse_config's reader did that already.
  // A [service.check] that is wrong in itself is reported as such.
  if (!r.check && s.check_defaults && !src.reading()) {
    bool tables_ok = true;
    for (const auto& t : check_tables_of(s)) tables_ok &= health::check_problems(t).empty();
    if (tables_ok)
      for (auto& e : health::merge_checks(check_tables_of(s), nullptr, false, {}).errors)
        c.report(at, "", std::move(e.reason));
  }
}

// The keys of one [[service]] that go together.
void check_service_keys(KeyChecker& c, const Sources& src, const ServiceConfig& s) {
  const auto at = place_of(s);
  if (!s.quorum && (src.written(s, "quorum_up", !s.quorum_up.empty()) ||
                    src.written(s, "quorum_down", !s.quorum_down.empty()) ||
                    src.written(s, "hysteresis", s.hysteresis != 0)))
    c.report(at, "", "quorum_up, quorum_down and hysteresis need quorum = N (the healthy weight a service needs)");
  // A file names a service by its VIP or its mark; code sets one of them.
  if (!src.written(s, "address", s.address != Endpoint{}) && !src.written(s, "fwmark", s.is_fwmark()))
    c.report(at, "", "[[service]] needs an address, e.g. address = \"192.0.2.10:80\", or a fwmark");
  // parse_config's reader refuses members without a fwmark key (whatever
  // the mark's value) itself.
  if (!src.reading() && !s.is_fwmark() && !s.members.empty())
    c.report(at, "members", "service.members belongs to fwmark services (ipvsadm -f); this service has an address");
  if (s.ops && s.protocol != Protocol::udp)
    c.report(at, "ops", "service.ops (one-packet scheduling) is for UDP services only");
  if (s.ops && s.persistent) c.report(at, "ops", "service.ops and persistent exclude each other (as in IPVS)");
  if (src.has_vip(s) && s.address.port == 0 && !s.persistent)
    c.report(at, "address", "a port-0 service (every port of " + s.address.addr.to_string() +
                                ") needs persistent = SECONDS, as ipvsadm requires -p for port 0");
  for (std::size_t i = 0; i < s.scheduler_flags.size(); ++i) {
    const std::string& flag = s.scheduler_flags[i];
    if (is_known_scheduler_flag(s.scheduler, flag)) continue;
    std::string list = join_names(scheduler_flag_names(s.scheduler));
    c.report(at, "scheduler_flags[" + std::to_string(i) + "]",
             "scheduler flag \"" + flag + "\" is not a flag of scheduler " + s.scheduler +
                 (list.empty() ? std::string("; it takes none") : "; its flags: " + list));
  }
}

// The service's own addresses and masks in its family (its real servers'
// are check_real's).
void check_service_family(KeyChecker& c, const ServiceConfig& s, std::optional<bool> v4) {
  const auto at = place_of(s);
  // parse_config's reader keeps only members of one family.
  for (std::size_t i = 1; i < s.members.size(); ++i)
    if (s.members[i].addr.is_v4() != s.members[0].addr.is_v4())
      c.report(at, "members[" + std::to_string(i) + "]",
               "fwmark member " + s.members[i].to_string() + " is not of the same address family as the others");
  if (const int max = v4.value_or(true) ? 32 : 128; s.persistence_netmask > max)
    c.report(at, "persistence_netmask",
             "service.persistence_netmask must be a prefix length from 1 to " + std::to_string(max) + ", got " +
                 std::to_string(s.persistence_netmask));
  // A DR/TUN sorry server, as a DR/TUN real server, gets the client's
  // packet with its ports untouched.
  if (s.sorry_server && sorry_forward(s) != ForwardMethod::nat && !s.is_fwmark() && s.sorry_server->port != 0 &&
      s.sorry_server->port != s.address.port) {
    const bool own = s.sorry_server_forward.has_value();
    c.report(at, "sorry_server",
             "sorry_server " + s.sorry_server->to_string() + " is forwarded with forward = \"" +
                 to_string(sorry_forward(s)) + "\"" + (own ? " (its sorry_server_forward)" : " (the service's forward)") +
                 ", which does not rewrite ports: give it the service's port " + std::to_string(s.address.port) +
                 " (or none) and let it listen there, or set sorry_server_forward = \"nat\"");
  }
  if (!s.sorry_server && s.sorry_server_forward)
    c.report(at, "sorry_server_forward", "service.sorry_server_forward needs a sorry_server");
  if (s.ha_suspend && s.is_fwmark() && s.members.empty())
    c.report(at, "ha_suspend",
             "service.ha_suspend pauses the checks while this node does not hold the VIP; a fwmark service "
             "without members has no VIP to look for: list them in members");
  if (s.sorry_server && v4 && s.sorry_server->addr.is_v4() != *v4)
    c.report(at, "sorry_server",
             "sorry_server " + s.sorry_server->to_string() + " is not of the service's address family");
}

// The one VIP:port and protocol, or the one mark, no earlier service has.
void check_service_unique(KeyChecker& c, const Sources& src, const std::vector<ServiceConfig>& services,
                          std::size_t index) {
  const ServiceConfig& s = services[index];
  for (std::size_t i = 0; i < index; ++i) {
    const ServiceConfig& o = services[i];
    if (src.has_vip(s) && src.has_vip(o) && o.protocol == s.protocol && o.address == s.address) {
      c.report(place_of(s), "address", "service " + service_label(s) + " is defined twice" + first_at(o.where));
      break;
    }
  }
  for (std::size_t i = 0; i < index; ++i)
    if (s.is_fwmark() && services[i].fwmark == s.fwmark) {
      c.report(place_of(s), "fwmark", "service FWM " + std::to_string(s.fwmark) + " is defined twice" +
                                          first_at(services[i].where));
      break;
    }
}

void check_tunnel_source(KeyChecker& c, const ServiceConfig& s) {
  if (!s.tunnel_source) return;
  for (const auto& r : node_reals(s))
    if (r.forward == ForwardMethod::tun && r.address.addr.is_v4() != s.tunnel_source->is_v4())
      c.report(place_of(s), "tunnel_source",
               "service.tunnel_source " + s.tunnel_source->to_string() + " is not of the family of TUN real server " +
                   r.address.to_string() + ": the outer header needs both addresses in one family");
}

// nft synproxy answers the client's SYN itself and opens the connection to
// the real server afterwards; conntrack then shifts the sequence numbers of
// every packet of the flow, both ways (README "Flood defences").
void check_synproxy(KeyChecker& c, const Config& config, const ServiceConfig& s) {
  const auto at = place_of(s);
  if (!s.synproxy) {
    if (s.synproxy_mss != 0 || s.synproxy_wscale != ServiceConfig{}.synproxy_wscale)
      c.report(at, s.synproxy_mss != 0 ? "synproxy_mss" : "synproxy_wscale",
               "synproxy_mss and synproxy_wscale are the SYN proxy's options: they need synproxy = true");
    return;
  }
  if (s.protocol != Protocol::tcp)
    c.report(at, "synproxy", "service.synproxy is for TCP services: it answers SYNs with cookies");
  if (s.is_fwmark())
    c.report(at, "synproxy",
             "service.synproxy needs a VIP:port service: the proxy's rules match the VIP and port, "
             "a fwmark service's packets are grouped by marks");
  if (!config.director.fast_path)
    c.report(at, "synproxy",
             "service.synproxy needs [director] fast_path = true: after the proxy's handshake the kernel "
             "must carry the flow (conntrack shifts every packet's sequence numbers by the cookie), "
             "which only the fast path's NAT does; the userspace path keeps flows out of conntrack");
  for (const auto& r : node_reals(s))
    if (r.forward != ForwardMethod::nat) {
      c.report(at, "synproxy",
               "service.synproxy works with NAT real servers only, and " +
                   (r.address.port ? r.address.to_string() : r.address.addr.to_string()) +
                   " is forward = \"" + to_string(r.forward) +
                   "\": the director sees one direction of a DR/TUN flow, so the proxy could neither "
                   "complete the handshake with the real server nor shift the sequence numbers of its "
                   "replies, which go to the client directly");
      break;
    }
}

std::vector<ConfigError> validate(const Config& config, const Sources& src) {
  KeyChecker c;
  c.check_table(top_level_table, config, {&config.locations, "", {}, ""});
  check_director(c, config);
  for (std::size_t i = 0; i < config.services.size(); ++i) {
    const ServiceConfig& s = config.services[i];
    const std::optional<bool> v4 = src.family_v4(s);
    check_service_keys(c, src, s);
    check_service_family(c, s, v4);
    check_service_unique(c, src, config.services, i);
    for (std::size_t j = 0; j < s.reals.size(); ++j) check_real(c, src, s, j, v4);
    check_tunnel_source(c, s);
    check_synproxy(c, config, s);
  }
  return std::move(c.errors);
}

}  // namespace

std::vector<ConfigError> validate(const Config& config) { return validate(config, Sources(nullptr)); }

std::vector<ConfigError> validate(const Config& config, const std::vector<ConfigError>& read_errors) {
  return validate(config, Sources(&read_errors));
}

}  // namespace vsd
