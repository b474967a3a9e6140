#include "appliance/daemon/decap_devices.hpp"

namespace vsd {

namespace {

IpAddress any_of_family(bool v4) {
  static constexpr std::uint8_t zero[16] = {};
  return v4 ? IpAddress::v4(zero) : IpAddress::v6(zero);
}

// The device a killed vsd left for exactly this address: same name, kind
// and local end, remote any.
bool is_ours_for(const rtnl::LinkInfo& l, const rtnl::TunnelParams& p) {
  return l.ifname == p.name && l.kind == rtnl::to_string(p.kind) && l.tunnel_local == p.local &&
         l.tunnel_remote.is_unspecified();
}

}  // namespace

rtnl::TunnelParams decap_device_params(const IpAddress& address) {
  rtnl::TunnelParams p;
  p.name = tunnel_device_name(address);
  p.kind = rtnl::tunnel_kind_for(address);
  p.local = address;
  p.remote = any_of_family(address.is_v4());
  return p;
}

DecapDevices::DecapDevices(std::unique_ptr<TunnelKernel> kernel, Log log)
    : kernel_(std::move(kernel)), log_(std::move(log)) {}

DecapDevices::Outcome DecapDevices::setup(const std::vector<IpAddress>& addresses,
                                          const rtnl::TunnelSupport& support) {
  Outcome out;
  std::map<std::string, rtnl::TunnelParams> wanted;
  for (const auto& a : addresses) {
    const rtnl::TunnelParams p = decap_device_params(a);
    if (!support.has(p.kind)) {
      const std::string& why = p.kind == rtnl::TunnelKind::ipip ? support.ipip_why : support.ip6tnl_why;
      out.vsd.emplace(a, "this kernel makes no " + std::string(rtnl::to_string(p.kind)) + " device: " + why);
      continue;
    }
    if (auto [it, fresh] = wanted.emplace(p.name, p); !fresh) {
      out.vsd.emplace(a, "its device name " + p.name + " is also " + it->second.local.to_string() +
                             "'s (a hash collision)");
      continue;
    }
  }
  // Leftovers first: a device for another address would hold the name or
  // the endpoints the new ones need.
  std::vector<rtnl::LinkInfo> links;
  std::string error;
  if (!kernel_->list(&links, &error))
    log_(true, "TUN: cannot list the tunnel devices (" + error +
                   "); those an earlier vsd left stay until the next start");
  for (const auto& l : links) {
    if (!is_tunnel_device_name(l.ifname) || (l.kind != "ipip" && l.kind != "ip6tnl")) continue;
    auto w = wanted.find(l.ifname);
    if (w != wanted.end() && is_ours_for(l, w->second)) {
      if (!l.up() && !kernel_->up(l.ifindex, w->second, &error)) {
        log_(true, "TUN: cannot bring up " + l.ifname + ", left by an earlier vsd (" + error + "); deleting it");
      } else {
        devices_.emplace(l.ifname, l.ifindex);
        out.kernel.emplace(w->second.local, l.ifname);
        log_(false, "TUN: IP-in-IP to " + w->second.local.to_string() + " decapsulated by the kernel: " +
                        l.ifname + " (" + l.kind + "), kept from an earlier vsd");
        continue;
      }
    }
    if (kernel_->remove(l.ifindex, l.ifname, &error))
      log_(false, "TUN: deleted " + l.ifname + " (" + l.kind + "), left by an earlier vsd");
    else
      log_(true, "TUN: cannot delete " + l.ifname + ", left by an earlier vsd (" + error +
                     "); delete it by hand: ip link del " + l.ifname);
  }
  for (const auto& [name, p] : wanted) {
    if (devices_.count(name)) continue;
    int ifindex = 0;
    if (!kernel_->create(p, &ifindex, &error)) {
      out.vsd.emplace(p.local, error);
      continue;
    }
    devices_.emplace(name, ifindex);
    out.kernel.emplace(p.local, name);
    log_(false, "TUN: IP-in-IP to " + p.local.to_string() + " decapsulated by the kernel: " + name + " (" +
                    rtnl::to_string(p.kind) + " from any to " + p.local.to_string() + "); see `ip -d link show " +
                    name + "`");
  }
  return out;
}

std::size_t DecapDevices::remove_all() {
  std::size_t n = 0;
  for (const auto& [name, ifindex] : devices_) {
    std::string error;
    if (kernel_->remove(ifindex, name, &error)) {
      ++n;
    } else {
      log_(true, "TUN: cannot delete " + name + " (" + error + "); delete it by hand: ip link del " + name);
    }
  }
  devices_.clear();
  return n;
}

}  // namespace vsd
