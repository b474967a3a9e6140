#include "appliance/health/check_config.hpp"

#include <algorithm>
#include <cctype>
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
    case CheckType::dns: return "dns";
    case CheckType::file: return "file";
  }
  return "?";
}

const char* to_string(OnFailure f) { return f == OnFailure::remove ? "remove" : "quiesce"; }

std::optional<CheckType> check_type_from_string(std::string_view s) {
  for (auto t : {CheckType::tcp, CheckType::http, CheckType::https, CheckType::udp,
                 CheckType::icmp, CheckType::misc, CheckType::dns, CheckType::file})
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

std::optional<RunAs> RunAs::parse(std::string_view text, std::string* why) {
  auto fail = [&](std::string reason) -> std::optional<RunAs> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  RunAs r;
  const auto colon = text.find(':');
  r.user = std::string(text.substr(0, colon));
  if (colon != std::string_view::npos) r.group = std::string(text.substr(colon + 1));
  auto bad = [](const std::string& name) {
    return name.empty() || name.size() > 32 || name.find_first_of(" \t:/\n") != std::string::npos;
  };
  if (bad(r.user)) return fail("a user name (\"NAME\" or \"NAME:GROUP\") is needed");
  if (colon != std::string_view::npos && bad(r.group)) return fail("the group after ':' is empty or not a name");
  return r;
}

std::string RunAs::to_string() const { return group.empty() ? user : user + ":" + group; }

std::vector<StatusRange> status_ranges(const std::vector<int>& codes) {
  std::vector<int> sorted = codes;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::vector<StatusRange> out;
  for (int c : sorted) {
    if (!out.empty() && out.back().high + 1 == c)
      out.back().high = c;
    else
      out.push_back({c, c});
  }
  return out;
}

std::string describe_status(const std::vector<int>& codes) {
  if (codes.empty()) return "2xx";
  std::string s;
  for (const auto& r : status_ranges(codes)) {
    if (r.high - r.low >= 2) {  // runs of three or more as ranges
      s += (s.empty() ? "" : ", ") + std::to_string(r.low) + "-" + std::to_string(r.high);
      continue;
    }
    for (int c = r.low; c <= r.high; ++c) s += (s.empty() ? "" : ", ") + std::to_string(c);
  }
  return s;
}

const char* to_string(DnsType t) {
  switch (t) {
    case DnsType::a: return "A";
    case DnsType::ns: return "NS";
    case DnsType::cname: return "CNAME";
    case DnsType::soa: return "SOA";
    case DnsType::ptr: return "PTR";
    case DnsType::mx: return "MX";
    case DnsType::txt: return "TXT";
    case DnsType::aaaa: return "AAAA";
  }
  return "?";
}

std::optional<DnsType> dns_type_from_string(std::string_view s) {
  std::string up(s);
  for (auto& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (auto t : {DnsType::a, DnsType::ns, DnsType::cname, DnsType::soa, DnsType::ptr, DnsType::mx, DnsType::txt,
                 DnsType::aaaa})
    if (up == to_string(t)) return t;
  return std::nullopt;
}

std::vector<HttpUrl> check_urls(const CheckConfig& c) {
  if (!c.urls.empty()) return c.urls;
  return {HttpUrl{c.path, c.status, c.digest, ""}};
}

std::uint32_t requests_per_check(const CheckConfig& c) {
  if (c.type != CheckType::http && c.type != CheckType::https) return 1;
  return static_cast<std::uint32_t>(std::max<std::size_t>(1, c.urls.size()));
}

Endpoint probe_destination(const Endpoint& real, const ConnectTo& connect_to) {
  return Endpoint{connect_to.address.value_or(real.addr), connect_to.port.value_or(real.port)};
}

}  // namespace vsd::health
