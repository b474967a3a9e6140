// The real-server role's kernel TUN decapsulation: one receive-only
// IP-in-IP device per tunnel address of this node (ipip for an IPv4 one,
// ip6tnl for an IPv6 one; local = that address, remote = any), as an LVS
// real server's `tunl0` with the VIP on it. The kernel then strips the
// outer header of every packet a director tunnels to the address
// (ip_tunnel_lookup / ip6_tnl_lookup prefer such a device to the module's
// catch-all tunl0 / ip6tnl0) and delivers the inner packet, addressed to a
// VIP on lo, as received on the device: no packet crosses to vsd. Inner
// IPv4 meets rp_filter there; node_plan's all=2 (loose) covers it.
//
// Where the kernel makes no such device (no ipip / ip6_tunnel module, as
// on some minimal kernels) or making one fails, that address stays with
// vsd's own decapsulation (NFQUEUE, realserver.cpp), and the start line
// says why. The devices carry the director's name scheme (kTunnelPrefix and
// a hash of the address, tunnel_devices.hpp): one vsd per node owns every
// "vsdt" device, so each role clears what the other left after a kill -9.
// A device a killed vsd left for the same address is kept (the kernel went
// on decapsulating while vsd was away); any other "vsdt" device goes. A
// clean stop deletes them all.
//
// Pure logic over TunnelKernel (tunnel_devices.hpp), tested with a fake.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "appliance/daemon/tunnel_devices.hpp"

namespace vsd {

class DecapDevices {
 public:
  // One line per event; `problem` lines are warnings.
  using Log = std::function<void(bool problem, const std::string& line)>;
  DecapDevices(std::unique_ptr<TunnelKernel> kernel, Log log);

  struct Outcome {
    std::map<IpAddress, std::string> kernel;  // tunnel address -> its device
    std::map<IpAddress, std::string> vsd;     // tunnel address -> why vsd decapsulates it
  };
  // Makes the devices for `addresses` that `support` allows.
  Outcome setup(const std::vector<IpAddress>& addresses, const rtnl::TunnelSupport& support);
  // Clean stop: deletes the devices in service; how many went.
  std::size_t remove_all();

 private:
  std::unique_ptr<TunnelKernel> kernel_;
  Log log_;
  std::map<std::string, int> devices_;  // name -> ifindex, in service
};

// Receive-only device parameters for a tunnel address (remote: any).
rtnl::TunnelParams decap_device_params(const IpAddress& address);

}  // namespace vsd
