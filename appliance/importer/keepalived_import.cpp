// keepalived.conf's LVS half -> vsd.toml.
//
// How each keyword maps, and why (README "Migrating from keepalived" has the
// same as a table):
//  - virtual_server IP PORT / fwmark N -> one [[service]] (address / fwmark
//    without members: the operator's own marks, as with keepalived).
//  - virtual_server group NAME -> one [[service]] per entry of the
//    virtual_server_group (IP PORT, each address of an IP range or CIDR
//    block, fwmark N), all with the virtual server's settings and real
//    servers. That is what keepalived builds in IPVS: one virtual service per
//    entry. vsd's fwmark service with `members` is not used: it would merge
//    the entries into one service with one persistence table and one
//    scheduler state, which keepalived's group does not do.
//  - Checks: keepalived checks each checker every delay_loop (default 60 s,
//    from the checker, else the real server, else the virtual server), tries
//    a failed check `retry` more times delay_before_retry apart (checker's,
//    real server's, virtual server's, else the checker's default: 1,
//    MISC_CHECK 0, DNS_CHECK 3; 1 s), takes the server out when they all
//    failed and back in after one success. vsd has the same retry and
//    delay_before_retry, so: interval = delay_loop, retry, delay_before_retry,
//    fall = 1, rise = 1, timeout = connect_timeout (default 5 s; MISC:
//    misc_timeout, else the virtual server's delay_loop), warmup = warmup
//    (default: the delay_loop, keepalived's random start), alpha, on_failure
//    = "quiesce" for inhibit_on_failure. All of them are written explicitly,
//    so the file keeps keepalived's timing whatever vsd's own defaults are.
//    Every checker of a real server becomes one of its checks (all must pass).
//  - Scripts (MISC_CHECK, notify_up/down) run as their `user`, else
//    global_defs' script_user, else as keepalived does without either: as
//    keepalived_script when that user exists, else root. The import cannot
//    know the node's users: it writes user = "root" and says so in a note.
//  - A keyword asking for something vsd does not do is refused with the
//    reason; a keyword asking for what vsd does anyway (smtp_alert off,
//    http_protocol 1.1, hashed) is taken silently or with a note.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>
#include <map>
#include <set>

#include "appliance/core/scheduler_registry.hpp"
#include "appliance/importer/import_common.hpp"
#include "appliance/health/dns_message.hpp"
#include "appliance/importer/keepalived_syntax.hpp"

namespace vsd::importer {
namespace {

using keepalived::Statement;
using health::CheckConfig;
using health::CheckOverrides;
using health::CheckType;

constexpr std::uint32_t default_delay_loop_ms = 60000;   // KEEPALIVED_DEFAULT_DELAY
constexpr std::uint32_t default_connect_timeout_ms = 5000;
constexpr std::uint32_t persistent_default_s = 360;     // IPVS_SVC_PERSISTENT_TIMEOUT
constexpr std::size_t max_range_addresses = 1024;       // per group entry

const char* const vrrp_reason =
    "VRRP stays keepalived's job: keep keepalived running for failover and the VIPs (virtual_ipaddress); "
    "vsd does not own the VIP (vsd --check warns when the director does not hold it)";

// The keywords every level (virtual_server, real_server, checker) may set
// for its checks; unset = inherited.
struct Timing {
  std::optional<double> delay_loop, connect_timeout, warmup, delay_before_retry;
  std::optional<std::uint64_t> retry;
  std::optional<bool> alpha;
};

struct Checker {
  const Statement* at = nullptr;
  CheckType type = CheckType::tcp;
  Timing timing;
  std::optional<IpAddress> connect_ip;
  std::optional<std::uint16_t> connect_port;
  std::vector<health::HttpUrl> urls;
  std::string virtualhost;
  std::optional<bool> enable_sni;
  std::string sni_name;
  std::string payload, expect;
  std::string command;
  bool dynamic = false;
  std::optional<health::RunAs> user;
  std::optional<double> misc_timeout;
  health::DnsType query_type = health::DnsType::soa;
  std::string query_name = ".";
  std::string file;
  std::int32_t factor = 1;
  bool reverse = false;
  std::uint64_t default_retry = 1;
};

// A top-level track_file block: what FILE_CHECK's track_file names.
struct TrackFile {
  const Statement* at = nullptr;
  std::string path;
  std::int32_t weight = 1;
  bool reverse = false;
};

struct Real {
  const Statement* at = nullptr;
  Endpoint address;  // port 0: none given
  std::optional<std::uint32_t> weight;
  std::optional<ForwardMethod> forward;
  std::uint32_t upper = 0, lower = 0;
  const Statement* lower_at = nullptr;
  std::optional<bool> inhibit;
  Timing timing;
  std::string notify;
  std::optional<health::RunAs> notify_user;
  std::string virtualhost;
  std::vector<Checker> checkers;
};

struct Virtual {
  const Statement* at = nullptr;
  bool refused = false;  // left out whole (SCTP, an unknown group, ...)
  ServiceConfig tmpl;    // everything but the address / fwmark and the real servers
  bool protocol_given = false, protocol_given_before = false;
  std::optional<ForwardMethod> forward;
  Timing timing;
  bool inhibit = false;
  std::uint32_t default_weight = 1;
  std::vector<const Statement*> flags;
  std::optional<std::uint64_t> quorum, hysteresis;
  std::optional<bool> ip_family_v4;
  const Statement* ip_family_at = nullptr;
  const Statement* sorry_at = nullptr;
  std::optional<ForwardMethod> sorry_forward;
  std::string virtualhost;
  const Statement* ha_suspend_at = nullptr;
  bool has_real_server_statement = false;
  std::vector<Real> reals;
};

// One entry of what a virtual_server stands for.
struct ServiceKey {
  bool fwmark = false;
  std::uint32_t mark = 0;
  Endpoint address;
};

std::string where(const Statement& s) { return s.file + ":" + std::to_string(s.line); }

std::string family_name(bool v4) { return v4 ? "IPv4" : "IPv6"; }

std::optional<Endpoint> endpoint(const std::string& ip, const std::string* port) {
  auto a = IpAddress::parse(ip);
  if (!a) return std::nullopt;
  std::uint64_t p = 0;
  if (port) {
    auto v = parse_unsigned(*port, 65535);
    if (!v) return std::nullopt;
    p = *v;
  }
  return Endpoint{*a, static_cast<std::uint16_t>(p)};
}

// "A.B.C.D-E", "A.B.C.D-A.B.C.E", "A.B.C.D/NN" and the IPv6 forms, or a
// plain address: every address it covers (nullopt: not an address).
std::optional<std::vector<IpAddress>> address_range(const std::string& text, std::string& why) {
  auto add_offsets = [&](const IpAddress& start, const IpAddress& end) -> std::optional<std::vector<IpAddress>> {
    // Both in one family; the range walks the last 64 bits.
    if (start.is_v4() != end.is_v4()) {
      why = "the range's ends are of different families";
      return std::nullopt;
    }
    if (!std::equal(start.bytes.begin(), start.bytes.begin() + 8, end.bytes.begin())) {
      why = "the range is too wide";
      return std::nullopt;
    }
    auto low64 = [](const IpAddress& a) {
      std::uint64_t v = 0;
      for (int i = 8; i < 16; ++i) v = (v << 8) | a.bytes[i];
      return v;
    };
    const std::uint64_t lo = low64(start), hi = low64(end);
    if (hi < lo) {
      why = "the range ends before it starts";
      return std::nullopt;
    }
    if (hi - lo >= max_range_addresses) {
      why = "the range holds more than " + std::to_string(max_range_addresses) + " addresses";
      return std::nullopt;
    }
    std::vector<IpAddress> out;
    for (std::uint64_t v = lo;; ++v) {
      IpAddress a = start;
      for (int i = 15; i >= 8; --i) a.bytes[i] = static_cast<std::uint8_t>(v >> (8 * (15 - i)));
      out.push_back(a);
      if (v == hi) break;
    }
    return out;
  };

  if (auto slash = text.find('/'); slash != std::string::npos) {
    auto base = IpAddress::parse(text.substr(0, slash));
    const int max = base && base->is_v4() ? 32 : 128;
    auto len = parse_unsigned(text.substr(slash + 1), static_cast<std::uint64_t>(max));
    if (!base || !len || *len == 0) {
      why = "not an address block";
      return std::nullopt;
    }
    const int host_bits = max - static_cast<int>(*len);
    IpAddress end = *base;
    for (int bit = 0; bit < host_bits; ++bit) {
      const int byte = 15 - bit / 8;
      if (base->bytes[byte] & (1u << (bit % 8))) {
        why = "address bits set beyond the prefix (keepalived skips it too)";
        return std::nullopt;
      }
      end.bytes[byte] |= static_cast<std::uint8_t>(1u << (bit % 8));
    }
    return add_offsets(*base, end);
  }
  if (auto dash = text.find('-'); dash != std::string::npos) {
    auto start = IpAddress::parse(text.substr(0, dash));
    const std::string tail = text.substr(dash + 1);
    if (!start) {
      why = "not an address range";
      return std::nullopt;
    }
    std::optional<IpAddress> end = IpAddress::parse(tail);
    if (!end) {
      // Only the last part: a decimal octet (IPv4) or a hex group (IPv6).
      IpAddress e = *start;
      if (start->is_v4()) {
        auto v = parse_unsigned(tail, 255);
        if (!v) {
          why = "bad end of range \"" + tail + "\"";
          return std::nullopt;
        }
        e.bytes[15] = static_cast<std::uint8_t>(*v);
      } else {
        unsigned v = 0;
        auto [p, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), v, 16);
        if (tail.empty() || ec != std::errc() || p != tail.data() + tail.size() || v > 0xffff) {
          why = "bad end of range \"" + tail + "\"";
          return std::nullopt;
        }
        e.bytes[14] = static_cast<std::uint8_t>(v >> 8);
        e.bytes[15] = static_cast<std::uint8_t>(v);
      }
      end = e;
    }
    return add_offsets(*start, *end);
  }
  auto a = IpAddress::parse(text);
  if (!a) {
    why = "not an IP address";
    return std::nullopt;
  }
  return std::vector<IpAddress>{*a};
}

class KeepalivedImporter {
 public:
  explicit KeepalivedImporter(ImportResult& out) : out_(out) {}

