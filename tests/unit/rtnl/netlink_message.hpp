// Test helper: netlink messages assembled byte by byte, independently of
// arp/rtnl.cpp (which uses libmnl), to feed its parsers hand-built kernel
// replies and to read back the requests its builders write.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "net/ip_address.hpp"

namespace vsd::test {

class NetlinkMessage {
 public:
  explicit NetlinkMessage(std::uint16_t type, std::uint16_t flags = 0, std::uint32_t seq = 1,
                          std::uint32_t pid = 0) {
    nlmsghdr h{};
    h.nlmsg_type = type;
    h.nlmsg_flags = flags;
    h.nlmsg_seq = seq;
    h.nlmsg_pid = pid;
    append(&h, sizeof h);
  }

  // The fixed header after nlmsghdr (rtmsg, ifaddrmsg, ...), or any raw bytes.
  template <typename T>
  NetlinkMessage& fixed(const T& header) {
    append(&header, sizeof header);
    return *this;
  }
  NetlinkMessage& attr(std::uint16_t type, const void* data, std::size_t len) {
    std::vector<std::uint8_t> a(4 + len);
    const std::uint16_t alen = static_cast<std::uint16_t>(a.size());
    std::memcpy(a.data(), &alen, 2);
    std::memcpy(a.data() + 2, &type, 2);
    if (len) std::memcpy(a.data() + 4, data, len);
    append(a.data(), a.size());
    return *this;
  }
  NetlinkMessage& attr_u32(std::uint16_t type, std::uint32_t value) {
    return attr(type, &value, 4);
  }
  NetlinkMessage& attr_str(std::uint16_t type, const std::string& s) {
    return attr(type, s.c_str(), s.size() + 1);
  }
  NetlinkMessage& attr_ip(std::uint16_t type, const char* text) {
    const IpAddress a = *IpAddress::parse(text);
    return attr(type, a.data(), a.size());
  }
  // Nested attributes: begin, add, end.
  NetlinkMessage& begin_nest(std::uint16_t type) {
    nests_.push_back(bytes_.size());
    return attr(type, nullptr, 0);
  }
  NetlinkMessage& end_nest() {
    const std::size_t at = nests_.back();
    nests_.pop_back();
    const std::uint16_t len = static_cast<std::uint16_t>(bytes_.size() - at);
    std::memcpy(bytes_.data() + at, &len, 2);
    return *this;
  }

  // The finished message, padded to 4 bytes, with its length set.
  std::vector<std::uint8_t> bytes() const {
    std::vector<std::uint8_t> out = bytes_;
    const std::uint32_t len = static_cast<std::uint32_t>(out.size());
    std::memcpy(out.data(), &len, 4);
    return out;
  }

 private:
  void append(const void* data, std::size_t len) {
    const auto* p = static_cast<const std::uint8_t*>(data);
    if (len) bytes_.insert(bytes_.end(), p, p + len);
    bytes_.resize((bytes_.size() + 3) & ~std::size_t{3}, 0);
  }

  std::vector<std::uint8_t> bytes_;
  std::vector<std::size_t> nests_;
};

inline const nlmsghdr* as_nlmsg(const std::vector<std::uint8_t>& bytes) {
  return reinterpret_cast<const nlmsghdr*>(bytes.data());
}

// The attributes of a message after a fixed header of `fixed` bytes, by a
// plain walk: (type, payload) in order.
inline std::vector<std::pair<std::uint16_t, std::vector<std::uint8_t>>> attributes(
    const std::uint8_t* msg, std::size_t fixed) {
  std::uint32_t total;
  std::memcpy(&total, msg, 4);
  std::vector<std::pair<std::uint16_t, std::vector<std::uint8_t>>> out;
  std::size_t at = sizeof(nlmsghdr) + ((fixed + 3) & ~std::size_t{3});
  while (at + 4 <= total) {
    std::uint16_t len, type;
    std::memcpy(&len, msg + at, 2);
    std::memcpy(&type, msg + at + 2, 2);
    if (len < 4 || at + len > total) break;
    out.emplace_back(type, std::vector<std::uint8_t>(msg + at + 4, msg + at + len));
    at += (len + 3u) & ~3u;
  }
  return out;
}

}  // namespace vsd::test
