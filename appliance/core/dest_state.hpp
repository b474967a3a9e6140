// Per real server and per service run-time state that outlives a services
// snapshot: counters survive a reload or a vsadm edit of an unchanged server.
// One writer at a time (the data path, under the engine's lock) and many
// readers (control plane), so the counters are relaxed atomics written with
// load+store (no locked RMW).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

#include "appliance/core/rate_estimator.hpp"
#include "net/ip_address.hpp"

namespace vsd {

struct Counter {
  std::atomic<std::uint64_t> value{0};
  void add(std::uint64_t n) { value.store(value.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  void sub(std::uint64_t n) { value.store(value.load(std::memory_order_relaxed) - n, std::memory_order_relaxed); }
  std::uint64_t get() const { return value.load(std::memory_order_relaxed); }
  void reset() { value.store(0, std::memory_order_relaxed); }
};

// How a VS-DR / VS-TUN packet leaves toward a real server: read from the
// kernel's routes and neighbours by the control plane (a changed value
// publishes a new snapshot), never by the data path. Unused for NAT.
struct DestEgress {
  IpAddress tunnel_source;  // TUN outer source; unspecified = no route yet
  std::uint32_t mtu = 0;    // route MTU toward the real server (TUN, DR); 0 = unchecked
  int ifindex = 0;          // DR: the interface on the shared segment
  std::array<std::uint8_t, 6> mac{};  // DR: the real server's MAC
  bool mac_known = false;
  bool operator==(const DestEgress&) const = default;
};

// ipvsadm --stats columns.
struct TrafficCounters {
  Counter conns, inpkts, outpkts, inbytes, outbytes;
  void add_in(std::uint64_t bytes) {
    inpkts.add(1);
    inbytes.add(bytes);
  }
  void add_out(std::uint64_t bytes) {
    outpkts.add(1);
    outbytes.add(bytes);
  }
  TrafficSample sample() const {
    return {conns.get(), inpkts.get(), outpkts.get(), inbytes.get(), outbytes.get()};
  }
  void reset() {
    for (Counter* c : {&conns, &inpkts, &outpkts, &inbytes, &outbytes}) c->reset();
  }
};

struct ServiceState {
  TrafficCounters traffic;
  RateEstimate rates;  // control-plane thread only
  // The service's firewall mark (ipvsadm -f), 0 for a VIP:port service: a
  // director pair's sync names the service of an entry with it.
  std::uint32_t fwmark = 0;
  // Its share of the connection table (written by the data path, read
  // anywhere): entries (connections and persistence templates) and the
  // embryonic ones among them.
  Counter table_entries, embryonic;
  // Its embryonic entries, oldest first: a list through the connection
  // table (ConnEntry::embryo_prev/next). The data path's, under the engine
  // lock.
  static constexpr std::uint32_t kNoLink = 0xffffffffu;
  std::uint32_t embryo_head = kNoLink, embryo_tail = kNoLink;
};

struct DestState {
  explicit DestState(std::shared_ptr<ServiceState> svc) : service(std::move(svc)) {}
  std::shared_ptr<ServiceState> service;  // the service this real server belongs to
  TrafficCounters traffic;
  RateEstimate rates;      // control-plane thread only
  Counter active_conns;    // ipvsadm ActiveConn: TCP in ESTABLISHED
  Counter inactive_conns;  // ipvsadm InActConn: every other entry
  Counter persistent_conns; // ipvsadm PersistConn: templates pointing here
  // IPVS IP_VS_DEST_F_OVERLOAD: over the upper threshold, no new connections
  // until under the lower one. Written by the data path, read by schedulers.
  std::atomic<bool> overloaded{false};
  // Set by the data path when a new snapshot no longer has this server
  // (IPVS: not IP_VS_DEST_F_AVAILABLE); its connections may still run.
  std::atomic<bool> removed{false};
  // ipvsadm -x / -y, copied from the snapshot by the data path (0 = none).
  std::atomic<std::uint32_t> upper_threshold{0}, lower_threshold{0};
  // One packet from the client (in) or to it (out), counted for this real
  // server and its service; and a new connection.
  void count_in(std::uint64_t bytes) {
    traffic.add_in(bytes);
    service->traffic.add_in(bytes);
  }
  void count_out(std::uint64_t bytes) {
    traffic.add_out(bytes);
    service->traffic.add_out(bytes);
  }
  void count_connection() {
    traffic.conns.add(1);
    service->traffic.conns.add(1);
  }
  // Packets the kernel carried (fast path), read from its counters by the
  // control plane: the absolute values, minus what was there at the last
  // `vsadm -Z` (kernel_zero).
  struct KernelTraffic {
    Counter inpkts, inbytes, outpkts, outbytes;
  } kernel, kernel_zero;
  // vsadm -Z: what the kernel has counted so far no longer shows.
  void zero_kernel() {
    kernel_zero.inpkts.value.store(kernel.inpkts.get(), std::memory_order_relaxed);
    kernel_zero.inbytes.value.store(kernel.inbytes.get(), std::memory_order_relaxed);
    kernel_zero.outpkts.value.store(kernel.outpkts.get(), std::memory_order_relaxed);
    kernel_zero.outbytes.value.store(kernel.outbytes.get(), std::memory_order_relaxed);
  }
  // What the kernel carried since the last zeroing (no connections: vsd
  // counts those itself).
  TrafficSample kernel_sample() const {
    auto since = [](const Counter& now, const Counter& zero) {
      return now.get() >= zero.get() ? now.get() - zero.get() : 0;
    };
    return {0, since(kernel.inpkts, kernel_zero.inpkts), since(kernel.outpkts, kernel_zero.outpkts),
            since(kernel.inbytes, kernel_zero.inbytes), since(kernel.outbytes, kernel_zero.outbytes)};
  }
  // Its whole traffic: what vsd forwarded and what the kernel carried.
  TrafficSample totals() const {
    TrafficSample t = traffic.sample(), k = kernel_sample();
    for (std::size_t i = 0; i < t.size(); ++i) t[i] += k[i];
    return t;
  }
  // The decision mark the kernel carries this real server's flows under
  // (0 = none), copied from the snapshot by the data path.
  std::uint32_t kernel_mark = 0;
  // The snapshot's DestEgress, copied by the data path when it adopts a
  // snapshot (it reads it per packet of a DR/TUN connection); data-path
  // thread only.
  DestEgress egress;
};

}  // namespace vsd
