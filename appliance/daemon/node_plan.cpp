#include "appliance/daemon/node_plan.hpp"

#include <algorithm>

#include "arp/arp_hiding.hpp"

namespace vsd {

const char* to_string(Role r) { return r == Role::director ? "director" : "realserver"; }

std::vector<IpAddress> service_vips(const ServiceConfig& s) {
  std::vector<IpAddress> out;
  if (!s.is_fwmark()) return {s.address.addr};
  for (const auto& m : s.members)
    if (std::find(out.begin(), out.end(), m.addr) == out.end()) out.push_back(m.addr);
  return out;
}

std::vector<IpAddress> config_vips(const Config& c) {
  std::vector<IpAddress> out;
  for (const auto& s : c.services)
    for (const auto& v : service_vips(s))
      if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
  return out;
}

namespace {

std::string line_of(const SourceLocation& w) { return w.file + ":" + std::to_string(w.line); }

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

void add_unique(std::vector<std::string>& v, const std::string& s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

// 127.0.0.0/8 and ::1: every node has them, so they identify none.
bool is_loopback(const IpAddress& a) {
  if (a.is_v4()) return a.v4_bytes()[0] == 127;
  IpAddress one;
  one.bytes[15] = 1;
  return a == one;
}

bool is_vip(const Config& c, const IpAddress& a) {
  for (const auto& s : c.services) {
    auto v = service_vips(s);
    if (std::find(v.begin(), v.end(), a) != v.end()) return true;
  }
  return false;
}

bool hides_vip(ForwardMethod f) { return f == ForwardMethod::dr || f == ForwardMethod::tun; }

const NodeAddress* held(const NodeFacts& f, const IpAddress& a) {
  for (const auto& n : f.addresses)
    if (n.addr == a) return &n;
  return nullptr;
}

// Where a director or an ARP-answering node holds a VIP: anywhere but lo
// (DR/TUN real servers hold it on lo, hidden).
const NodeAddress* held_off_lo(const NodeFacts& f, const IpAddress& a) {
  for (const auto& n : f.addresses)
    if (n.addr == a && n.ifname != "lo") return &n;
  return nullptr;
}

RouteFact route_to(const NodeFacts& f, const IpAddress& a) { return f.route ? f.route(a) : RouteFact{}; }

// A real server of the file whose address this node holds.
struct RealHere {
  const ServiceConfig* service;
  RealServerConfig real;  // a copy: the sorry server is made up (node_reals)
  const NodeAddress* at;
};

// Loopback addresses and addresses that are also VIPs do not make a node a
// real server: every node has the former, and a director holds the latter.
std::vector<RealHere> reals_here(const Config& c, const NodeFacts& f) {
  std::vector<RealHere> out;
  for (const auto& s : c.services)
    for (const auto& r : node_reals(s)) {  // a DR/TUN sorry server hides the VIP too
      if (is_loopback(r.address.addr) || is_vip(c, r.address.addr)) continue;
      if (const NodeAddress* at = held(f, r.address.addr)) out.push_back({&s, r, at});
    }
  return out;
}

std::string file_of(const Config& c) {
  return c.services.empty() ? std::string("the file") : c.services.front().where.file;
}

// "203.0.113.11 (eth0) is real server 203.0.113.11:8000 of TCP 192.0.2.10:80
// at t.toml:9", once per node address.
std::string describe(const std::vector<RealHere>& here) {
  std::vector<std::string> parts;
  std::vector<IpAddress> seen;
  for (const auto& h : here) {
    if (std::find(seen.begin(), seen.end(), h.at->addr) != seen.end()) continue;
    seen.push_back(h.at->addr);
    parts.push_back(h.at->addr.to_string() + " (" + h.at->ifname + ") is real server " +
                    real_label(*h.service, h.real) + " of " + service_label(*h.service) + " at " +
                    line_of(h.real.where));
  }
  return join(parts);
}

std::string node_addresses(const NodeFacts& f) {
  std::vector<std::string> out;
  for (const auto& a : f.addresses)
    if (!is_loopback(a.addr)) add_unique(out, a.addr.to_string());
  return out.empty() ? std::string("none but loopback") : join(out);
}

std::string real_addresses(const Config& c) {
  constexpr std::size_t kShown = 10;  // enough to recognise the cluster
  std::vector<std::string> all;
  for (const auto& s : c.services)
    for (const auto& r : s.reals) add_unique(all, r.address.addr.to_string());
  if (all.empty()) return "none";
  std::string more = all.size() > kShown ? " and " + std::to_string(all.size() - kShown) + " more" : "";
  all.resize(std::min(all.size(), kShown));
  return join(all) + more;
}

}  // namespace

RoleDecision decide_role(const Config& c, const NodeFacts& f, std::optional<Role> requested) {
  const auto here = reals_here(c, f);
  std::vector<std::string> vips;  // VIPs held where a director holds them
  for (const auto& a : f.addresses)
    if (a.ifname != "lo" && is_vip(c, a.addr)) add_unique(vips, a.addr.to_string() + " on " + a.ifname);

  if (requested == Role::director) {
    std::string note = here.empty() ? "" : " (this node is also listed as a real server: " + describe(here) + ")";
    return {Role::director, "--role director" + note, true};
  }
  if (requested == Role::realserver) {
    if (here.empty())
      return {Role::realserver,
              "--role realserver, but none of this node's addresses (" + node_addresses(f) +
                  ") is a real server address in " + file_of(c) + " (" + real_addresses(c) +
                  "): add this node as a [[service.real]], or run it with --role director",
              false};
    return {Role::realserver, "--role realserver: " + describe(here), true};
  }
  if (c.ha.enabled())
    for (std::size_t i = 0; i < c.ha.directors.size(); ++i)
      for (const auto& a : f.addresses)
        if (a.addr == c.ha.directors[i])
          return {Role::director,
                  "director: it is " + a.addr.to_string() + " of [ha] directors (" +
                      (i == 0 ? "the preferred master" : "the preferred backup") + ")",
                  true};
  if (!here.empty() && !vips.empty())
    return {Role::director,
            "cannot tell this node's role: " + describe(here) + ", and it holds VIP " + join(vips) +
                " as a director does; start it with --role director or --role realserver",
            false};
  if (!here.empty()) return {Role::realserver, "realserver: " + describe(here), true};
  if (!vips.empty()) return {Role::director, "director: it holds VIP " + join(vips), true};
  return {Role::director,
          "director: none of this node's addresses (" + node_addresses(f) +
              ") is a real server address in " + file_of(c),
          true};
}

std::vector<IpAddress> realserver_vips(const Config& c, const NodeFacts& f) {
  std::vector<IpAddress> out;
  for (const auto& h : reals_here(c, f)) {
    if (!hides_vip(h.real.forward)) continue;  // NAT real servers never see the VIP
    for (const auto& v : service_vips(*h.service))
      if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
  }
  return out;
}

std::vector<IpAddress> realserver_tunnel_addresses(const Config& c, const NodeFacts& f) {
  std::vector<IpAddress> out;
  for (const auto& h : reals_here(c, f))
    if (h.real.forward == ForwardMethod::tun &&
        std::find(out.begin(), out.end(), h.at->addr) == out.end())
      out.push_back(h.at->addr);
  return out;
}

bool realserver_needs_decap(const Config& c, const NodeFacts& f) {
  return !realserver_tunnel_addresses(c, f).empty();
}

namespace {

std::string trim(std::string s) {
  const char* space = " \t\r\n";
  s.erase(0, s.find_first_not_of(space) == std::string::npos ? s.size() : s.find_first_not_of(space));
  s.erase(s.find_last_not_of(space) + 1);
  return s;
}

// net.ipv4.conf.IF.NAME in both spellings (sysctl(8) writes a '.' inside an
// interface name as '/', /proc/sys keeps it).
std::pair<std::string, std::string> conf_key(const std::string& ifname, const std::string& name) {
  std::string key_name = ifname;
  std::replace(key_name.begin(), key_name.end(), '.', '/');
  return {"net.ipv4.conf." + key_name + "." + name, "net/ipv4/conf/" + ifname + "/" + name};
}

// The planned changes, each key once, only those that are not set already.
class Plan {
 public:
  explicit Plan(const NodeFacts& f) : facts_(f) {}

