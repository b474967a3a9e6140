// IP addresses and endpoints shared by every layer: IPv4 is kept as an
// IPv4-mapped IPv6 address so that hashing and comparison have one shape.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace vsd {

enum class Family : std::uint8_t { v4 = 4, v6 = 6 };

struct IpAddress {
  std::array<std::uint8_t, 16> bytes{};  // network order; v4 as ::ffff:a.b.c.d

  static IpAddress v4(const std::uint8_t* four) {
    IpAddress a;
    a.bytes[10] = 0xff;
    a.bytes[11] = 0xff;
    std::memcpy(a.bytes.data() + 12, four, 4);
    return a;
  }
  static IpAddress v6(const std::uint8_t* sixteen) {
    IpAddress a;
    std::memcpy(a.bytes.data(), sixteen, 16);
    return a;
  }
  // Parses "192.0.2.1" or "2001:db8::1" (no brackets, no port).
  static std::optional<IpAddress> parse(std::string_view text);

  bool is_v4() const {
    static constexpr std::uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return std::memcmp(bytes.data(), prefix, 12) == 0;
  }
  Family family() const { return is_v4() ? Family::v4 : Family::v6; }
  const std::uint8_t* v4_bytes() const { return bytes.data() + 12; }
  const std::uint8_t* data() const { return is_v4() ? v4_bytes() : bytes.data(); }
  std::size_t size() const { return is_v4() ? 4 : 16; }
  bool is_unspecified() const;

  std::string to_string() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;
};

struct Endpoint {
  IpAddress addr;
  std::uint16_t port = 0;  // host order

  // Parses "192.0.2.10:80" or "[2001:db8::10]:80". On failure returns
  // nullopt and, when error is given, says why.
  static std::optional<Endpoint> parse(std::string_view text, std::string* error = nullptr);
  // "192.0.2.10:80" / "[2001:db8::10]:80", the ipvsadm -n spelling.
  std::string to_string() const;

  friend bool operator==(const Endpoint&, const Endpoint&) = default;
  friend auto operator<=>(const Endpoint&, const Endpoint&) = default;
};

}  // namespace vsd
