// Snapshot specs for the core's tests, written the way vsd.toml reads:
//   test::service("192.0.2.10:80").scheduler("wrr").real("203.0.113.11:8000", 2)
// The core knows no configuration file; these build what the daemon would
// derive from one.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "appliance/core/service_snapshot.hpp"

namespace vsd::test {

// "192.0.2.10:80", "[2001:db8::10]:53", or an address alone (port 0).
inline Endpoint endpoint(std::string_view text) {
  if (auto e = Endpoint::parse(text)) return *e;
  std::string s(text);
  if (s.size() > 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  return Endpoint{*IpAddress::parse(s), 0};
}

class ServiceBuilder {
 public:
  explicit ServiceBuilder(std::string_view vip) {
    spec_.vip = endpoint(vip);
    spec_.v6 = !spec_.vip.addr.is_v4();
  }
  ServiceBuilder& fwmark(std::uint32_t mark, bool v6) {
    spec_.fwmark = mark;
    spec_.vip = Endpoint{};
    spec_.v6 = v6;
    return *this;
  }
  ServiceBuilder& udp() { spec_.protocol = Protocol::udp; return *this; }
  ServiceBuilder& scheduler(std::string name) { spec_.scheduler = std::move(name); return *this; }
  ServiceBuilder& flags(std::vector<std::string> f) { spec_.scheduler_flags = std::move(f); return *this; }
  ServiceBuilder& persistent(std::uint32_t seconds, std::uint8_t netmask = 0) {
    spec_.persistent = seconds;
    spec_.netmask = netmask;
    return *this;
  }
  ServiceBuilder& ops() { spec_.ops = true; return *this; }
  ServiceBuilder& sloppy_tcp() { spec_.sloppy_tcp = true; return *this; }
  ServiceBuilder& real(std::string_view addr, std::uint32_t weight = 1,
                       ForwardMethod forward = ForwardMethod::nat) {
    DestSpec d;
    d.addr = endpoint(addr);
    d.weight = weight;
    d.forward = forward;
    spec_.dests.push_back(d);
    return *this;
  }
  ServiceBuilder& thresholds(std::uint32_t upper, std::uint32_t lower) {
    spec_.dests.back().upper_threshold = upper;
    spec_.dests.back().lower_threshold = lower;
    return *this;
  }
  ServiceBuilder& egress(const DestEgress& e) { spec_.dests.back().egress = e; return *this; }
  // The kernel fast path carries the last real server's flows under `mark`.
  ServiceBuilder& kernel(std::uint32_t mark) { spec_.dests.back().kernel_mark = mark; return *this; }
  operator ServiceSpec() const { return spec_; }

 private:
  ServiceSpec spec_;
};

inline ServiceBuilder service(std::string_view vip) { return ServiceBuilder(vip); }

// A firewall-mark service (ipvsadm -f): no VIP, its family from `v6`.
inline ServiceBuilder fwmark_service(std::uint32_t mark, bool v6 = false) {
  ServiceBuilder b(v6 ? "[::]:0" : "0.0.0.0:0");
  return b.fwmark(mark, v6);
}

inline SnapshotSpec snapshot(std::vector<ServiceSpec> services) {
  SnapshotSpec s;
  s.services = std::move(services);
  return s;
}

}  // namespace vsd::test
