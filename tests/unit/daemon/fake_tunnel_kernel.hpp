// A fake TunnelKernel (tunnel_devices.hpp) for the tests of the director's
// tunnel devices and the real server's decapsulation devices: the kernel's
// links, and every call made, in order.
#pragma once

#include <net/if.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "appliance/daemon/tunnel_devices.hpp"

namespace vsd {

class FakeKernel : public TunnelKernel {
 public:
  std::vector<rtnl::LinkInfo> links;
  std::vector<std::string> calls;
  std::string fail_create;  // a device name whose create fails
  bool fail_list = false;
  int next_index = 100;

  bool list(std::vector<rtnl::LinkInfo>* out, std::string* error) override {
    calls.push_back("list");
    if (fail_list) {
      *error = "netlink says no";
      return false;
    }
    *out = links;
    return true;
  }
  bool create(const rtnl::TunnelParams& p, int* ifindex, std::string* error) override {
    calls.push_back("create " + p.name);
    if (p.name == fail_create) {
      *error = "creating ipip device " + p.name + " failed: Operation not supported";
      return false;
    }
    rtnl::LinkInfo l;
    l.ifindex = *ifindex = next_index++;
    l.ifname = p.name;
    l.kind = rtnl::to_string(p.kind);
    l.tunnel_local = p.local;
    l.tunnel_remote = p.remote;
    l.flags = IFF_UP;
    links.push_back(l);
    return true;
  }
  bool change(int ifindex, const rtnl::TunnelParams& p, std::string*) override {
    calls.push_back("change " + p.name);
    for (auto& l : links)
      if (l.ifindex == ifindex) {
        l.tunnel_local = p.local;
        l.tunnel_remote = p.remote;
        l.flags |= IFF_UP;
      }
    return true;
  }
  bool up(int ifindex, const rtnl::TunnelParams& p, std::string*) override {
    calls.push_back("up " + p.name);
    for (auto& l : links)
      if (l.ifindex == ifindex) l.flags |= IFF_UP;
    return true;
  }
  bool remove(int ifindex, const std::string& name, std::string*) override {
    calls.push_back("remove " + name);
    links.erase(std::remove_if(links.begin(), links.end(), [&](const rtnl::LinkInfo& l) { return l.ifindex == ifindex; }),
                links.end());
    return true;
  }
  const rtnl::LinkInfo* find(const std::string& name) const {
    for (const auto& l : links)
      if (l.ifname == name) return &l;
    return nullptr;
  }
};


// A manager of tunnel devices (TunnelDevices, DecapDevices) over a
// FakeKernel, with the lines it logs ("!" prefix: a problem).
template <class Manager>
struct KernelHarness {
  FakeKernel* kernel = nullptr;
  std::vector<std::string> lines;
  std::unique_ptr<Manager> devices;
  KernelHarness() {
    auto k = std::make_unique<FakeKernel>();
    kernel = k.get();
    devices = std::make_unique<Manager>(std::move(k), [this](bool problem, const std::string& line) {
      lines.push_back((problem ? "!" : "") + line);
    });
  }
  std::string log() const {
    std::string all;
    for (const auto& l : lines) all += l + "\n";
    return all;
  }
};

}  // namespace vsd
