#include "appliance/daemon/tunnel_devices.hpp"

#include <cstdio>
#include <utility>

#include "appliance/daemon/snapshot_spec.hpp"

namespace vsd {

std::string tunnel_device_name(const IpAddress& rip) {
  std::uint32_t h = 2166136261u;  // FNV-1a, 32 bits
  for (std::size_t i = 0; i < rip.size(); ++i) {
    h ^= rip.data()[i];
    h *= 16777619u;
  }
  char name[16];
  std::snprintf(name, sizeof name, "%s%08x", kTunnelPrefix, h);
  return name;
}

bool is_tunnel_device_name(const std::string& name) {
  const std::string prefix = kTunnelPrefix;
  if (name.size() != prefix.size() + 8 || name.compare(0, prefix.size(), prefix) != 0) return false;
  for (std::size_t i = prefix.size(); i < name.size(); ++i) {
    const char c = name[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

namespace {

// A device vsd made: the name pattern and one of the two kinds it makes.
bool is_ours(const rtnl::LinkInfo& link) {
  return is_tunnel_device_name(link.ifname) && (link.kind == "ipip" || link.kind == "ip6tnl");
}

std::string describe(const rtnl::TunnelParams& p) {
  return p.name + " (" + rtnl::to_string(p.kind) + " from " + p.local.to_string() + ")";
}

}  // namespace

TunnelWants wanted_tunnels(const Config& config, const FastPathPlan& plan,
                           const rtnl::TunnelSupport& kernel,
                           const std::map<IpAddress, IpAddress>& route_sources) {
  TunnelWants out;
  std::map<IpAddress, std::set<IpAddress>> sources;  // every local address asked for, per real server
  for (const auto& s : config.services) {
    if (plan.path(s) != nfq::Path::direct_kernel) continue;
    const bool inner_v6 = service_is_v6(s);
    for (const auto& r : node_reals(s)) {  // a TUN sorry server too
      if (r.forward != ForwardMethod::tun) continue;
      const IpAddress& rip = r.address.addr;
      const rtnl::TunnelKind kind = rtnl::tunnel_kind_for(rip);
      if (!kernel.has(kind)) continue;  // tun_path_line says why, once
      if (!rtnl::tunnel_carries(kind, inner_v6)) {
        out.notes.push_back("TUN real server " + rip.to_string() + " of IPv6 service " + service_label(s) +
                            ": encapsulated by vsd (IPv6 inside IPv4 would need a sit device, which "
                            "vsd does not make)");
        continue;
      }
      IpAddress local;
      if (s.tunnel_source) {
        local = *s.tunnel_source;
      } else if (auto it = route_sources.find(rip); it != route_sources.end()) {
        local = it->second;
      }
      // No route yet (the egress watch reports it and asks again), or a
      // tunnel_source of the other family (vsd --check refuses it).
      if (local.is_unspecified() || local.is_v4() != rip.is_v4()) continue;
      sources[rip].insert(local);
    }
  }
  for (const auto& [rip, locals] : sources) {
    if (locals.size() == 1) {
      out.tunnels.emplace(rip, *locals.begin());
      continue;
    }
    std::string list;
    for (const auto& l : locals) list += (list.empty() ? "" : ", ") + l.to_string();
    out.notes.push_back("TUN real server " + rip.to_string() + ": its services send from " + list +
                        " and one kernel tunnel has one source: encapsulated by vsd (give those "
                        "services the same tunnel_source)");
  }
  return out;
}

std::string tun_path_line(const rtnl::TunnelSupport& kernel, std::size_t devices, bool direct_kernel) {
  if (!direct_kernel)
    return "TUN: encapsulated by vsd (DR/TUN services are not on the kernel's flow table)";
  if (!kernel.ipip && !kernel.ip6tnl)
    return "TUN: encapsulated by vsd (this kernel has no ipip: " + kernel.ipip_why + ")";
  std::string line = "TUN: kernel ";
  line += kernel.ipip && kernel.ip6tnl ? "ipip/ip6tnl" : kernel.ipip ? "ipip" : "ip6tnl";
  line += " tunnels (" + std::to_string(devices) + " devices)";
  if (!kernel.ipip) line += "; IPv4 real servers encapsulated by vsd (this kernel has no ipip: " + kernel.ipip_why + ")";
  if (!kernel.ip6tnl)
    line += "; IPv6 real servers encapsulated by vsd (this kernel has no ip6tnl: " + kernel.ip6tnl_why + ")";
  return line;
}

TunnelDevices::TunnelDevices(std::unique_ptr<TunnelKernel> kernel, Log log)
    : kernel_(std::move(kernel)), log_(std::move(log)) {}

void TunnelDevices::problem(const IpAddress& rip, const std::string& text) {
  auto& last = errors_[rip];
  if (last == text) return;
  last = text;
  log_(true, text);
}

void TunnelDevices::log_notes(const std::vector<std::string>& notes) {
  std::set<std::string> now(notes.begin(), notes.end());
  for (const auto& n : now)
    if (!notes_.count(n)) log_(false, n);
  notes_ = std::move(now);
}

TunnelDevices::Synced TunnelDevices::current() const {
  Synced out;
  for (const auto& [rip, d] : devices_) out.devices.emplace(rip, d.params.name);
  return out;
}

TunnelDevices::Synced TunnelDevices::sync(const TunnelWants& wanted) {
  log_notes(wanted.notes);
  // Nothing wanted, nothing in service, the leftovers already cleared:
  // no kernel call (the egress watch calls this every 2 s).
  if (wanted.tunnels.empty() && devices_.empty() && listed_) return {};
  std::vector<rtnl::LinkInfo> links;
  std::string error;
  if (!kernel_->list(&links, &error)) {
    if (error != list_error_) log_(true, "TUN: cannot list the tunnel devices (" + error + "); kept as they are");
    list_error_ = error;
    return current();
  }
  list_error_.clear();
  listed_ = true;
  std::map<std::string, const rtnl::LinkInfo*> by_name;
  for (const auto& l : links) by_name.emplace(l.ifname, &l);

  Synced out;
  std::map<std::string, IpAddress> taken;  // device name -> the real server it serves now
  std::map<IpAddress, Device> next;
  for (const auto& [rip, local] : wanted.tunnels) {
    rtnl::TunnelParams p;
    p.name = tunnel_device_name(rip);
    p.kind = rtnl::tunnel_kind_for(rip);
    p.local = local;
    p.remote = rip;
    const std::string who = "TUN real server " + rip.to_string();
    if (auto t = taken.find(p.name); t != taken.end()) {
      problem(rip, who + ": its device name " + p.name + " is also " + t->second.to_string() +
                       "'s (a hash collision); vsd encapsulates its packets");
      continue;
    }
    taken.emplace(p.name, rip);
    auto found = by_name.find(p.name);
    const rtnl::LinkInfo* link = found == by_name.end() ? nullptr : found->second;
    if (link && !is_ours(*link)) {
      problem(rip, who + ": interface " + p.name + " exists and is " +
                       (link->kind.empty() ? std::string("not a tunnel") : "a " + link->kind + " device") +
                       ", not vsd's; vsd encapsulates its packets (rename or delete it)");
      continue;
    }
    bool ok = true;
    int ifindex = 0;
    if (link && link->kind != rtnl::to_string(p.kind)) {
      // Ours but of the other kind (the real server's address changed
      // family under the same hash): made again.
      ok = kernel_->remove(link->ifindex, link->ifname, &error);
      link = nullptr;
      out.changed = true;
    }
    std::string done;
    if (!ok) {
      // error says why
    } else if (!link) {
      ok = kernel_->create(p, &ifindex, &error);
      done = who + ": kernel tunnel " + describe(p) + " created";
      out.changed = true;
    } else if (link->tunnel_remote != rip || link->tunnel_local != local) {
      ifindex = link->ifindex;
      ok = kernel_->change(ifindex, p, &error);
      done = who + ": kernel tunnel " + describe(p) + " (was from " + link->tunnel_local.to_string() + ")";
    } else {
      ifindex = link->ifindex;
      if (!link->up()) {
        ok = kernel_->up(ifindex, p, &error);
        done = who + ": kernel tunnel " + describe(p) + " was down, up again";
      } else if (!devices_.count(rip)) {
        done = who + ": kernel tunnel " + describe(p) + " reused";  // left by an earlier run
      }
    }
    if (!ok) {
      problem(rip, who + ": " + error + "; vsd encapsulates its packets");
      continue;
    }
    errors_.erase(rip);
    if (!done.empty()) log_(false, done);
    auto before = devices_.find(rip);
    if (before == devices_.end() || before->second.ifindex != ifindex) out.changed = true;
    next[rip] = Device{ifindex, p};
  }
  // The leftovers: vsd's devices no wanted real server uses (removed from
  // the configuration, left by an earlier run, or whose real server has
  // no route any more).
  for (const auto& l : links) {
    if (!is_ours(l) || taken.count(l.ifname)) continue;
    if (kernel_->remove(l.ifindex, l.ifname, &error)) {
      log_(false, "TUN: deleted kernel tunnel " + l.ifname + " toward " + l.tunnel_remote.to_string() +
                      ": no TUN real server on the kernel path uses it");
      out.changed = true;
    } else {
      log_(true, "TUN: cannot delete the unused kernel tunnel " + l.ifname + ": " + error);
    }
  }
  for (const auto& [rip, d] : devices_)
    if (!next.count(rip)) out.changed = true;
  for (auto it = errors_.begin(); it != errors_.end();)
    it = wanted.tunnels.count(it->first) ? std::next(it) : errors_.erase(it);
  devices_ = std::move(next);
  out.devices = current().devices;
  return out;
}

std::size_t TunnelDevices::remove_all() {
  std::size_t n = 0;
  for (const auto& [rip, d] : devices_) {
    std::string error;
    if (kernel_->remove(d.ifindex, d.params.name, &error)) {
      ++n;
      log_(false, "TUN: deleted kernel tunnel " + d.params.name + " toward " + rip.to_string());
    } else {
      log_(true, "TUN: cannot delete kernel tunnel " + d.params.name + ": " + error + "; `ip link del " +
                     d.params.name + "`");
    }
  }
  devices_.clear();
  return n;
}

namespace {

class RtnlTunnelKernel : public TunnelKernel {
 public:
  bool list(std::vector<rtnl::LinkInfo>* links, std::string* error) override {
    return rtnl::links_with_prefix(kTunnelPrefix, links, error);
  }
  bool create(const rtnl::TunnelParams& p, int* ifindex, std::string* error) override {
    return rtnl::tunnel_create(p, ifindex, error);
  }
  bool change(int ifindex, const rtnl::TunnelParams& p, std::string* error) override {
    return rtnl::tunnel_change(ifindex, p, error);
  }
  bool up(int ifindex, const rtnl::TunnelParams& p, std::string* error) override {
    return rtnl::tunnel_up(ifindex, p, error);
  }
  bool remove(int ifindex, const std::string& name, std::string* error) override {
    return rtnl::link_delete(ifindex, name, error);
  }
};

}  // namespace

std::unique_ptr<TunnelKernel> make_rtnl_tunnel_kernel() { return std::make_unique<RtnlTunnelKernel>(); }

}  // namespace vsd
