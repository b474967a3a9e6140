// The packets vsd sends out itself instead of handing them back to the
// kernel through the queue verdict: VS-TUN packets (an outer header the
// kernel must route toward the real server, not the VIP), VS-DR packets
// (unchanged, but to the real server's MAC) and ICMP errors vsd answers.
//  - ip: raw sockets with IPPROTO_RAW (header included): the kernel routes
//    the packet by its destination as if the director had made it, so the
//    director's own address is a valid outer source (a packet reinjected
//    through the queue with a local source would be a martian).
//  - frame: one AF_PACKET SOCK_DGRAM socket: the kernel adds the Ethernet
//    header with the interface's MAC as source and the MAC given.
// Both are send-only (protocol 0 / IPPROTO_RAW receive nothing). Neither
// fragments: the engine checks the MTU first (TUN) and DR packets arrive
// already within the segment's MTU (the queues run without GSO then).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>

#include "net/ip_address.hpp"

namespace vsd::nfq {

struct TransmitCounters {
  std::atomic<std::uint64_t> sent{0}, errors{0};
  std::atomic<int> last_errno{0};
};

// The latest failed send, for the log line that sums failures up (the
// data path does not log per packet). Written only on failures.
struct TransmitFailure {
  IpAddress dst;       // the real server (or client, for ICMP answers)
  std::size_t len = 0;
  int error = 0;
};

class Transmitter {
 public:
  Transmitter() = default;
  ~Transmitter();
  Transmitter(const Transmitter&) = delete;
  Transmitter& operator=(const Transmitter&) = delete;

  // Opens the three sockets; false with *error (needs CAP_NET_RAW).
  bool open(std::string* error);

  bool send_ip(const std::uint8_t* data, std::size_t len, const IpAddress& dst, bool v6);
  // `rip` only names the destination in failure reports.
  bool send_frame(int ifindex, const std::array<std::uint8_t, 6>& mac, bool v6,
                  const std::uint8_t* data, std::size_t len, const IpAddress& rip);

  const TransmitCounters& counters() const { return counters_; }
  TransmitFailure last_failure() const;

 private:
  bool done(long rc, const IpAddress& dst, std::size_t len);
  mutable std::mutex failure_mutex_;
  TransmitFailure failure_;
  int raw4_ = -1, raw6_ = -1, packet_ = -1;
  TransmitCounters counters_;
};

}  // namespace vsd::nfq