  Config run(const std::vector<Statement>& top) {
    // Groups, track files and the global script settings first: a
    // virtual_server may name them further up than they are defined.
    for (const auto& s : top) {
      if (s.skip) continue;
      if (s.keyword == "virtual_server_group") group(s);
      if (s.keyword == "track_file") track_file(s);
      if (s.keyword == "global_defs") script_defaults(s);
      if (s.keyword == "SSL") ssl(s);
    }
    for (const auto& s : top) {
      if (s.skip) continue;
      const std::string& k = s.keyword;
      if (k == "virtual_server_group" || k == "track_file" || k == "SSL") continue;
      if (k == "virtual_server")
        virtual_server(s);
      else if (k == "global_defs")
        global_defs(s);
      else if (k.starts_with("vrrp_") || k == "static_ipaddress" || k == "static_routes" || k == "static_rules" ||
               k == "garp_group" || k == "linkbeat_interfaces" || k == "track_process" ||
               k == "static_track_group")
        note(s, k + " skipped: " + vrrp_reason);
      else if (k.starts_with("bfd_"))
        note(s, k + " skipped: BFD stays keepalived's job (vsd has no BFD_CHECK)");
      else if (k == "net_namespace" || k == "net_namespace_ipvs" || k == "instance" || k == "use_pid_dir" ||
               k == "linkbeat_use_polling")
        note(s, k + " skipped: a setting of the keepalived process itself");
      else
        refuse(s, "unknown top-level keyword '" + k + "': not imported");
    }
    return std::move(config_);
  }

 private:
  // ---- messages

  void refuse(const Statement& s, std::string text) {
    const std::string key = where(s) + text;
    if (said_.insert(key).second) out_.refusals.push_back({s.file, s.line, std::move(text)});
  }
  void no_equivalent(const Statement& s, const std::string& why) {
    refuse(s, "keyword '" + s.keyword + "' has no vsd equivalent: " + why);
  }
  void note(const Statement& s, std::string text) {
    const std::string key = where(s) + text;
    if (said_.insert(key).second) out_.notes.push_back({s.file, s.line, std::move(text)});
  }
  bool want_args(const Statement& s, std::size_t min, std::size_t max) {
    if (s.args.size() >= min && s.args.size() <= max) return true;
    refuse(s, "'" + s.keyword + "' takes " +
                  (min == max ? std::to_string(min) : std::to_string(min) + " to " + std::to_string(max)) +
                  " value(s), got " + std::to_string(s.args.size()) + ": not imported");
    return false;
  }
  void no_block(const Statement& s) {
    if (s.block) refuse(s, "'" + s.keyword + "' takes no block: the block is not imported");
  }

  // ---- values

  std::optional<double> timer(const Statement& s) {
    if (!want_args(s, 1, 1)) return std::nullopt;
    auto v = parse_seconds(s.args[0]);
    if (!v) refuse(s, "'" + s.keyword + "' needs a number of seconds, got \"" + s.args[0] + "\": not imported");
    return v;
  }
  std::optional<std::uint64_t> number(const Statement& s, std::uint64_t min, std::uint64_t max) {
    if (!want_args(s, 1, 1)) return std::nullopt;
    auto v = parse_unsigned(s.args[0]);
    if (!v || *v < min || *v > max) {
      refuse(s, "'" + s.keyword + "' must be from " + std::to_string(min) + " to " + std::to_string(max) +
                    ", got \"" + s.args[0] + "\": not imported");
      return std::nullopt;
    }
    return v;
  }
  // A keyword with an optional <BOOL> (no value: true).
  std::optional<bool> flag(const Statement& s) {
    if (s.args.empty()) return true;
    if (!want_args(s, 0, 1)) return std::nullopt;
    auto v = parse_bool(s.args[0]);
    if (!v) refuse(s, "'" + s.keyword + "' takes on|off|true|false|yes|no, got \"" + s.args[0] + "\": not imported");
    return v;
  }
  std::optional<ForwardMethod> method(const Statement& s) {
    if (s.args.empty()) {
      refuse(s, "'" + s.keyword + "' needs NAT, DR or TUN: not imported");
      return std::nullopt;
    }
    const std::string& m = s.args[0];
    if (m == "NAT" || m == "DR") {
      if (s.args.size() > 1) refuse(s, "'" + s.keyword + " " + m + "' takes no options: they are not imported");
      return m == "NAT" ? ForwardMethod::nat : ForwardMethod::dr;
    }
    if (m == "TUN") {
      for (std::size_t i = 1; i < s.args.size(); ++i) {
        const std::string& o = s.args[i];
        if (o == "type" && i + 1 < s.args.size() && s.args[i + 1] == "ipip") {
          ++i;
        } else if (o == "nocsum") {
        } else {
          refuse(s, "tunnel option '" + o + (o == "type" && i + 1 < s.args.size() ? " " + s.args[i + 1] : "") +
                        "' has no vsd equivalent: vsd tunnels with IP-in-IP (ipip) only; imported as ipip");
          break;
        }
      }
      return ForwardMethod::tun;
    }
    refuse(s, "unknown lvs_method '" + m + "' (NAT | DR | TUN): not imported");
    return std::nullopt;
  }
  // A script keyword: the (quoted) command, then an optional user [group].
  // `user` null: vsd has no user for this script (quorum_up/quorum_down).
  std::optional<std::string> script(const Statement& s, std::optional<health::RunAs>* user = nullptr) {
    if (s.args.empty()) {
      refuse(s, "'" + s.keyword + "' needs a script: not imported");
      return std::nullopt;
    }
    if (s.args.size() > 1 && !user)
      refuse(s, "'" + s.keyword + "': running it as user '" + s.args[1] +
                    "' has no vsd equivalent: vsd runs quorum scripts as its own user (root); the script is "
                    "imported without the user");
    else if (user)
      *user = run_as(s, 1);
    return s.args[0];
  }

  // USER [GROUP] from args[first...], else script_user, else root (noted).
  std::optional<health::RunAs> run_as(const Statement& s, std::size_t first) {
    if (s.args.size() > first + 2) refuse(s, "'" + s.keyword + "': only USER [GROUP] may follow; the rest is not imported");
    if (s.args.size() > first) {
      health::RunAs r{s.args[first], s.args.size() > first + 1 ? s.args[first + 1] : ""};
      std::string why;
      if (health::RunAs::parse(r.to_string(), &why)) return r;
      refuse(s, "bad user \"" + r.to_string() + "\": " + why + "; imported as root");
      return health::RunAs{"root", ""};
    }
    if (script_user_) return script_user_;
    note(s, "'" + s.keyword + "' names no user and global_defs no script_user: keepalived runs it as "
            "keepalived_script if that user exists, else as root; imported as user \"root\" (set a user to run it "
            "unprivileged)");
    return health::RunAs{"root", ""};
  }

  // The keywords every level takes for its checks. True when `s` was one.
  bool timing(const Statement& s, Timing& t, bool connect_timeout) {
    const std::string& k = s.keyword;
    if (k == "delay_loop") {
      if (auto v = timer(s)) t.delay_loop = *v;
    } else if (k == "connect_timeout" && connect_timeout) {
      if (auto v = timer(s)) t.connect_timeout = *v;
    } else if (k == "warmup") {
      if (auto v = timer(s)) t.warmup = *v;
    } else if (k == "retry") {
      if (auto v = number(s, 0, 999)) t.retry = *v;
    } else if (k == "delay_before_retry") {
      if (auto v = timer(s)) t.delay_before_retry = *v;
    } else if (k == "alpha") {
      if (auto v = flag(s)) t.alpha = *v;
    } else {
      return false;
    }
    no_block(s);
    return true;
  }