  std::optional<std::string> current(const std::string& key) const {
    if (!facts_.sysctl) return std::nullopt;
    auto v = facts_.sysctl(key);
    if (v) return trim(*v);
    return std::nullopt;
  }

  void want(const std::string& key, const std::string& proc_path, const std::string& value,
            const std::string& why) {
    for (const auto& c : out_)
      if (c.key == key) return;
    auto now = current(key);
    if (now && *now == value) return;
    out_.push_back({key, proc_path, value, why, now.value_or("")});
  }
  void want(const std::string& key, const std::string& value, const std::string& why) {
    std::string path = key;
    std::replace(path.begin(), path.end(), '.', '/');
    want(key, path, value, why);
  }

  // For a setting of a module that may not be loaded yet: planned once it
  // exists (the daemon plans again after loading its rules).
  void want_if_present(const std::string& key, const std::string& value, const std::string& why) {
    if (current(key)) want(key, value, why);
  }

  std::vector<SysctlChange> take() { return std::move(out_); }

 private:
  const NodeFacts& facts_;
  std::vector<SysctlChange> out_;
};

void plan_director(const Config& c, const NodeFacts& f, Plan& plan) {
  bool v4_nat = false, v6_nat = false;
  std::vector<std::string> redirect_ifs;  // interfaces toward IPv4 DR/TUN real servers
  for (const auto& s : c.services) {
    for (const auto& r : node_reals(s)) {  // the sorry server, by its method, too
      if (r.forward == ForwardMethod::nat) {
        (r.address.addr.is_v4() ? v4_nat : v6_nat) = true;
        continue;
      }
      // send_redirects is an IPv4 setting; IPv6 has no such switch.
      if (!r.address.addr.is_v4()) continue;
      RouteFact rt = route_to(f, r.address.addr);
      if (rt.found && !rt.local && arp::valid_interface_name(rt.ifname)) add_unique(redirect_ifs, rt.ifname);
    }
  }
  if (v4_nat) plan.want("net.ipv4.ip_forward", "1", "NAT forwards IPv4 between clients and real servers");
  if (v6_nat)
    plan.want("net.ipv6.conf.all.forwarding", "1", "NAT forwards IPv6 between clients and real servers");
  if (c.director.fast_path && (v4_nat || v6_nat))
    plan.want_if_present("net.netfilter.nf_conntrack_events", "1",
                         "fast path: conntrack reports every NAT flow's state to vsd (ActiveConn, "
                         "the end of a flow), also flows that began while vsd was not listening");
  if (c.ha.enabled() && (v4_nat || v6_nat))
    plan.want_if_present("net.netfilter.nf_conntrack_tcp_be_liberal", "1",
                         "[ha] NAT: a flow taken over from the peer director (conntrackd) comes "
                         "with the peer's TCP window; without liberal tracking its next packets "
                         "are invalid, go un-NATed to this node and are reset");
  if (c.director.fast_path &&
      std::any_of(c.services.begin(), c.services.end(), [](const ServiceConfig& s) { return s.synproxy; }))
    plan.want_if_present("net.netfilter.nf_conntrack_tcp_loose", "0",
                         "SYN proxy: the client's ACK with the cookie must be INVALID to conntrack (no "
                         "pickup of connections it did not see start) so that nft synproxy checks it");
  if (redirect_ifs.empty()) return;
  // The kernel sends a redirect when "all" or the interface says so, so all
  // of them go to 0; "default" covers interfaces created later.
  const std::string why =
      "DR/TUN: an ICMP redirect would tell the client to bypass the director and send to the real "
      "server directly";
  for (const std::string name : {"all", "default"}) {
    auto [key, path] = conf_key(name, "send_redirects");
    plan.want(key, path, "0", why);
  }
  for (const auto& name : redirect_ifs) {
    auto [key, path] = conf_key(name, "send_redirects");
    plan.want(key, path, "0", why + " (real servers reached by " + name + ")");
  }
}

void plan_realserver(const Config& c, const NodeFacts& f, Plan& plan) {
  // The interfaces ARP requests and tunnelled packets come in by; names the
  // kernel would refuse cannot come from it and are left out.
  std::vector<std::string> ifs;
  for (const auto& a : f.addresses)
    if (a.ifname != "lo" && arp::valid_interface_name(a.ifname)) add_unique(ifs, a.ifname);

  bool v4_vip = false, v4_tun = false;
  for (const auto& h : reals_here(c, f)) {
    if (!hides_vip(h.real.forward)) continue;
    for (const auto& v : service_vips(*h.service)) {
      if (!v.is_v4()) continue;  // IPv6: no ARP, no rp_filter
      v4_vip = true;
      if (h.real.forward == ForwardMethod::tun) v4_tun = true;
    }
  }
  if (v4_vip) {
    std::vector<arp::SysctlSetting> settings;
    arp::arp_hiding_sysctls(ifs, &settings, nullptr);  // names checked above: cannot fail
    for (const auto& s : settings) {
      bool ignore = s.key.ends_with(".arp_ignore");
      plan.want(s.key, s.proc_path, s.value,
                ignore ? "DR/TUN: answer ARP only for addresses of the interface asked, never for "
                         "the VIPs on lo (the director answers for them)"
                       : "DR/TUN: never use a VIP on lo as the sender address of this node's ARP");
    }
  }
  if (!v4_tun) return;
  // rp_filter in effect on an interface is max(all, interface): 1 (strict)
  // anywhere is lifted by all=2 (loose); 0 everywhere filters nothing. The
  // kernel's decapsulation devices (decap_devices.hpp), made later, take
  // `default`'s value, and their inner packets meet it.
  auto all = plan.current("net.ipv4.conf.all.rp_filter");
  bool strict = !all || *all == "1";
  if (all && *all != "2") {
    for (const auto& name : ifs)
      if (plan.current(conf_key(name, "rp_filter").first) == "1") strict = true;
    if (plan.current("net.ipv4.conf.default.rp_filter") == "1") strict = true;
  }
  if (strict)
    plan.want("net.ipv4.conf.all.rp_filter", "2",
              "TUN: decapsulated packets carry the client's source address, which strict "
              "reverse-path filtering (rp_filter 1 on all or an interface; the kernel uses the "
              "larger) drops unless the client is routed back by the interface they came in on; "
              "2 = loose");
}

}  // namespace

std::vector<SysctlChange> plan_sysctls(const Config& c, Role role, const NodeFacts& f) {
  Plan plan(f);
  if (role == Role::director)
    plan_director(c, f, plan);
  else
    plan_realserver(c, f, plan);
  return plan.take();
}

namespace {

std::string forward_text(ForwardMethod m) { return std::string("forward = \"") + to_string(m) + "\""; }

void check_director(const Config& c, const NodeFacts& f, std::vector<Finding>& out) {
  for (const auto& s : c.services) {
    const bool hidden = std::any_of(s.reals.begin(), s.reals.end(),
                                    [](const RealServerConfig& r) { return hides_vip(r.forward); });
    if (hidden)
      for (const auto& vip : service_vips(s)) {
        // In a pair keepalived holds the VIPs on the master only.
        if (held(f, vip) || c.ha.enabled()) continue;
        RouteFact rt = route_to(f, vip);
        std::string dev = rt.found && !rt.via_gateway() && !rt.ifname.empty() ? rt.ifname : "IF";
        out.push_back({Finding::warning, s.where,
                       "VIP " + vip.to_string() + " of service " + service_label(s) +
                           " is not an address of this director: its DR/TUN real servers hide "
                           "it, so the clients' ARP (IPv6: neighbour solicitation) for it must "
                           "reach the director; add it: ip addr add " + vip.to_string() +
                           (vip.is_v4() ? "/32" : "/128") + " dev " + dev});
      }
    for (const auto& r : node_reals(s)) {
      const std::string who = "real server " + real_label(s, r) + " (" + forward_text(r.forward) +
                              ") of service " + service_label(s);
      RouteFact rt = route_to(f, r.address.addr);
      if (!rt.found) {
        const char* what = r.forward == ForwardMethod::dr
                               ? "DR needs the real server on the director's L2 segment: give "
                                 "the director an address on its subnet"
                           : r.forward == ForwardMethod::tun
                               ? "the tunnelled packets cannot leave: add a route to it"
                               : "the packets for it cannot leave: add a route to it";
        out.push_back({Finding::error, r.where, who + " has no route from this director; " + what});
        continue;
      }
      if (!rt.via_gateway()) continue;
      const std::string via = "is reached via gateway " + rt.gateway.to_string() +
                              (rt.ifname.empty() ? "" : " on " + rt.ifname);
      if (r.forward == ForwardMethod::dr)
        out.push_back({Finding::error, r.where,
                       who + " " + via + ", not on a directly connected subnet: DR only rewrites "
                       "the MAC address, so it needs the real server on the director's L2 "
                       "segment; put them on one subnet or use forward = \"tun\""});
      else if (r.forward == ForwardMethod::nat)
        out.push_back({Finding::warning, r.where,
                       who + " " + via + ": its replies must come back through this director to "
                       "be rewritten; make sure its route to the clients leads here"});
    }
  }
}

void check_realserver(const Config& c, const NodeFacts& f, std::vector<Finding>& out) {
  for (const auto& h : reals_here(c, f)) {
    const ServiceConfig& s = *h.service;
    const std::string who = "this node is real server " + real_label(s, h.real) + " (" +
                            forward_text(h.real.forward) + ") of service " + service_label(s);
    for (const auto& vip : service_vips(s)) {
      const std::string v = "VIP " + vip.to_string();
      if (hides_vip(h.real.forward)) {
        if (const NodeAddress* a = held_off_lo(f, vip))
          out.push_back({Finding::error, h.real.where,
                         who + ", and it holds " + v + " on " + a->ifname +
                             ": it would answer ARP (IPv6: neighbour solicitation) for it in "
                             "the director's place; remove it from " + a->ifname +
                             " (a DR/TUN real server holds it on lo, vsd adds it there)"});
        continue;
      }
      // NAT: the replies leave with the RIP as source and must pass the
      // director. Its address is not in the file; the VIP's route is what
      // this node knows of the way toward it.
      RouteFact rt = route_to(f, vip);
      if (!rt.found)
        out.push_back({Finding::warning, h.real.where,
                       who + ", and it has no route to " + v +
                           ": replies of NAT must go back through the director; set the default "
                           "route via the director"});
      else if (rt.local)
        out.push_back({Finding::warning, h.real.where,
                       who + ", and " + v + " is an address of this node: a NAT real server "
                       "gets the packets at its own address and must not hold the VIP (off lo "
                       "it answers ARP for it in the director's place); remove it"});
      else if (!rt.via_gateway())
        out.push_back({Finding::warning, h.real.where,
                       who + ", and " + v + " is on its directly connected subnet" +
                           (rt.ifname.empty() ? "" : " (" + rt.ifname + ")") +
                           ": replies of NAT must go back through the director, but those to "
                           "clients on that subnet go to them directly; set the default route "
                           "via the director and keep clients off the real servers' subnet"});
    }
  }
}

}  // namespace

std::vector<Finding> check_cluster(const Config& c, Role role, const NodeFacts& f) {
  std::vector<Finding> out;
  if (role == Role::director)
    check_director(c, f, out);
  else
    check_realserver(c, f, out);
  return out;
}

std::string to_string(const Finding& f) {
  return f.where.file + ":" + std::to_string(f.where.line) + ":" + std::to_string(f.where.column) +
         ": " + (f.severity == Finding::error ? "error" : "warning") + ": " + f.message;
}

}  // namespace vsd
