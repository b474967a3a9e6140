#include "net/ip_address.hpp"

#include <arpa/inet.h>

#include <charconv>

namespace vsd {

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  std::uint8_t raw[16];
  if (text.find(':') == std::string_view::npos) {
    if (inet_pton(AF_INET, buf, raw) != 1) return std::nullopt;
    return IpAddress::v4(raw);
  }
  if (inet_pton(AF_INET6, buf, raw) != 1) return std::nullopt;
  return IpAddress::v6(raw);
}

bool IpAddress::is_unspecified() const {
  const std::uint8_t* p = data();
  for (std::size_t i = 0; i < size(); ++i)
    if (p[i] != 0) return false;
  return true;
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  if (is_v4())
    inet_ntop(AF_INET, v4_bytes(), buf, sizeof buf);
  else
    inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
  return buf;
}

std::optional<Endpoint> Endpoint::parse(std::string_view text, std::string* error) {
  auto fail = [&](const char* why) -> std::optional<Endpoint> {
    if (error) *error = why;
    return std::nullopt;
  };
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return fail("missing ']' after IPv6 address");
    host = text.substr(1, close - 1);
    if (close + 1 >= text.size() || text[close + 1] != ':')
      return fail("expected ':PORT' after ']'");
    port = text.substr(close + 2);
    if (host.find(':') == std::string_view::npos) return fail("only IPv6 addresses go in brackets");
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return fail("expected ADDRESS:PORT");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos)
      return fail("an IPv6 address needs brackets: \"[2001:db8::10]:80\"");
  }
  auto addr = IpAddress::parse(host);
  if (!addr) return fail("not an IPv4 or IPv6 address");
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc{} || ptr != port.data() + port.size() || value > 65535)
    return fail("port must be a number from 0 to 65535");
  return Endpoint{*addr, static_cast<std::uint16_t>(value)};
}

std::string Endpoint::to_string() const {
  if (addr.is_v4()) return addr.to_string() + ":" + std::to_string(port);
  return "[" + addr.to_string() + "]:" + std::to_string(port);
}

}  // namespace vsd