  // ---- top-level blocks

  // global_defs' script_user (the default user of every script).
  void script_defaults(const Statement& g) {
    for (const auto& s : g.children) {
      if (s.skip || s.keyword != "script_user") continue;
      if (s.args.empty() || s.args.size() > 2) {
        refuse(s, "script_user takes USER [GROUP]: not imported");
        continue;
      }
      script_user_ = health::RunAs{s.args[0], s.args.size() > 1 ? s.args[1] : ""};
    }
  }

  void global_defs(const Statement& g) {
    bool timeouts = false;
    for (const auto& s : g.children) {
      if (s.skip) continue;
      if (s.keyword == "lvs_timeouts") {
        timeouts = true;
        lvs_timeouts(s);
      } else if (s.keyword == "lvs_sync_daemon") {
        no_equivalent(s, "vsd syncs its connections to the other director of [ha] directors (set it and sync_id; `vsd ha keepalived` writes the VIPs' VRRP)");
      } else if (s.keyword == "script_user") {
        note(s, "script_user is imported as the user of every check and notify script that names none");
      } else if (s.keyword == "enable_script_security") {
        note(s, "enable_script_security: vsd runs no script as root unless its user says \"root\"");
      }
    }
    note(g, std::string("global_defs skipped: keepalived's process settings (router_id, email, ...) have no place "
                        "in vsd.toml") +
                (timeouts ? "; its lvs_timeouts are imported as [timeouts]" : ""));
  }

  void lvs_timeouts(const Statement& s) {
    for (std::size_t i = 0; i + 1 < s.args.size(); i += 2) {
      auto v = parse_unsigned(s.args[i + 1], 86400 * 30);
      const std::string& name = s.args[i];
      if (!v || *v == 0) {
        refuse(s, "lvs_timeouts " + name + " \"" + s.args[i + 1] + "\" must be from 1 to 2592000 seconds: not imported");
        continue;
      }
      if (name == "tcp")
        config_.timeouts.tcp = static_cast<std::uint32_t>(*v);
      else if (name == "tcpfin")
        config_.timeouts.tcpfin = static_cast<std::uint32_t>(*v);
      else if (name == "udp")
        config_.timeouts.udp = static_cast<std::uint32_t>(*v);
      else
        refuse(s, "lvs_timeouts '" + name + "' has no vsd equivalent ([timeouts] has tcp, tcpfin, udp): not imported");
    }
    if (s.args.size() % 2) refuse(s, "lvs_timeouts: '" + s.args.back() + "' has no value: not imported");
  }

  // The SSL block: the client certificate and key of every SSL_GET.
  void ssl(const Statement& b) {
    for (const auto& s : b.children) {
      if (s.skip) continue;
      if ((s.keyword == "certificate" || s.keyword == "key") && want_args(s, 1, 1)) {
        if (s.args[0].empty() || s.args[0][0] != '/') {
          refuse(s, "'" + s.keyword + "' must be an absolute file name for vsd: not imported");
          continue;
        }
        (s.keyword == "certificate" ? tls_cert_ : tls_key_) = s.args[0];
      } else if (s.keyword == "ca") {
        note(s, "ca: keepalived loads it but does not verify the server's certificate, and neither does the "
                "import (vsd's tls_ca would verify it: add it to check the servers' identity)");
      } else if (s.keyword == "password") {
        no_equivalent(s, "vsd reads the client key unencrypted (tls_key); decrypt it (openssl pkey -in KEY -out "
                         "KEY.plain)");
      } else {
        refuse(s, "unknown keyword '" + s.keyword + "' in SSL: not imported");
      }
    }
    if (tls_cert_.empty() != tls_key_.empty()) {
      refuse(b, "SSL: certificate and key go together for vsd: neither is imported");
      tls_cert_.clear();
      tls_key_.clear();
    }
  }

  // track_file NAME { file PATH; weight W [reverse]; init_file [V] [overwrite] }
  void track_file(const Statement& b) {
    if (b.args.size() != 1) {
      refuse(b, "track_file needs one name: not imported");
      return;
    }
    TrackFile t;
    t.at = &b;
    for (const auto& s : b.children) {
      if (s.skip) continue;
      if (s.keyword == "file" && want_args(s, 1, 1)) {
        t.path = s.args[0];
      } else if (s.keyword == "weight") {
        if (!weight_args(s, 0, t.weight, t.reverse)) continue;
      } else if (s.keyword == "init_file") {
        bool nonzero = false;
        for (const auto& a : s.args) nonzero |= a != "overwrite" && a != "0";
        if (nonzero)
          no_equivalent(s, "vsd does not create the file; a missing file reads as 0, so create it with the value "
                           "(echo V > FILE) before vsd starts");
        else
          note(s, "init_file 0: vsd reads a missing file as 0, as keepalived does");
      } else {
        refuse(s, "unknown keyword '" + s.keyword + "' in track_file: not imported");
      }
    }
    if (t.path.empty() || t.path[0] != '/') {
      refuse(b, "track_file " + b.args[0] + " needs an absolute file: not imported");
      return;
    }
    track_files_[b.args[0]] = t;
  }

