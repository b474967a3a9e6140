#include "arp/announcer.hpp"

#include <linux/if_addr.h>

#include <array>
#include <boost/asio/steady_timer.hpp>
#include <fstream>
#include <set>

#include "arp/packet_socket_sender.hpp"
#include "nfq/rtnl_socket.hpp"

namespace vsd::arp {

namespace announcer_detail {

const char* announcement_name(const IpAddress& vip) {
  return vip.is_v4() ? "gratuitous ARP" : "unsolicited neighbour advertisement";
}

std::string not_held_line(const IpAddress& vip, const std::vector<std::string>& not_ethernet) {
  const std::string v = vip.to_string();
  std::string line = "VIP " + v + " is on no Ethernet interface of this node";
  if (!not_ethernet.empty()) {
    line += " (only on";
    for (const auto& name : not_ethernet) line += " " + name;
    line += ", which cannot carry ARP / neighbour advertisements)";
  }
  line += ", so nothing announces it: add it: ip addr add " + v + (vip.is_v4() ? "/32" : "/128") +
          " dev IFACE" + (vip.is_v4() ? "" : " nodad") +
          " (IFACE: the interface that faces the clients)";
  return line;
}

}  // namespace announcer_detail

using announcer_detail::announcement_name;

// Owned jointly by the Announcer and its pending bursts, so a burst outliving
// the Announcer (its handler already queued) still has a socket and a log.
struct Announcer::Shared {
  Log log;
  PacketSocketSender sender;
};

// The repeats of one announcement of one VIP on one interface.
struct Announcer::Burst : std::enable_shared_from_this<Announcer::Burst> {
  Burst(boost::asio::io_context& io, std::shared_ptr<Shared> s) : timer(io), shared(std::move(s)) {}

  void arm(std::chrono::milliseconds delay) {
    timer.expires_after(delay);
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      // A handler already queued when cancel() ran still sees success.
      if (!ec && !self->cancelled) self->fire();
    });
  }

  void fire() {
    std::string error;
    if (!shared->sender.send(ifindex, std::span(frame).first(len), &error)) {
      shared->log(kWarn, "sending " + what + " failed (frame " + std::to_string(sent + 1) + " of " +
                             std::to_string(repeat) + "), the rest are skipped: " + error);
      return;
    }
    if (++sent < repeat) arm(interval);
  }

  void stop() {
    cancelled = true;
    timer.cancel();
  }

  boost::asio::steady_timer timer;
  std::shared_ptr<Shared> shared;
  std::array<std::uint8_t, kUnsolicitedNaFrameLen> frame{};
  std::size_t len = 0;
  int ifindex = 0;
  std::string what;  // "gratuitous ARP for VIP 192.0.2.10 on eth0"
  unsigned repeat = 1, sent = 0;
  std::chrono::milliseconds interval{0};
  bool cancelled = false;
};

Announcer::Announcer(boost::asio::io_context& io, Log log)
    : io_(io), shared_(std::make_shared<Shared>()) {
  shared_->log = std::move(log);
}

Announcer::~Announcer() { cancel(); }

void Announcer::cancel() {
  for (auto& [key, weak] : bursts_)
    if (auto burst = weak.lock()) burst->stop();
  bursts_.clear();
}

namespace {

// The kernel sets the NA Router flag from the interface's forwarding setting;
// so do we, or neighbours would stop using a routing director as a router.
bool forwards_ipv6(const std::string& ifname) {
  std::ifstream f("/proc/sys/net/ipv6/conf/" + ifname + "/forwarding");
  int value = 0;
  return f >> value && value != 0;
}

struct Target {
  std::string ifname;
  InterfaceInfo info;
};

}  // namespace

std::size_t Announcer::announce(const std::vector<IpAddress>& vips, const AnnounceOptions& opts) {
  const Log& log = shared_->log;
  if (vips.empty()) return 0;
  std::vector<rtnl::LocalAddress> addrs;
  std::string error;
  if (!rtnl::local_addresses(&addrs, &error)) {
    log(kWarn, "cannot announce the VIPs: " + error);
    return 0;
  }
  for (auto it = bursts_.begin(); it != bursts_.end();)
    it = it->second.expired() ? bursts_.erase(it) : std::next(it);

  const unsigned repeat = opts.repeat ? opts.repeat : 1;
  std::set<IpAddress> done;
  std::size_t announced = 0;
  for (const auto& vip : vips) {
    if (!done.insert(vip).second) continue;
    const std::string v = vip.to_string();
    std::vector<Target> targets;
    std::vector<std::string> not_ethernet;
    std::string tentative;
    for (const auto& a : addrs) {
      if (a.addr != vip) continue;
      bool seen = false;
      for (const auto& t : targets) seen = seen || t.info.ifindex == a.ifindex;
      if (seen) continue;
      // RFC 4862 5.4: no advertisement for an address still under DAD.
      if (a.flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)) {
        tentative = a.ifname;
        continue;
      }
      Target t{a.ifname, {}};
      std::string why;
      if (read_interface(a.ifname, &t.info, &why))
        targets.push_back(std::move(t));
      else
        not_ethernet.push_back(a.ifname);
    }
    if (targets.empty()) {
      if (!tentative.empty())
        log(kWarn, "VIP " + v + " on " + tentative +
                       " is tentative or failed duplicate address detection, so it is not "
                       "announced: check `ip addr show dev " + tentative +
                       "` (another node may hold it), or add it with nodad and announce again");
      else
        log(kWarn, announcer_detail::not_held_line(vip, not_ethernet));
      continue;
    }
    if (!shared_->sender.is_open() && !shared_->sender.open(&error)) {
      log(kWarn, std::string("cannot send the ") + announcement_name(vip) + " for VIP " + v + ": " +
                     error);
      continue;
    }
    std::string where;
    bool router_flag = false;
    for (const auto& t : targets) {
      auto burst = std::make_shared<Burst>(io_, shared_);
      const bool router = !vip.is_v4() && forwards_ipv6(t.ifname);
      router_flag = router_flag || router;
      burst->len = build_announcement(t.info.mac, vip, burst->frame, router);
      burst->ifindex = t.info.ifindex;
      burst->what = std::string(announcement_name(vip)) + " for VIP " + v + " on " + t.ifname;
      burst->repeat = repeat;
      burst->interval = opts.interval;
      auto& slot = bursts_[{vip, t.info.ifindex}];
      if (auto old = slot.lock()) old->stop();
      slot = burst;
      burst->arm(std::chrono::milliseconds(0));
      where += (where.empty() ? "" : ", ") + t.ifname + " (" + mac_to_string(t.info.mac) + ")";
    }
    log(kInfo, std::string(announcement_name(vip)) + " for VIP " + v + " on " + where + " x" +
                   std::to_string(repeat) + (router_flag ? ", Router flag set" : ""));
    ++announced;
  }
  return announced;
}

}  // namespace vsd::arp
