// The director's kernel TUN path: one point-to-point IP-in-IP device per
// TUN real server (ipip toward an IPv4 one, ip6tnl toward an IPv6 one;
// nfq/rtnl_message.hpp says how they are set up and why), so that a TUN
// flow the kernel carries leaves like a DR one: the ruleset's `dup to
// NEXTHOP device vsdtXXXXXXXX` hands the unchanged client packet to the
// tunnel, whose xmit adds the outer header toward the real server. The
// fast-path plan then gives such a real server a kernel mark and a
// DirectDestination on its device, exactly as a DR one on its interface.
// Without ipip / ip6_tunnel in the kernel there are no devices, and vsd
// encapsulates every TUN packet itself as before.
//
// The manager keeps the kernel's devices in step with the TUN real
// servers: it creates the missing ones, changes one in place when its outer
// source changes (same ifindex: the installed rules stay valid), reuses
// those a killed vsd left (same name: its flows go on), and deletes those
// no TUN real server needs (a removed one, or left by an earlier run). The
// director deletes all of them on a clean stop, after its nft tables; a
// kill -9 leaves both, so the kernel keeps carrying the flows until vsd is
// back. Nothing else is needed on the director: the packets dup sends are
// locally generated, so ip_forward and rp_filter do not apply to them, and
// the devices never receive (a real server answers the client directly).
//
// Pure logic over a small kernel interface (TunnelKernel), tested with a
// fake; make_rtnl_tunnel_kernel() is the adapter over nfq/rtnl_socket.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "appliance/config/config.hpp"
#include "appliance/daemon/fast_path_plan.hpp"
#include "nfq/rtnl_message.hpp"
#include "nfq/rtnl_socket.hpp"

namespace vsd {

// Device names: "vsdt" and 8 hex digits of a hash (FNV-1a, fixed here, not
// std::hash) of the real server's address, 12 characters (IFNAMSIZ 16): the
// same real server gets the same name in every run, so a restarted vsd
// finds its devices. Only a device with such a name AND of kind ipip or
// ip6tnl is ever treated as vsd's (deleted when stale); anything else of
// that name is left alone and its real server stays with vsd's own
// encapsulation.
inline constexpr const char* kTunnelPrefix = "vsdt";
std::string tunnel_device_name(const IpAddress& rip);
bool is_tunnel_device_name(const std::string& name);

// The TUN real servers that get a device, with the outer source (local
// address) of each: a service's tunnel_source, else the source address of
// the route toward the real server (`route_sources`, from the egress
// watch). Only services the plan puts on the kernel's flow table
// (direct_kernel), and only where the kernel makes that kind of device.
struct TunnelWants {
  std::map<IpAddress, IpAddress> tunnels;  // real server -> local address
  // (service, real server) pairs left to vsd's encapsulation, and why.
  std::vector<std::string> notes;
};
TunnelWants wanted_tunnels(const Config& config, const FastPathPlan& plan,
                           const rtnl::TunnelSupport& kernel,
                           const std::map<IpAddress, IpAddress>& route_sources);

// The start line: which way TUN packets leave the director, and why.
// `direct_kernel`: the plan puts DR/TUN services on the flow table at all
// (fast path on, the kernel took its objects).
std::string tun_path_line(const rtnl::TunnelSupport& kernel, std::size_t devices, bool direct_kernel);

// The kernel calls the manager makes (nfq/rtnl_socket.hpp's tunnel
// functions in production). Each returns false with *error on failure.
class TunnelKernel {
 public:
  virtual ~TunnelKernel() = default;
  // The links whose names start with kTunnelPrefix, with kind and endpoints.
  virtual bool list(std::vector<rtnl::LinkInfo>* links, std::string* error) = 0;
  // Create, set up and bring up a device (*ifindex: its index).
  virtual bool create(const rtnl::TunnelParams& p, int* ifindex, std::string* error) = 0;
  // New local address in place (same ifindex), and up.
  virtual bool change(int ifindex, const rtnl::TunnelParams& p, std::string* error) = 0;
  // Up again (and its nexthop route): a device found down.
  virtual bool up(int ifindex, const rtnl::TunnelParams& p, std::string* error) = 0;
  virtual bool remove(int ifindex, const std::string& name, std::string* error) = 0;
};
std::unique_ptr<TunnelKernel> make_rtnl_tunnel_kernel();

class TunnelDevices {
 public:
  // One line per event; `problem` lines are warnings. Each problem is
  // logged once until it changes, each note once until it goes away.
  using Log = std::function<void(bool problem, const std::string& line)>;
  TunnelDevices(std::unique_ptr<TunnelKernel> kernel, Log log);

  struct Synced {
    std::map<IpAddress, std::string> devices;  // real server -> device (NodeOffers)
    // A device was made, re-made or deleted: the ruleset must be installed
    // again even if the names stayed the same (its dup rules hold ifindexes).
    bool changed = false;
  };
  // Makes the kernel's devices match `wanted` (see above). A real server
  // whose device cannot be made is left out of `devices` (vsd encapsulates
  // its packets) and tried again on the next call.
  Synced sync(const TunnelWants& wanted);
  // Clean stop: deletes every device in service; how many went.
  std::size_t remove_all();
  std::size_t size() const { return devices_.size(); }

 private:
  struct Device {
    int ifindex = 0;
    rtnl::TunnelParams params;
  };
  void problem(const IpAddress& rip, const std::string& text);
  void log_notes(const std::vector<std::string>& notes);
  Synced current() const;

  std::unique_ptr<TunnelKernel> kernel_;
  Log log_;
  std::map<IpAddress, Device> devices_;      // in service, by real server
  std::map<IpAddress, std::string> errors_;  // the problem last logged per real server
  std::set<std::string> notes_;              // the notes logged and still true
  std::string list_error_;                   // the listing problem last logged
  bool listed_ = false;                      // the kernel was listed once (stale devices gone)
};

}  // namespace vsd