  // weight W [reverse|noreverse] from args[first...].
  bool weight_args(const Statement& s, std::size_t first, std::int32_t& weight, bool& reverse) {
    if (s.args.size() <= first || s.args.size() > first + 2) {
      refuse(s, "'" + s.keyword + "' takes a weight and optionally reverse: not imported");
      return false;
    }
    const std::string& w = s.args[first];
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), v);
    if (ec != std::errc() || end != w.data() + w.size() || v < -65535 || v > 65535) {
      refuse(s, "weight \"" + w + "\" must be from -65535 to 65535: not imported");
      return false;
    }
    if (s.args.size() == first + 2 && s.args[first + 1] != "reverse" && s.args[first + 1] != "noreverse") {
      refuse(s, "unknown weight option '" + s.args[first + 1] + "' (reverse | noreverse): not imported");
      return false;
    }
    weight = static_cast<std::int32_t>(v);
    reverse = s.args.size() == first + 2 && s.args[first + 1] == "reverse";
    return true;
  }

  void group(const Statement& g) {
    if (g.args.size() != 1) {
      refuse(g, "virtual_server_group needs one name: not imported");
      return;
    }
    std::vector<ServiceKey> keys;
    for (const auto& e : g.children) {
      if (e.skip) continue;
      if (e.keyword == "fwmark") {
        if (e.args.empty() || e.args.size() > 2) {
          refuse(e, "fwmark needs a mark (and optionally inet|inet6): not imported");
          continue;
        }
        auto mark = parse_unsigned(e.args[0], 0xffffffffULL);
        if (!mark || *mark == 0) {
          refuse(e, "fwmark \"" + e.args[0] + "\" must be from 1 to 4294967295: not imported");
          continue;
        }
        if (e.args.size() == 2 && e.args[1] != "inet" && e.args[1] != "inet6") {
          refuse(e, "fwmark family \"" + e.args[1] + "\" must be inet or inet6: not imported");
          continue;
        }
        keys.push_back({true, static_cast<std::uint32_t>(*mark), {}});
        continue;
      }
      if (e.args.size() > 1) {
        refuse(e, "a virtual_server_group entry is ADDRESS [PORT]: not imported");
        continue;
      }
      std::string why;
      auto addrs = address_range(e.keyword, why);
      std::uint64_t port = 0;
      if (!e.args.empty()) {
        auto p = parse_unsigned(e.args[0], 65535);
        if (!p) {
          refuse(e, "bad port \"" + e.args[0] + "\": not imported");
          continue;
        }
        port = *p;
      }
      if (!addrs) {
        refuse(e, "virtual_server_group entry \"" + e.keyword + "\": " + why + ": not imported");
        continue;
      }
      for (const auto& a : *addrs) keys.push_back({false, 0, Endpoint{a, static_cast<std::uint16_t>(port)}});
    }
    if (groups_.contains(g.args[0])) {
      refuse(g, "virtual_server_group " + g.args[0] + " is defined twice; the first (" +
                    where(*groups_[g.args[0]].first) + ") is used");
      return;
    }
    groups_[g.args[0]] = {&g, std::move(keys)};
  }

  // ---- virtual_server

  void virtual_server(const Statement& vs) {
    Virtual v;
    v.at = &vs;
    v.tmpl.where = {vs.file, vs.line, 0};
    // What it stands for.
    std::vector<ServiceKey> keys;
    if (vs.args.size() == 2 && vs.args[0] == "fwmark") {
      auto mark = parse_unsigned(vs.args[1], 0xffffffffULL);
      if (!mark || *mark == 0) {
        refuse(vs, "virtual_server fwmark \"" + vs.args[1] + "\" must be from 1 to 4294967295: not imported");
        return;
      }
      keys.push_back({true, static_cast<std::uint32_t>(*mark), {}});
    } else if (vs.args.size() == 2 && vs.args[0] == "group") {
      auto it = groups_.find(vs.args[1]);
      if (it == groups_.end()) {
        refuse(vs, "virtual_server_group " + vs.args[1] + " is not defined: the virtual server is not imported");
        return;
      }
      keys = it->second.second;
      if (keys.empty()) {
        note(vs, "virtual_server_group " + vs.args[1] + " has no entries: keepalived removes it, nothing imported");
        return;
      }
    } else if (vs.args.size() == 1 || vs.args.size() == 2) {
      auto e = endpoint(vs.args[0], vs.args.size() == 2 ? &vs.args[1] : nullptr);
      if (!e) {
        refuse(vs, "bad virtual server \"" + vs.args[0] + (vs.args.size() == 2 ? " " + vs.args[1] : "") +
                       "\" (IP [PORT], fwmark N or group NAME): not imported");
        return;
      }
      keys.push_back({false, 0, *e});
    } else {
      refuse(vs, "virtual_server takes IP [PORT], fwmark N or group NAME: not imported");
      return;
    }

    for (const auto& s : vs.children)
      if (!s.skip) virtual_keyword(v, s);
    if (v.refused) return;
    if (!v.has_real_server_statement) {
      note(vs, "virtual_server has no real_server: keepalived ignores it, and so does the import");
      return;
    }
    finish_virtual(v);
    for (const auto& key : keys) instantiate(v, key);
  }

  void virtual_keyword(Virtual& v, const Statement& s) {
    const std::string& k = s.keyword;
    ServiceConfig& t = v.tmpl;
    if (timing(s, v.timing, true)) return;
    if (k == "real_server") return real_server(v, s);
    no_block(s);
    if (k == "lb_algo" || k == "lvs_sched") {
      if (!want_args(s, 1, 1)) return;
      if (!is_known_scheduler(s.args[0]))
        refuse(s, "unknown scheduler '" + s.args[0] + "' (keepalived ignores it too): not imported");
      else
        t.scheduler = s.args[0];
    } else if (k == "lb_kind" || k == "lvs_method") {
      if (auto m = method(s)) v.forward = *m;
    } else if (k == "persistence_timeout") {
      if (s.args.empty()) {
        t.persistent = persistent_default_s;
      } else if (auto p = number(s, 1, 0x7fffffff)) {
        t.persistent = static_cast<std::uint32_t>(*p);
      }
    } else if (k == "persistence_granularity") {
      if (!want_args(s, 1, 1)) return;
      const std::string& g = s.args[0];
      if (g.find('.') != std::string::npos) {
        auto len = ipv4_mask_length(g);
        if (!len) {
          refuse(s, "persistence_granularity " + g +
                        " is not a contiguous netmask: vsd groups clients by a prefix; not imported");
          return;
        }
        t.persistence_netmask = static_cast<std::uint8_t>(*len);
      } else if (auto len = parse_unsigned(g, 128); len && *len >= 1) {
        t.persistence_netmask = static_cast<std::uint8_t>(*len);
      } else {
        refuse(s, "bad persistence_granularity \"" + g + "\": not imported");
        return;
      }
      if (!t.persistent) t.persistent = persistent_default_s;  // as keepalived
    } else if (k == "persistence_engine") {
      no_equivalent(s, "vsd has no persistence engines (sip); clients are grouped by address");
    } else if (k == "protocol") {
      if (!want_args(s, 1, 1)) return;
      std::string p = s.args[0];
      std::transform(p.begin(), p.end(), p.begin(), [](unsigned char c) { return std::toupper(c); });
      v.protocol_given_before = v.protocol_given;
      v.protocol_given = true;
      if (p == "TCP") {
        t.protocol = Protocol::tcp;
      } else if (p == "UDP") {
        t.protocol = Protocol::udp;
      } else if (p == "SCTP") {
        refuse(s, "protocol SCTP has no vsd equivalent: vsd balances TCP and UDP; the virtual server is not imported");
        v.refused = true;
      } else {
        refuse(s, "unknown protocol '" + s.args[0] + "' (keepalived ignores it too): not imported");
        v.protocol_given = v.protocol_given_before;  // as before this line
      }
    } else if (k == "ops") {
      t.ops = true;
    } else if (k == "hashed") {
      note(s, "'hashed' is an IPVS-internal flag with no effect; nothing to import");
    } else if (k == "flag-1" || k == "flag-2" || k == "flag-3" || k == "sh-port" || k == "sh-fallback" ||
               k == "mh-port" || k == "mh-fallback") {
      v.flags.push_back(&s);
    } else if (k == "ha_suspend") {
      t.ha_suspend = true;
      v.ha_suspend_at = &s;
    } else if (k == "smtp_alert") {
      if (auto on = flag(s); on && *on)
        no_equivalent(s, "vsd sends no email; its notify command (and quorum_up/quorum_down) can");
    } else if (k == "virtualhost") {
      if (want_args(s, 1, 1)) v.virtualhost = s.args[0];
    } else if (k == "snmp_name") {
      no_equivalent(s, "vsd has no SNMP agent; its Prometheus metrics ([metrics]) name services by VIP:PORT");
    } else if (k == "omega") {
      no_equivalent(s, "vsd runs no quorum_down or notify scripts when it stops");
    } else if (k == "quorum") {
      if (auto q = number(s, 1, 0x7fffffff)) v.quorum = *q;
    } else if (k == "hysteresis") {
      if (auto h = number(s, 0, 0x7fffffff)) v.hysteresis = *h;
    } else if (k == "quorum_up") {
      if (auto c = script(s)) t.quorum_up = *c;
    } else if (k == "quorum_down") {
      if (auto c = script(s)) t.quorum_down = *c;
    } else if (k == "ip_family") {
      if (!want_args(s, 1, 1)) return;
      if (s.args[0] != "inet" && s.args[0] != "inet6") {
        refuse(s, "ip_family must be inet or inet6: not imported");
        return;
      }
      v.ip_family_v4 = s.args[0] == "inet";
      v.ip_family_at = &s;
    } else if (k == "weight") {
      if (auto w = number(s, 1, 65535)) v.default_weight = static_cast<std::uint32_t>(*w);
    } else if (k == "sorry_server") {
      if (!want_args(s, 1, 2)) return;
      auto e = endpoint(s.args[0], s.args.size() == 2 ? &s.args[1] : nullptr);
      if (!e) {
        refuse(s, "bad sorry_server address: not imported");
        return;
      }
      t.sorry_server = *e;  // port 0: the virtual server's, as keepalived
      v.sorry_at = &s;
    } else if (k == "sorry_server_inhibit") {
      no_equivalent(s, "vsd takes the sorry server out of service (not to weight 0) once a real server is "
                       "healthy again");
    } else if (k == "sorry_server_lvs_method") {
      if (auto m = method(s)) v.sorry_forward = *m;
    } else if (k == "inhibit_on_failure") {
      if (auto on = flag(s)) v.inhibit = *on;
    } else {
      refuse(s, "unknown keyword '" + k + "' in virtual_server: not imported");
    }
  }

  // Rules that need the whole virtual_server block.
  void finish_virtual(Virtual& v) {
    ServiceConfig& t = v.tmpl;
    // Scheduler flags, by the scheduler they belong to (keepalived reads
    // them in file order against the scheduler set so far; the vsd key
    // names them explicitly).
    for (const Statement* f : v.flags) {
      std::string name = f->keyword;
      const bool sh_or_mh = t.scheduler == "sh" || t.scheduler == "mh";
      if (name == "flag-1" && sh_or_mh) name = t.scheduler + "-fallback";
      if (name == "flag-2" && sh_or_mh) name = t.scheduler + "-port";
      if (name == "flag-1" || name == "flag-2" || name == "flag-3") {
        no_equivalent(*f, "scheduler " + t.scheduler + " takes no flag " + f->keyword);
        continue;
      }
      if (!name.starts_with(t.scheduler + "-")) {
        note(*f, f->keyword + " is for the " + name.substr(0, 2) + " scheduler, not " + t.scheduler +
                     ": keepalived ignores it, and so does the import");
        continue;
      }
      if (std::find(t.scheduler_flags.begin(), t.scheduler_flags.end(), name) == t.scheduler_flags.end())
        t.scheduler_flags.push_back(name);
    }
    // Quorum: keepalived's default is 1 with hysteresis 0, which vsd's
    // quorum = 0 (off) matches unless scripts want to hear about it.
    if (v.quorum || v.hysteresis || !t.quorum_up.empty() || !t.quorum_down.empty()) {
      t.quorum = static_cast<std::uint32_t>(v.quorum.value_or(1));
      t.hysteresis = static_cast<std::uint32_t>(v.hysteresis.value_or(0));
    }
    if (v.forward) t.forward = *v.forward;
    if (v.sorry_at) {
      // keepalived's default is the virtual server's lvs_method, as vsd's.
      const ForwardMethod f = v.sorry_forward.value_or(v.forward.value_or(ForwardMethod::nat));
      if (f != v.forward.value_or(ForwardMethod::nat)) t.sorry_server_forward = f;
      if (t.quorum > 1 || t.hysteresis > 0) {
        refuse(*v.sorry_at, "sorry_server with quorum " + std::to_string(t.quorum) + " / hysteresis " +
                                std::to_string(t.hysteresis) +
                                " has no vsd equivalent: keepalived swaps every real server for the sorry server "
                                "when quorum is lost; vsd's sorry server serves only while no real server is "
                                "healthy; not imported");
        t.sorry_server.reset();
        t.sorry_server_forward.reset();
      }
    }
  }

  // One [[service]] per key: the template, the key, the real servers.
  void instantiate(const Virtual& v, const ServiceKey& key) {
    ServiceConfig s = v.tmpl;
    const Statement& at = *v.at;
    // A VIP:PORT or mark a service already has.
    if (!key.fwmark) {
      s.address = key.address;
      if (!v.protocol_given) s.protocol = Protocol::udp;
    }
    const std::string id = key.fwmark ? "FWM " + std::to_string(key.mark) : service_label(s);
    if (auto it = defined_.find(id); it != defined_.end()) {
      refuse(at, "virtual service " + id + " is already defined at " + it->second + ": this one is not imported");
      return;
    }
    defined_[id] = where(at);
    if (key.fwmark && s.ha_suspend) {
      no_equivalent(*v.ha_suspend_at, "vsd pauses the checks while this node does not hold the service's VIP, and a "
                                      "fwmark service has none (keepalived's ha_suspend does nothing there either)");
      s.ha_suspend = false;
    }
    if (key.fwmark) {
      s.fwmark = key.mark;
      s.protocol = Protocol::tcp;
      s.ops = v.tmpl.ops;
      if (v.protocol_given)
        note(at, "fwmark " + std::to_string(key.mark) +
                     ": keepalived ignores protocol for fwmark services, and so does vsd");
      note(at, "fwmark " + std::to_string(key.mark) +
                   ": vsd reads the mark at nft raw priority -300: mark packets before that (an nft chain at "
                   "priority below -300), not in iptables mangle; or list the VIP:PORT pairs as members");
    } else {
      if (!v.protocol_given) {
        note(at, "no protocol: keepalived then uses UDP (and warns); imported as UDP. Add 'protocol TCP' to "
                 "keepalived.conf if TCP was meant");
      }
      if (s.ops && s.protocol != Protocol::udp) {
        note(at, "ops is for UDP services: keepalived resets it, and so does the import");
        s.ops = false;
      }
      if (s.address.port == 0 && !s.persistent) {
        s.persistent = persistent_default_s;
        note(at, "port 0 without persistence_timeout: keepalived makes it persistent (360 s), and so does the "
                 "import");
      }
    }
    // A DR/TUN sorry server keeps the client's port: IPVS gives it the
    // service's whatever keepalived names, and so does the import.
    if (s.sorry_server && sorry_forward(s) != ForwardMethod::nat && !s.is_fwmark() && s.sorry_server->port != 0 &&
        s.sorry_server->port != s.address.port) {
      note(*v.sorry_at, "sorry_server " + s.sorry_server->to_string() + " is forwarded by " +
                            (sorry_forward(s) == ForwardMethod::dr ? "DR" : "TUN") + ", which keeps the port " +
                            std::to_string(s.address.port) + ": imported without its port");
      s.sorry_server->port = 0;
    }
    if (s.ops && s.persistent) {
      refuse(at, "ops with persistence: IPVS refuses the combination; ops is not imported");
      s.ops = false;
    }
    // The family every non-tunnel address must share.
    std::optional<bool> v4;
    if (!key.fwmark) v4 = key.address.addr.is_v4();
    for (const auto& r : v.reals)
      if (!v4 && r.forward.value_or(v.forward.value_or(ForwardMethod::nat)) != ForwardMethod::tun)
        v4 = r.address.addr.is_v4();
    if (!v4 && v.ip_family_v4) v4 = v.ip_family_v4;
    if (v.ip_family_at && v4 && v.ip_family_v4 != v4)
      refuse(*v.ip_family_at, "ip_family " + v.ip_family_at->args[0] + " does not match the virtual server's " +
                                  family_name(*v4) + " addresses: not imported");
    if (v4 && s.persistence_netmask > (*v4 ? 32 : 128)) {
      refuse(at, "persistence_granularity /" + std::to_string(s.persistence_netmask) + " is too long for " +
                     family_name(*v4) + ": not imported");
      s.persistence_netmask = 0;
    }
    if (v4 && *v4 && s.persistence_netmask == 32) s.persistence_netmask = 0;  // vsd's default
    if (v4 && !*v4 && s.persistence_netmask == 128) s.persistence_netmask = 0;
    if (s.sorry_server && v4 && s.sorry_server->addr.is_v4() != *v4) {
      refuse(*v.sorry_at, "sorry_server " + s.sorry_server->addr.to_string() + " is not " + family_name(*v4) +
                              " like the virtual server (keepalived skips it too): not imported");
      s.sorry_server.reset();
    }

    for (const auto& r : v.reals) {
      auto real = make_real(v, r, s, v4);
      if (!real) continue;
      bool duplicate = false;
      for (const auto& o : s.reals) duplicate |= o.address == real->address;
      if (duplicate) {
        note(*r.at, "real server " + real_label(s, *real) +
                        " is listed twice: keepalived keeps the first, and so does the import");
        continue;
      }
      s.reals.push_back(std::move(*real));
    }
    share_check(s);

    if (!s.check_defaults)
      for (std::size_t i = 0; i < s.reals.size(); ++i) {
        const auto checks = checks_of(s.reals[i]);
        for (std::size_t j = 0; j < checks.size(); ++j)
          real_checks_[{config_.services.size(), i}].push_back(
              health::write_check_keys(explicit_table(checks[j], j == 0)));
      }
    config_.services.push_back(std::move(s));
  }

  // ---- real_server

  void real_server(Virtual& v, const Statement& rs) {
    v.has_real_server_statement = true;
    if (rs.args.empty() || rs.args.size() > 2) {
      refuse(rs, "real_server takes IP [PORT]: not imported");
      return;
    }
    auto e = endpoint(rs.args[0], rs.args.size() == 2 ? &rs.args[1] : nullptr);
    if (!e) {
      refuse(rs, "bad real server \"" + rs.args[0] + (rs.args.size() == 2 ? " " + rs.args[1] : "") +
                     "\": keepalived skips it too; not imported");
      return;
    }
    Real r;
    r.at = &rs;
    r.address = *e;
    const Statement* notify_up = nullptr;
    const Statement* notify_down = nullptr;
    std::optional<std::string> up_cmd, down_cmd;
    std::optional<health::RunAs> up_user, down_user;
    for (const auto& s : rs.children) {
      if (s.skip) continue;
      const std::string& k = s.keyword;
      if (timing(s, r.timing, true)) continue;
      if (is_checker(k)) {
        checker(r, s);
        continue;
      }
      no_block(s);
      if (k == "weight") {
        if (auto w = number(s, 0, 65535)) r.weight = static_cast<std::uint32_t>(*w);
      } else if (k == "lvs_method") {
        if (auto m = method(s)) r.forward = *m;
      } else if (k == "uthreshold") {
        if (auto u = number(s, 0, 0x7fffffff)) r.upper = static_cast<std::uint32_t>(*u);
      } else if (k == "lthreshold") {
        if (auto l = number(s, 0, 0x7fffffff)) {
          r.lower = static_cast<std::uint32_t>(*l);
          r.lower_at = &s;
        }
      } else if (k == "inhibit_on_failure") {
        if (auto on = flag(s)) r.inhibit = *on;
      } else if (k == "notify_up") {
        notify_up = &s;
        up_cmd = script(s, &up_user);
      } else if (k == "notify_down") {
        notify_down = &s;
        down_cmd = script(s, &down_user);
      } else if (k == "smtp_alert") {
        if (auto on = flag(s); on && *on)
          no_equivalent(s, "vsd sends no email; its notify command can");
      } else if (k == "virtualhost") {
        if (want_args(s, 1, 1)) r.virtualhost = s.args[0];
      } else if (k == "snmp_name") {
        no_equivalent(s, "vsd has no SNMP agent; its Prometheus metrics name real servers by RIP:PORT");
      } else {
        refuse(s, "unknown keyword '" + k + "' in real_server: not imported");
      }
    }
    // vsd has one notify command for both transitions.
    if (up_cmd && down_cmd && *up_cmd == *down_cmd && up_user == down_user) {
      r.notify = *up_cmd;
      r.notify_user = up_user;
    } else if (up_cmd && down_cmd && *up_cmd == *down_cmd) {
      no_equivalent(*notify_down, "notify_up and notify_down run as different users; vsd's notify runs one command "
                                  "as one user (notify_user): imported without notify");
    } else if (up_cmd && down_cmd) {
      for (const Statement* s : {notify_up, notify_down})
        no_equivalent(*s, "notify_up and notify_down run different scripts; vsd's notify runs one command on "
                          "both, with up|down as its third argument: point both at a wrapper that dispatches on it");
    } else if (up_cmd || down_cmd) {
      no_equivalent(up_cmd ? *notify_up : *notify_down,
                    "vsd's notify runs its command on both transitions (with up|down as its third argument), "
                    "not on " + std::string(up_cmd ? "up" : "down") +
                        " alone: give notify_up and notify_down the same script that ignores the other state");
    }
    if (r.lower && !r.upper) {
      note(*r.lower_at, "lthreshold without uthreshold: IPVS ignores it, and so does the import");
      r.lower = 0;
    } else if (r.upper && r.lower >= r.upper) {
      refuse(*r.lower_at, "lthreshold " + std::to_string(r.lower) + " is not below uthreshold " +
                              std::to_string(r.upper) + ": vsd refuses it; not imported (IPVS's 3/4 of uthreshold)");
      r.lower = 0;
    }
    v.reals.push_back(std::move(r));
  }

  static bool is_checker(const std::string& k) {
    return k == "TCP_CHECK" || k == "HTTP_GET" || k == "SSL_GET" || k == "UDP_CHECK" || k == "PING_CHECK" ||
           k == "MISC_CHECK" || k == "SMTP_CHECK" || k == "DNS_CHECK" || k == "BFD_CHECK" || k == "FILE_CHECK";
  }

  // ---- checkers

  void checker(Real& r, const Statement& c) {
    const std::string& k = c.keyword;
    if (k == "SMTP_CHECK" || k == "BFD_CHECK") {
      no_equivalent(c, std::string("vsd's checks are tcp, http, https, udp, icmp, misc, dns and file (a MISC_CHECK "
                                   "script can do what ") + k + " does); the checker is not imported");
      return;
    }
    Checker ch;
    ch.at = &c;
    bool ok = true;
    const bool connection = k != "MISC_CHECK" && k != "FILE_CHECK";
    if (k == "TCP_CHECK") ch.type = CheckType::tcp;
    if (k == "HTTP_GET") ch.type = CheckType::http;
    if (k == "SSL_GET") ch.type = CheckType::https;
    if (k == "UDP_CHECK") ch.type = CheckType::udp;
    if (k == "PING_CHECK") ch.type = CheckType::icmp;
    if (k == "MISC_CHECK") {
      ch.type = CheckType::misc;
      ch.default_retry = 0;
    }
    if (k == "DNS_CHECK") {
      ch.type = CheckType::dns;
      ch.default_retry = 3;  // keepalived's DNS_DEFAULT_RETRY
    }
    if (k == "FILE_CHECK") {
      ch.type = CheckType::file;
      ch.default_retry = 0;
    }
    const bool http = ch.type == CheckType::http || ch.type == CheckType::https;
    bool require_reply = false;
    std::string track;
    const Statement* user_at = nullptr;
    std::optional<std::pair<std::int32_t, bool>> file_weight;
    for (const auto& s : c.children) {
      if (s.skip) continue;
      const std::string& w = s.keyword;
      if (ch.type != CheckType::file && timing(s, ch.timing, connection)) continue;
      if (w == "url" && http) {
        if (auto u = url(s)) ch.urls.push_back(std::move(*u)); else ok = false;
        continue;
      }
      no_block(s);
      if (connection && w == "connect_ip") {
        if (!want_args(s, 1, 1)) continue;
        if (auto a = IpAddress::parse(s.args[0]))
          ch.connect_ip = *a;
        else
          refuse(s, "bad connect_ip \"" + s.args[0] + "\": not imported");
      } else if (connection && w == "connect_port") {
        if (auto p = number(s, 1, 65535)) ch.connect_port = static_cast<std::uint16_t>(*p);
      } else if (connection && (w == "bindto" || w == "bind_port" || w == "bind_if" || w == "fwmark")) {
        no_equivalent(s, "vsd's checks leave from the address, port and interface the kernel picks, unmarked");
      } else if (w == "log_all_failures") {
        if (auto on = flag(s); on && *on)
          no_equivalent(s, "vsd logs each change of a server's state, not every failed check");
      } else if (http && w == "nb_get_retry") {
        if (auto v = number(s, 0, 999)) ch.timing.retry = *v;
      } else if (http && w == "http_protocol") {
        if (want_args(s, 1, 1) && s.args[0] != "1.1")
          no_equivalent(s, "vsd's HTTP check sends HTTP/1.1 with Connection: close (keepalived's 1.1), "
                           "not HTTP/" + s.args[0]);
      } else if (http && w == "virtualhost") {
        if (want_args(s, 1, 1)) ch.virtualhost = s.args[0];
      } else if (http && w == "fast_recovery") {
        note(s, "fast_recovery: vsd fetches a check's URLs one after the other in each check anyway");
      } else if (ch.type == CheckType::https && w == "enable_sni") {
        ch.enable_sni = flag(s).value_or(false);
      } else if (ch.type == CheckType::https && w == "sni_name") {
        if (want_args(s, 1, 1)) ch.sni_name = s.args[0];
      } else if (ch.type == CheckType::https && w == "tls_compliant") {
        no_equivalent(s, "vsd's https check does not send a close_notify alert before closing");
      } else if (ch.type == CheckType::udp && w == "payload") {
        auto bytes = hex_bytes(s, false);
        if (!bytes) {
          ok = false;
          continue;
        }
        ch.payload = *bytes;
      } else if (ch.type == CheckType::udp && w == "require_reply") {
        require_reply = true;
        if (!s.args.empty()) {
          auto bytes = hex_bytes(s, true);
          if (!bytes) {
            ok = false;
            continue;
          }
          ch.expect = *bytes;
        }
      } else if (ch.type == CheckType::udp && (w == "min_reply_length" || w == "max_reply_length")) {
        no_equivalent(s, "vsd's udp check judges a reply by its first bytes (expect), not by its length; "
                         "the UDP_CHECK is not imported");
        ok = false;
      } else if (ch.type == CheckType::misc && w == "misc_path") {
        if (s.args.empty()) {
          refuse(s, "misc_path needs a script: the MISC_CHECK is not imported");
          ok = false;
          continue;
        }
        // The first word may be a quoted "script args"; the others are
        // arguments, quoted again for /bin/sh -c.
        std::string cmd = s.args[0];
        for (std::size_t i = 1; i < s.args.size(); ++i) cmd += " " + shell_word(s.args[i]);
        ch.command = cmd;
      } else if (ch.type == CheckType::misc && w == "misc_timeout") {
        if (auto v = number(s, 0, 3600)) ch.misc_timeout = static_cast<double>(*v);
      } else if (ch.type == CheckType::misc && w == "misc_dynamic") {
        ch.dynamic = flag(s).value_or(false);
      } else if (ch.type == CheckType::misc && w == "user") {
        if (s.args.empty() || s.args.size() > 2) {
          refuse(s, "user takes USER [GROUP]: not imported");
          continue;
        }
        user_at = &s;
        ch.user = run_as(s, 0);
      } else if (ch.type == CheckType::dns && w == "type") {
        if (!want_args(s, 1, 1)) continue;
        if (auto t = health::dns_type_from_string(s.args[0]))
          ch.query_type = *t;
        else
          refuse(s, "unknown DNS type '" + s.args[0] + "' (keepalived uses SOA then): imported as SOA");
      } else if (ch.type == CheckType::dns && w == "name") {
        if (want_args(s, 1, 1)) ch.query_name = s.args[0];
      } else if (ch.type == CheckType::file && w == "track_file") {
        if (want_args(s, 1, 1)) track = s.args[0];
      } else if (ch.type == CheckType::file && w == "weight") {
        std::int32_t weight = 0;
        bool reverse = false;
        if (weight_args(s, 0, weight, reverse)) file_weight = std::make_pair(weight, reverse);
      } else {
        refuse(s, "unknown keyword '" + w + "' in " + k + ": not imported");
      }
    }
    if (http && ch.urls.empty() && ok) {
      refuse(c, k + " without a url (with a path): keepalived ignores the checker, and so does the import");
      ok = false;
    }
    if (ch.type == CheckType::udp && !require_reply && ok) {
      no_equivalent(c, "a UDP_CHECK without require_reply passes while no ICMP error comes back; vsd's udp check "
                       "needs a reply: the UDP_CHECK is not imported (add require_reply, or use PING_CHECK)");
      ok = false;
    }
    if (ch.type == CheckType::misc && ch.command.empty() && ok) {
      refuse(c, "MISC_CHECK without misc_path: keepalived ignores the checker, and so does the import");
      ok = false;
    }
    if (ch.type == CheckType::misc && ok && !user_at) ch.user = run_as(c, c.args.size());
    if (ch.type == CheckType::dns && ok) {
      std::string q = ch.query_name;
      if (!health::dns_query(0, q, ch.query_type)) {
        refuse(c, "DNS_CHECK name \"" + q + "\" is not a DNS name: the checker is not imported");
        ok = false;
      }
    }
    if (ch.type == CheckType::file && ok) {
      auto it = track_files_.find(track);
      if (track.empty() || it == track_files_.end()) {
        refuse(c, "FILE_CHECK " + (track.empty() ? std::string("names no track_file") : "names track_file " + track +
                                                                                      ", which is not defined") +
                      " (keepalived ignores it too): not imported");
        ok = false;
      } else {
        ch.file = it->second.path;
        // keepalived: FILE_CHECK's own weight, else the track_file's.
        ch.factor = file_weight && file_weight->first ? file_weight->first : it->second.weight;
        ch.reverse = file_weight && file_weight->first ? file_weight->second : it->second.reverse;
      }
    }
    if (ok) r.checkers.push_back(std::move(ch));
  }

  // One url { path digest status_code virtualhost }; nullopt when refused whole.
  std::optional<health::HttpUrl> url(const Statement& u) {
    health::HttpUrl out;
    bool have_path = false;
    for (const auto& s : u.children) {
      if (s.skip) continue;
      no_block(s);
      const std::string& w = s.keyword;
      if (w == "path") {
        if (!want_args(s, 1, 1)) continue;
        if (s.args[0].empty() || s.args[0][0] != '/' || s.args[0].find_first_of(" \t\r\n") != std::string::npos) {
          refuse(s, "path \"" + s.args[0] + "\" must start with '/' and hold no spaces for vsd: not imported");
          continue;
        }
        out.path = s.args[0];
        have_path = true;
      } else if (w == "digest") {
        if (!want_args(s, 1, 1)) continue;
        std::string why;
        if (auto d = health::Digest::parse(s.args[0], &why); d && d->algorithm == health::Digest::Algorithm::md5)
          out.digest = *d;
        else
          refuse(s, "digest must be 32 hex digits (genhash's MD5), got \"" + s.args[0] + "\": not imported");
      } else if (w == "status_code") {
        std::vector<int> codes;
        for (const auto& a : s.args) {
          const auto dash = a.find('-');
          auto lo = parse_unsigned(a.substr(0, dash), 599);
          auto hi = dash == std::string::npos ? lo : parse_unsigned(a.substr(dash + 1), 599);
          if (!lo || !hi || *lo < 100 || *hi < *lo) {
            refuse(s, "bad status_code \"" + a + "\" (keepalived skips it too): not imported");
            continue;
          }
          for (auto c = *lo; c <= *hi; ++c)
            if (std::find(codes.begin(), codes.end(), static_cast<int>(c)) == codes.end())
              codes.push_back(static_cast<int>(c));
        }
        std::sort(codes.begin(), codes.end());
        // 200-299 is vsd's default too (an empty list).
        bool two_hundreds = codes.size() == 100 && codes.front() == 200 && codes.back() == 299;
        if (!codes.empty() && !two_hundreds) out.status = codes;
      } else if (w == "virtualhost") {
        if (want_args(s, 1, 1)) out.virtualhost = s.args[0];
      } else if (w == "regex" || w == "regex_no_match" || w == "regex_options" || w == "regex_stack" ||
                 w == "regex_min_offset" || w == "regex_max_offset") {
        no_equivalent(s, "vsd's HTTP check judges the status code and the body's digest, not a regular expression");
      } else if (w == "tls_compliant") {
        no_equivalent(s, "vsd's https check does not send a close_notify alert before closing");
      } else {
        refuse(s, "unknown keyword '" + w + "' in url: not imported");
      }
    }
    if (!have_path) {
      refuse(u, "url without a path: keepalived ignores it, and so does the import");
      return std::nullopt;
    }
    return out;
  }

  // keepalived's free-form HEX_STR ("Ab12f 3 456": whitespace splits
  // groups, an odd group starts with one digit). A reply pattern may hold
  // X/x nibbles (any value), which vsd cannot match.
  static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  std::optional<std::string> hex_bytes(const Statement& s, bool pattern) {
    std::string bytes;
    for (const auto& group : s.args) {
      std::string g = group;
      if (g.size() % 2) g = "0" + g;
      for (std::size_t i = 0; i < g.size(); i += 2) {
        const int hi = hex_digit(g[i]), lo = hex_digit(g[i + 1]);
        if (hi < 0 || lo < 0) {
          if (pattern && (g[i] == 'x' || g[i] == 'X' || g[i + 1] == 'x' || g[i + 1] == 'X'))
            no_equivalent(s, "vsd's expect matches exact bytes, not X (any) nibbles; the UDP_CHECK is not imported");
          else
            refuse(s, "'" + s.keyword + "' holds \"" + group + "\", not hex: the UDP_CHECK is not imported");
          return std::nullopt;
        }
        bytes += static_cast<char>(hi * 16 + lo);
      }
    }
    if (bytes.empty() && !pattern) {
      refuse(s, "payload needs hex bytes: the UDP_CHECK is not imported");
      return std::nullopt;
    }
    return bytes;
  }

  // ---- building

  std::optional<RealServerConfig> make_real(const Virtual& v, const Real& r, const ServiceConfig& s,
                                            std::optional<bool> v4) {
    RealServerConfig out;
    out.where = {r.at->file, r.at->line, 0};
    out.forward = r.forward.value_or(v.forward.value_or(ForwardMethod::nat));
    if (v4 && out.forward != ForwardMethod::tun && r.address.addr.is_v4() != *v4) {
      refuse(*r.at, "real server " + r.address.addr.to_string() + " is not " + family_name(*v4) +
                        " like the virtual server and not tunnelled (keepalived skips it too): not imported");
      return std::nullopt;
    }
    out.address = r.address;
    out.weight = r.weight.value_or(v.default_weight);
    out.upper_threshold = r.upper;
    out.lower_threshold = r.lower;
    std::optional<std::uint16_t> check_port;
    // DR and TUN never change the port: IPVS sends to the service's. A port
    // given to such a real server is only where keepalived's checks go.
    if (out.forward != ForwardMethod::nat && !s.is_fwmark() && out.address.port != 0 &&
        out.address.port != s.address.port) {
      note(*r.at, "real server " + r.address.to_string() + " is forwarded by " +
                      (out.forward == ForwardMethod::dr ? "DR" : "TUN") + ", which keeps the port " +
                      std::to_string(s.address.port) + ": imported without its port, its check still goes to port " +
                      std::to_string(out.address.port));
      check_port = out.address.port;
      out.address.port = 0;
    }
    std::vector<CheckConfig> checks;
    for (std::size_t i = 0; i < r.checkers.size(); ++i) checks.push_back(make_check(v, r, r.checkers[i], check_port, i == 0));
    set_checks(out, std::move(checks));
    return out;
  }

  // A number of seconds into a check key's range; out of range is refused
  // and clamped, with the statement that set it.
  std::uint32_t ms_in_range(double seconds, double min, double max, const std::string& what, const Statement& at) {
    if (seconds < min || seconds > max) {
      const double clamped = std::clamp(seconds, min, max);
      refuse(at, what + " of " + seconds_text(seconds) + " is outside vsd's range (" + seconds_text(min) + " to " +
                     seconds_text(max) + "); imported as " + seconds_text(clamped));
      seconds = clamped;
    }
    return static_cast<std::uint32_t>(std::llround(seconds * 1000));
  }

  CheckConfig make_check(const Virtual& v, const Real& r, const Checker& ch, std::optional<std::uint16_t> port,
                         bool first) {
    const Statement& at = *ch.at;
    auto pick = [&](auto member) {
      if ((ch.timing.*member)) return ch.timing.*member;
      if ((r.timing.*member)) return r.timing.*member;
      return v.timing.*member;
    };
    CheckConfig c;
    c.type = ch.type;
    const double delay_loop = pick(&Timing::delay_loop).value_or(default_delay_loop_ms / 1000.0);
    c.interval_ms = ms_in_range(delay_loop, 0.01, 86400, "delay_loop", at);
    if (ch.type == CheckType::misc) {
      // keepalived: misc_timeout, else the virtual server's delay_loop.
      const double t = ch.misc_timeout.value_or(v.timing.delay_loop.value_or(default_delay_loop_ms / 1000.0));
      c.timeout_ms = ms_in_range(t == 0 ? v.timing.delay_loop.value_or(60) : t, 0.01, 3600, "the script timeout", at);
    } else {
      const double t = pick(&Timing::connect_timeout).value_or(default_connect_timeout_ms / 1000.0);
      c.timeout_ms = ms_in_range(t, 0.01, 3600, "connect_timeout", at);
    }
    c.rise = 1;
    c.fall = 1;
    c.retry = static_cast<std::uint32_t>(pick(&Timing::retry).value_or(ch.default_retry));
    c.retry_delay_ms = ms_in_range(pick(&Timing::delay_before_retry).value_or(1), 0, 3600, "delay_before_retry", at);
    c.warmup_ms = ms_in_range(pick(&Timing::warmup).value_or(c.interval_ms / 1000.0), 0, 86400, "warmup", at);
    c.alpha = pick(&Timing::alpha).value_or(false);
    if (ch.type == CheckType::file) {
      // keepalived follows the file by inotify: read it every second.
      c.interval_ms = 1000;
      c.warmup_ms = 0;
      c.retry = 0;
    }
    if (first) {
      c.on_failure = r.inhibit.value_or(v.inhibit) ? health::OnFailure::quiesce : health::OnFailure::remove;
      c.notify = r.notify;
      c.notify_user = r.notify_user;
    }
    c.connect_to.address = ch.connect_ip;
    c.connect_to.port = ch.connect_port ? ch.connect_port : port;
    if (ch.type == CheckType::file || ch.type == CheckType::misc) c.connect_to = {};
    // keepalived's Host: the url's virtualhost, else the checker's, the real
    // server's, the virtual server's.
    const std::string host = !ch.virtualhost.empty() ? ch.virtualhost
                             : !r.virtualhost.empty() ? r.virtualhost
                                                      : v.virtualhost;
    std::vector<health::HttpUrl> urls = ch.urls;
    for (auto& u : urls)
      if (u.virtualhost == host) u.virtualhost.clear();
    if (urls.size() == 1 && urls.front().virtualhost.empty()) {
      c.path = urls.front().path;
      c.status = urls.front().status;
      c.digest = urls.front().digest;
    } else {
      c.urls = urls;
    }
    if (ch.type == CheckType::http || ch.type == CheckType::https) c.virtualhost = host;
    if (ch.type == CheckType::https) {
      // keepalived sends SNI only with enable_sni: sni_name, else the virtualhost.
      bool any_host = !host.empty();
      for (const auto& u : urls) any_host |= !u.virtualhost.empty();
      if (ch.enable_sni.value_or(false))
        c.sni = ch.sni_name.empty() ? std::nullopt : std::optional<std::string>(ch.sni_name);
      else if (any_host || !ch.sni_name.empty())
        c.sni = "";
      c.tls_cert = tls_cert_;
      c.tls_key = tls_key_;
    }
    c.payload = ch.payload;
    c.expect = ch.expect;
    c.command = ch.command;
    c.dynamic = ch.dynamic;
    c.user = ch.user;
    c.query_type = ch.query_type;
    c.query_name = ch.query_name;
    c.file = ch.file;
    c.factor = ch.factor;
    c.reverse = ch.reverse;
    return c;
  }

  // A whole check as a table: its type's keys that differ from the
  // built-in defaults, and every timing key whatever its value.
  static CheckOverrides explicit_table(const CheckConfig& c, bool first_check = true) {
    CheckOverrides o = health::check_overrides(nullptr, c);
    o.type = c.type;
    o.interval_ms = c.interval_ms;
    o.timeout_ms = c.timeout_ms;
    o.rise = c.rise;
    o.fall = c.fall;
    o.retry = c.retry;
    o.retry_delay_ms = c.retry_delay_ms;
    o.warmup_ms = c.warmup_ms;
    o.alpha = c.alpha;
    if (!first_check) return o;
    o.on_failure = c.on_failure;
    return o;
  }

  // With a check on every real server, the service's [service.check] holds
  // every timing key explicitly (and what all of them share), so the file
  // keeps keepalived's values whatever vsd's defaults are; each real
  // server's table then only says how it differs. A service where some
  // real servers have no checker keeps each check on its server (a
  // [service.check] would give the others one).
  static void share_check(ServiceConfig& s) {
    if (s.reals.empty()) return;
    for (const auto& r : s.reals)
      if (!r.check || !r.more_checks.empty()) return;
    const CheckConfig& first = *s.reals.front().check;
    auto all = [&](auto member) {
      for (const auto& r : s.reals)
        if (!((*r.check).*member == first.*member)) return false;
      return true;
    };
    CheckOverrides o;
    o.type = first.type;
    o.interval_ms = first.interval_ms;
    o.timeout_ms = first.timeout_ms;
    o.rise = first.rise;
    o.fall = first.fall;
    o.retry = first.retry;
    o.retry_delay_ms = first.retry_delay_ms;
    o.warmup_ms = first.warmup_ms;
    o.alpha = first.alpha;
    o.on_failure = first.on_failure;
    if (all(&CheckConfig::notify) && !first.notify.empty() && all(&CheckConfig::notify_user)) {
      o.notify = first.notify;
      o.notify_user = first.notify_user;
    }
    if (all(&CheckConfig::connect_to) && !first.connect_to.empty()) o.connect_to = first.connect_to;
    const bool same_type = all(&CheckConfig::type);
    if (same_type && (first.type == CheckType::http || first.type == CheckType::https)) {
      if (all(&CheckConfig::urls) && !first.urls.empty()) {
        o.urls = first.urls;
      } else if (all(&CheckConfig::urls)) {
        if (all(&CheckConfig::path)) o.path = first.path;
        if (all(&CheckConfig::status) && !first.status.empty()) o.status = first.status;
        if (all(&CheckConfig::digest) && first.digest) o.digest = first.digest;
      }
      if (all(&CheckConfig::virtualhost) && !first.virtualhost.empty()) o.virtualhost = first.virtualhost;
      if (first.type == CheckType::https) {
        if (all(&CheckConfig::sni) && first.sni) o.sni = first.sni;
        if (all(&CheckConfig::tls_cert) && !first.tls_cert.empty()) o.tls_cert = first.tls_cert;
        if (all(&CheckConfig::tls_key) && !first.tls_key.empty()) o.tls_key = first.tls_key;
      }
    }
    if (same_type && first.type == CheckType::dns) {
      if (all(&CheckConfig::query_type)) o.query_type = first.query_type;
      if (all(&CheckConfig::query_name)) o.query_name = first.query_name;
    }
    if (same_type && first.type == CheckType::file) {
      if (all(&CheckConfig::file)) o.file = first.file;
      if (all(&CheckConfig::factor)) o.factor = first.factor;
      if (all(&CheckConfig::reverse) && first.reverse) o.reverse = first.reverse;
    }
    if (same_type && first.type == CheckType::udp) {
      if (all(&CheckConfig::payload)) o.payload = first.payload;
      if (all(&CheckConfig::expect)) o.expect = first.expect;
    }
    if (same_type && first.type == CheckType::misc) {
      if (all(&CheckConfig::command)) o.command = first.command;
      if (all(&CheckConfig::user)) o.user = first.user;
      if (all(&CheckConfig::dynamic) && first.dynamic) o.dynamic = true;
    }
    s.check_defaults = o;
  }

  ImportResult& out_;
  Config config_;
  std::map<std::string, std::pair<const Statement*, std::vector<ServiceKey>>> groups_;
  std::map<std::string, std::string> defined_;  // service id -> where
  std::set<std::string> said_;                  // each message once (group entries repeat them)
  RealCheckBodies real_checks_;
  std::map<std::string, TrackFile> track_files_;
  std::optional<health::RunAs> script_user_;
  std::string tls_cert_, tls_key_;

 public:
  const RealCheckBodies& real_checks() const { return real_checks_; }
};

}  // namespace

