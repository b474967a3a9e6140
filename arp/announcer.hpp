// The director's VIP announcements: when it takes over VIPs it sends, on each
// Ethernet interface that holds one, a gratuitous ARP (IPv4) or an
// unsolicited neighbour advertisement (IPv6) a few times, so that switches
// and neighbours move the VIP to its MAC at once (what keepalived does on a
// VRRP transition). The frames are built by garp_frame and sent by
// PacketSocketSender; the repeats run on Asio timers, so announce() does not
// block. Nothing here throws or logs through a logging library: every outcome
// is a line for the caller's Log callback.
#pragma once

// Boost.Asio 1.74 with g++ 12 in C++20 needs <utility> first; see appliance/asio.hpp.
#include <utility>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "arp/garp_frame.hpp"
#include "net/ip_address.hpp"

namespace vsd::arp {

struct AnnounceOptions {
  unsigned repeat = 3;  // frames per VIP and interface; 0 is taken as 1
  std::chrono::milliseconds interval{200};
};

class Announcer {
 public:
  static constexpr int kInfo = 0, kWarn = 1;
  using Log = std::function<void(int level /*0 info,1 warn*/, const std::string& line)>;

  Announcer(boost::asio::io_context& io, Log log);
  // Stops the repeats still pending; frames already sent stay sent.
  ~Announcer();
  Announcer(const Announcer&) = delete;
  Announcer& operator=(const Announcer&) = delete;

  // For each VIP: finds the non-loopback Ethernet interfaces that hold it
  // (local_addresses), reads their MAC, and sends the announcement `repeat`
  // times `interval` apart, the first as soon as `io` runs; an IPv6 NA has
  // the Router flag when the interface forwards IPv6. Logs one info line per
  // VIP announced:
  //   gratuitous ARP for VIP 192.0.2.10 on eth0 (00:00:5e:00:53:01) x3
  //   unsolicited neighbour advertisement for VIP 2001:db8::10 on eth0 (...) x3
  // and one warn line, saying what to do, per VIP held by no Ethernet
  // interface (or only tentatively, during IPv6 DAD). A new announcement of a
  // VIP on an interface replaces the repeats still pending for it. Send
  // errors are logged (warn, with VIP and interface) when they happen; the
  // remaining repeats of that VIP on that interface are then dropped.
  // Returns how many VIPs are being announced.
  std::size_t announce(const std::vector<IpAddress>& vips, const AnnounceOptions& opts);

  // Stops all pending repeats.
  void cancel();

 private:
  struct Shared;
  struct Burst;

  boost::asio::io_context& io_;
  std::shared_ptr<Shared> shared_;
  std::map<std::pair<IpAddress, int>, std::weak_ptr<Burst>> bursts_;  // by VIP and ifindex
};

namespace announcer_detail {

// "gratuitous ARP" or "unsolicited neighbour advertisement"
const char* announcement_name(const IpAddress& vip);
// The warn line for a VIP that no Ethernet interface holds; `not_ethernet`
// names the other interfaces that hold it (lo, tunnels).
std::string not_held_line(const IpAddress& vip, const std::vector<std::string>& not_ethernet);

}  // namespace announcer_detail
}  // namespace vsd::arp
