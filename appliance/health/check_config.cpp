#include "appliance/health/check_config.hpp"

#include <charconv>

namespace vsd::health {

const char* to_string(CheckType t) {
  switch (t) {
    case CheckType::tcp: return "tcp";
    case CheckType::http: return "http";
    case CheckType::https: return "https";
    case CheckType::udp: return "udp";
    case CheckType::icmp: return "icmp";
    case CheckType::misc: return "misc";
  }
  return "?";
}

const char* to_string(OnFailure f) { return f == OnFailure::remove ? "remove" : "quiesce"; }

std::optional<CheckType> check_type_from_string(std::string_view s) {
  for (auto t : {CheckType::tcp, CheckType::http, CheckType::https, CheckType::udp,
                 CheckType::icmp, CheckType::misc})
    if (s == to_string(t)) return t;
  return std::nullopt;
}

namespace {

std::optional<std::uint16_t> parse_port(std::string_view s) {
  unsigned v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v == 0 || v > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

}  // namespace

std::optional<ConnectTo> ConnectTo::parse(std::string_view text, std::string* why) {
  auto fail = [&](std::string reason) -> std::optional<ConnectTo> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  ConnectTo c;
  if (text.empty()) return fail("empty address");
  if (text.front() == ':') {
    if (!(c.port = parse_port(text.substr(1)))) return fail("bad port \"" + std::string(text.substr(1)) + "\"");
    return c;
  }
  if (text.front() == '[' && text.back() == ']') {
    if (!(c.address = IpAddress::parse(text.substr(1, text.size() - 2))))
      return fail("bad IPv6 address");
    return c;
  }
  if (auto ip = IpAddress::parse(text)) {  // address alone: IPv4 or bare IPv6
    c.address = ip;
    return c;
  }
  std::string reason;
  auto e = Endpoint::parse(text, &reason);
  if (!e) return fail(reason.empty() ? "bad address" : reason);
  if (e->port == 0) return fail("port 0 cannot be probed");
  c.address = e->addr;
  c.port = e->port;
  return c;
}

std::string ConnectTo::to_string() const {
  if (address && port) return Endpoint{*address, *port}.to_string();
  if (address) return address->is_v4() ? address->to_string() : "[" + address->to_string() + "]";
  if (port) return ":" + std::to_string(*port);
  return "";
}

Endpoint probe_destination(const Endpoint& real, const ConnectTo& connect_to) {
  return Endpoint{connect_to.address.value_or(real.addr), connect_to.port.value_or(real.port)};
}

}  // namespace vsd::health
