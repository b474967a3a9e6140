// The one place the ARP code touches the system: an AF_PACKET SOCK_RAW socket
// that sends whole Ethernet frames (built by garp_frame) on an interface
// chosen by index, and the interface's index and MAC read by name. Errors
// say what to check. Needs CAP_NET_RAW (and nothing else) to send.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "arp/garp_frame.hpp"

namespace vsd::arp {

struct InterfaceInfo {
  int ifindex = 0;
  MacAddress mac{};
};

// if_nametoindex + SIOCGIFHWADDR. False, with *error, when the interface is
// missing or not Ethernet.
bool read_interface(const std::string& name, InterfaceInfo* out, std::string* error);

class PacketSocketSender {
 public:
  PacketSocketSender() = default;
  ~PacketSocketSender();
  PacketSocketSender(PacketSocketSender&& other) noexcept;
  PacketSocketSender& operator=(PacketSocketSender&& other) noexcept;
  PacketSocketSender(const PacketSocketSender&) = delete;
  PacketSocketSender& operator=(const PacketSocketSender&) = delete;

  // Opens the socket (send-only: protocol 0, so nothing is queued to it).
  bool open(std::string* error);
  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  // Sends one frame (destination MAC and EtherType are taken from it) out of
  // interface `ifindex`.
  bool send(int ifindex, std::span<const std::uint8_t> frame, std::string* error);

 private:
  int fd_ = -1;
};

}  // namespace vsd::arp
