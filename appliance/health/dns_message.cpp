#include "appliance/health/dns_message.hpp"

#include <algorithm>
#include <cctype>

#include "net/ip_address.hpp"

namespace vsd::health {

namespace {

void put16(std::string& out, std::uint16_t v) {
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v & 0xff);
}

class Reader {
 public:
  explicit Reader(std::string_view m) : m_(m) {}
  bool u8(std::size_t at, std::uint8_t& v) const {
    if (at >= m_.size()) return false;
    v = static_cast<std::uint8_t>(m_[at]);
    return true;
  }
  bool u16(std::size_t at, std::uint16_t& v) const {
    if (at + 2 > m_.size()) return false;
    v = static_cast<std::uint16_t>((static_cast<std::uint8_t>(m_[at]) << 8) | static_cast<std::uint8_t>(m_[at + 1]));
    return true;
  }
  bool u32(std::size_t at, std::uint32_t& v) const {
    std::uint16_t hi, lo;
    if (!u16(at, hi) || !u16(at + 2, lo)) return false;
    v = (std::uint32_t{hi} << 16) | lo;
    return true;
  }
  // A (possibly compressed) name at `at`; `next` is where the record goes on.
  bool name(std::size_t at, std::string& out, std::size_t& next) const {
    out.clear();
    bool jumped = false;
    int hops = 0;
    std::size_t pos = at;
    while (true) {
      std::uint8_t len;
      if (!u8(pos, len)) return false;
      if ((len & 0xc0) == 0xc0) {
        std::uint8_t low;
        if (!u8(pos + 1, low) || ++hops > 64) return false;
        const std::size_t target = static_cast<std::size_t>(((len & 0x3f) << 8) | low);
        if (target >= pos) return false;  // only backwards: no loops
        if (!jumped) next = pos + 2;
        jumped = true;
        pos = target;
        continue;
      }
      if (len & 0xc0) return false;  // the reserved label types
      if (len == 0) {
        if (!jumped) next = pos + 1;
        return true;
      }
      if (pos + 1 + len > m_.size() || out.size() + len + 1 > 255) return false;
      if (!out.empty()) out += '.';
      for (std::size_t i = 0; i < len; ++i)
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(m_[pos + 1 + i])));
      pos += 1 + len;
    }
  }
  std::string_view bytes(std::size_t at, std::size_t n) const { return m_.substr(at, n); }
  std::size_t size() const { return m_.size(); }

 private:
  std::string_view m_;
};

std::string lower_name(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

}  // namespace

std::optional<std::string> dns_query(std::uint16_t id, std::string_view name, DnsType type) {
  std::string out;
  put16(out, id);
  put16(out, 0x0100);  // RD
  put16(out, 1);       // QDCOUNT
  put16(out, 0);
  put16(out, 0);
  put16(out, 0);
  if (name != ".") {
    std::string_view rest = name;
    if (!rest.empty() && rest.back() == '.') rest.remove_suffix(1);
    if (rest.empty() || rest.size() > 253) return std::nullopt;
    while (!rest.empty()) {
      const auto dot = rest.find('.');
      const std::string_view label = rest.substr(0, dot);
      if (label.empty() || label.size() > 63) return std::nullopt;
      out += static_cast<char>(label.size());
      out.append(label);
      if (dot == std::string_view::npos) break;
      rest.remove_prefix(dot + 1);
      if (rest.empty()) return std::nullopt;  // "a..b" / "a." handled above
    }
  }
  out += '\0';
  put16(out, static_cast<std::uint16_t>(type));
  put16(out, 1);  // IN
  return out;
}

std::optional<DnsReply> parse_dns_reply(std::string_view message, DnsType type, std::string* why) {
  auto fail = [&](const char* reason) -> std::optional<DnsReply> {
    if (why) *why = reason;
    return std::nullopt;
  };
  Reader r(message);
  DnsReply reply;
  std::uint16_t flags, qd, an;
  if (!r.u16(0, reply.id) || !r.u16(2, flags) || !r.u16(4, qd) || !r.u16(6, an))
    return fail("shorter than a DNS header");
  reply.response = flags & 0x8000;
  reply.rcode = flags & 0x0f;
  std::size_t pos = 12;
  std::string name;
  for (std::uint16_t i = 0; i < qd; ++i) {
    if (!r.name(pos, name, pos) || pos + 4 > r.size()) return fail("question cut off");
    pos += 4;
  }
  for (std::uint16_t i = 0; i < an; ++i) {
    std::uint16_t rtype, rclass, rdlen;
    if (!r.name(pos, name, pos) || !r.u16(pos, rtype) || !r.u16(pos + 2, rclass) || !r.u16(pos + 8, rdlen))
      return fail("answer record cut off");
    const std::size_t rdata = pos + 10;
    if (rdata + rdlen > r.size()) return fail("answer data cut off");
    pos = rdata + rdlen;
    if (rtype != static_cast<std::uint16_t>(type) || rclass != 1) continue;  // e.g. the CNAME before an A
    std::string text, n2;
    std::size_t ignored;
    switch (type) {
      case DnsType::a:
      case DnsType::aaaa: {
        const std::size_t want = type == DnsType::a ? 4 : 16;
        if (rdlen != want) return fail("address record of the wrong length");
        auto b = r.bytes(rdata, want);
        const auto* p = reinterpret_cast<const std::uint8_t*>(b.data());
        text = (type == DnsType::a ? IpAddress::v4(p) : IpAddress::v6(p)).to_string();
        break;
      }
      case DnsType::ns:
      case DnsType::cname:
      case DnsType::ptr:
        if (!r.name(rdata, text, ignored)) return fail("bad name in an answer");
        break;
      case DnsType::mx: {
        std::uint16_t pref;
        if (!r.u16(rdata, pref) || !r.name(rdata + 2, n2, ignored)) return fail("bad MX answer");
        text = std::to_string(pref) + " " + n2;
        break;
      }
      case DnsType::soa: {
        std::string rname;
        std::size_t after;
        std::uint32_t serial;
        if (!r.name(rdata, n2, after) || !r.name(after, rname, after) || !r.u32(after, serial))
          return fail("bad SOA answer");
        text = n2 + " " + rname + " " + std::to_string(serial);
        break;
      }
      case DnsType::txt: {
        std::size_t p = rdata;
        while (p < rdata + rdlen) {
          std::uint8_t len = 0;
          if (!r.u8(p, len) || p + 1 + len > rdata + rdlen) return fail("bad TXT answer");
          text.append(r.bytes(p + 1, len));
          p += 1 + len;
        }
        break;
      }
    }
    reply.answers.push_back(std::move(text));
  }
  return reply;
}

bool dns_answer_matches(const std::vector<std::string>& answers, std::string_view expected, DnsType type) {
  for (const auto& a : answers) {
    if (type == DnsType::a || type == DnsType::aaaa) {
      auto want = IpAddress::parse(expected);
      if (want && IpAddress::parse(a) == want) return true;
      continue;
    }
    if (type == DnsType::txt) {
      if (a == expected) return true;
      continue;
    }
    const std::string want = lower_name(expected);
    if (lower_name(a) == want) return true;
    const auto space = a.find(' ');
    if (type == DnsType::mx && space != std::string::npos && a.substr(space + 1) == want) return true;
    if (type == DnsType::soa && space != std::string::npos && a.substr(0, space) == want) return true;
  }
  return false;
}

const char* rcode_name(int rcode) {
  static const char* const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"};
  return rcode >= 0 && rcode < 6 ? names[rcode] : "RCODE?";
}

}  // namespace vsd::health