namespace {

ImportResult import(keepalived::Syntax syntax, const ImportOptions& options) {
  ImportResult result;
  result.errors = std::move(syntax.errors);
  result.refusals = std::move(syntax.refusals);
  result.notes = std::move(syntax.notes);
  if (!result.errors.empty()) return result;
  KeepalivedImporter importer(result);
  Config config = importer.run(syntax.top);
  if (config.services.empty())
    result.notes.push_back({syntax.files.empty() ? std::string("-") : syntax.files.front(), 0,
                            "no virtual_server to import: the file holds no LVS configuration"});
  // In the order of the files as read, then of their lines.
  auto in_file_order = [&](const Message& a, const Message& b) {
    auto rank = [&](const std::string& f) {
      return std::find(syntax.files.begin(), syntax.files.end(), f) - syntax.files.begin();
    };
    return std::make_pair(rank(a.file), a.line) < std::make_pair(rank(b.file), b.line);
  };
  std::stable_sort(result.refusals.begin(), result.refusals.end(), in_file_order);
  std::stable_sort(result.notes.begin(), result.notes.end(), in_file_order);
  finish(result, std::move(config), "keepalived", syntax.files, options, importer.real_checks());
  return result;
}

}  // namespace

ImportResult import_keepalived_file(const std::string& path, const ImportOptions& options) {
  return import(keepalived::read_file(path), options);
}

ImportResult import_keepalived_text(std::string_view text, const std::string& name, const ImportOptions& options) {
  return import(keepalived::read_text(text, name), options);
}

}  // namespace vsd::importer
