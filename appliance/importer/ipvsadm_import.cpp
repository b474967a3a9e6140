// `ipvsadm-save -n` output -> vsd.toml, offline.
//
// Each line is one ipvsadm command as ipvsadm-restore would run it, applied
// here to a Config instead of the kernel: -A / -E / -D / -C for services,
// -a / -e / -d for real servers, --set for the timeouts. ipvsadm's own rules
// hold: -a without -g/-i/-m is DR (gatewaying), weight 1; -r without a port
// takes the service's; DR and TUN real servers get the service's port; -p
// without a value is 360 s; --set 0 leaves a timeout as it was.
//
// This is its own small reader of the save format (short and long options,
// `-p` with an optional value, `--opt=value`), not vsadm's parser: that
// one is being rewritten on libpopt and lives in a room that links the
// control socket.
#include <algorithm>
#include <map>
#include <set>

#include "appliance/core/scheduler_registry.hpp"
#include "appliance/importer/import_common.hpp"
#include "appliance/toml_text.hpp"

namespace vsd::importer {
namespace {

constexpr std::uint32_t persistent_default_s = 360;  // IPVS_SVC_PERSISTENT_TIMEOUT

// Options that take a value, by their long names (short aliases below).
const std::map<std::string, std::string, std::less<>> long_names = {
    {"add-service", "A"},   {"edit-service", "E"},  {"delete-service", "D"}, {"clear", "C"},
    {"add-server", "a"},    {"edit-server", "e"},   {"delete-server", "d"},  {"tcp-service", "t"},
    {"udp-service", "u"},   {"fwmark-service", "f"}, {"ipv6", "6"},          {"scheduler", "s"},
    {"persistent", "p"},    {"netmask", "M"},       {"ops", "o"},            {"sched-flags", "b"},
    {"real-server", "r"},   {"gatewaying", "g"},    {"ipip", "i"},           {"masquerading", "m"},
    {"weight", "w"},        {"u-threshold", "x"},   {"l-threshold", "y"},    {"numeric", "n"},
    {"list", "L"},          {"save", "S"},          {"restore", "R"},        {"zero", "Z"},
    {"help", "h"},          {"version", "v"},       {"connection", "c"},     {"tun-type", "tun-type"},
    {"tun-port", "tun-port"}, {"tun-nocsum", "tun-nocsum"}, {"tun-csum", "tun-csum"},
    {"tun-remcsum", "tun-remcsum"}, {"pe", "pe"}, {"sctp-service", "sctp-service"}, {"set", "set"},
    {"start-daemon", "start-daemon"}, {"stop-daemon", "stop-daemon"}, {"mcast-interface", "mcast-interface"},
    {"syncid", "syncid"}, {"exact", "X"}, {"stats", "stats"}, {"rate", "rate"}, {"thresholds", "thresholds"},
    {"persistent-conn", "persistent-conn"}, {"sort", "sort"}, {"nosort", "nosort"}, {"timeout", "timeout"},
    {"daemon", "daemon"},
};
const std::set<std::string, std::less<>> takes_value = {"t", "u", "f", "s", "M", "b", "r", "w", "x", "y",
                                                        "tun-type", "tun-port", "pe", "sctp-service",
                                                        "start-daemon", "stop-daemon", "mcast-interface", "syncid"};
const std::set<std::string, std::less<>> commands = {"A", "E", "D", "C", "a", "e", "d", "set", "L", "S", "R",
                                                     "Z", "h", "v", "start-daemon", "stop-daemon"};

struct Option {
  std::string name;  // canonical short (or long-only) name
  std::string spelled;
  std::optional<std::string> value;
};

// What one line asks for.
struct Command {
  std::string name;
  std::string spelled;
  bool fwmark = false, ipv6 = false, tcp = true;
  std::optional<Endpoint> service;
  std::uint32_t mark = 0;
  std::optional<std::string> sched, netmask, flags, weight, upper, lower, server;
  std::optional<std::optional<std::string>> persistent;  // set: -p given; inner: its value
  bool ops = false;
  std::optional<ForwardMethod> forward;
  std::vector<std::string> timeouts;
};

std::vector<std::string> split_words(std::string_view line) {
  std::vector<std::string> out;
  std::string cur;
  bool in = false;
  char quote = 0;
  for (char c : line) {
    if (quote) {
      if (c == quote)
        quote = 0;
      else
        cur += c;
    } else if (c == '"' || c == '\'') {
      quote = c;
      in = true;
    } else if (c == ' ' || c == '\t' || c == '\r') {
      if (in) out.push_back(cur);
      cur.clear();
      in = false;
    } else {
      cur += c;
      in = true;
    }
  }
  if (in) out.push_back(cur);
  return out;
}

class IpvsadmImporter {
 public:
  IpvsadmImporter(ImportResult& out, std::string name) : out_(out), name_(std::move(name)) {}

  Config run(std::string_view text) {
    int number = 0;
    std::size_t pos = 0;
    while (pos <= text.size()) {
      std::size_t end = text.find('\n', pos);
      if (end == std::string_view::npos) end = text.size();
      std::string_view line = text.substr(pos, end - pos);
      pos = end + 1;
      ++number;
      line_ = number;
      auto words = split_words(line);
      if (words.empty() || words[0][0] == '#') continue;
      if (words[0] == "ipvsadm" || words[0].ends_with("/ipvsadm")) words.erase(words.begin());
      if (words.empty()) continue;
      apply(words);
      if (end == text.size()) break;
    }
    return std::move(config_);
  }

 private:
  void refuse(std::string text) { out_.refusals.push_back({name_, line_, std::move(text)}); }
  void note(std::string text) { out_.notes.push_back({name_, line_, std::move(text)}); }

  // The words as options; nullopt after a refusal.
  std::optional<std::vector<Option>> options(const std::vector<std::string>& words) {
    std::vector<Option> opts;
    for (std::size_t i = 0; i < words.size(); ++i) {
      const std::string& w = words[i];
      Option o;
      o.spelled = w;
      std::optional<std::string> attached;
      if (w.starts_with("--")) {
        std::string name = w.substr(2);
        if (auto eq = name.find('='); eq != std::string::npos) {
          attached = name.substr(eq + 1);
          name.resize(eq);
        }
        auto it = long_names.find(name);
        if (it == long_names.end()) {
          refuse("unknown option '" + w + "': the line is not imported");
          return std::nullopt;
        }
        o.name = it->second;
      } else if (w.size() >= 2 && w[0] == '-') {
        o.name = w.substr(1, 1);
        if (w.size() > 2) attached = w.substr(2);
        bool known = false;
        for (const auto& [l, s] : long_names) known |= s == o.name;
        if (!known) {
          refuse("unknown option '" + w + "': the line is not imported");
          return std::nullopt;
        }
        if (attached && !takes_value.contains(o.name) && o.name != "p") {
          refuse("'" + w + "': several options in one word are not taken by the importer (ipvsadm-save writes "
                 "them apart); the line is not imported");
          return std::nullopt;
        }
      } else {
        if (!opts.empty() && opts.back().name == "set") {
          opts.back().value = opts.back().value ? *opts.back().value + " " + w : w;
          continue;
        }
        refuse("unexpected word '" + w + "': the line is not imported");
        return std::nullopt;
      }
      if (o.name == "p") {
        // Optional value, as popt: attached, or the next word unless it is an option.
        if (attached)
          o.value = attached;
        else if (i + 1 < words.size() && !words[i + 1].starts_with("-"))
          o.value = words[++i];
      } else if (takes_value.contains(o.name)) {
        if (attached) {
          o.value = attached;
        } else if (i + 1 < words.size()) {
          o.value = words[++i];
        } else {
          refuse("option '" + w + "' needs a value: the line is not imported");
          return std::nullopt;
        }
      } else if (attached) {
        refuse("option '" + w + "' takes no value: the line is not imported");
        return std::nullopt;
      }
      opts.push_back(std::move(o));
    }
    return opts;
  }

  // "IP:PORT", "[IPv6]:PORT", or an address alone (port 0: the caller
  // decides what that means).
  std::optional<Endpoint> address(const std::string& text) {
    std::string why;
    if (auto e = Endpoint::parse(text, &why)) return e;
    std::string bare = text;
    if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']') bare = bare.substr(1, bare.size() - 2);
    if (auto ip = IpAddress::parse(bare)) return Endpoint{*ip, 0};
    refuse("bad address \"" + text + "\" (numeric addresses and ports only: save with ipvsadm-save -n): the line "
           "is not imported");
    return std::nullopt;
  }

  void apply(const std::vector<std::string>& words) {
    auto opts = options(words);
    if (!opts) return;
    Command c;
    for (const auto& o : *opts) {
      if (commands.contains(o.name)) {
        if (!c.name.empty()) {
          refuse("two commands (" + c.spelled + ", " + o.spelled + ") on one line: the line is not imported");
          return;
        }
        c.name = o.name;
        c.spelled = o.spelled;
        if (o.name == "set" && o.value) c.timeouts = split_words(*o.value);
        continue;
      }
      const std::string& n = o.name;
      if (n == "t" || n == "u") {
        c.tcp = n == "t";
        c.service = address(*o.value);
        if (!c.service) return;
      } else if (n == "f") {
        c.fwmark = true;
        auto m = parse_unsigned(*o.value, 0xffffffffULL);
        if (!m || *m == 0) {
          refuse("bad fwmark \"" + *o.value + "\": the line is not imported");
          return;
        }
        c.mark = static_cast<std::uint32_t>(*m);
      } else if (n == "6") {
        c.ipv6 = true;
      } else if (n == "s") {
        c.sched = o.value;
      } else if (n == "p") {
        c.persistent = o.value;
      } else if (n == "M") {
        c.netmask = o.value;
      } else if (n == "o") {
        c.ops = true;
      } else if (n == "b") {
        c.flags = o.value;
      } else if (n == "r") {
        c.server = o.value;
      } else if (n == "g") {
        c.forward = ForwardMethod::dr;
      } else if (n == "i") {
        c.forward = ForwardMethod::tun;
      } else if (n == "m") {
        c.forward = ForwardMethod::nat;
      } else if (n == "w") {
        c.weight = o.value;
      } else if (n == "x") {
        c.upper = o.value;
      } else if (n == "y") {
        c.lower = o.value;
      } else if (n == "n" || n == "X" || n == "sort" || n == "nosort" || n == "mcast-interface" ||
                 n == "syncid") {
        // listing and sync-daemon options: the command says what is refused
      } else if (n == "tun-type") {
        if (*o.value != "ipip") {
          refuse("--tun-type " + *o.value + " has no vsd equivalent: vsd tunnels with IP-in-IP (ipip) only; "
                 "the line is not imported");
          return;
        }
      } else if (n == "tun-nocsum") {
      } else if (n == "tun-port" || n == "tun-csum" || n == "tun-remcsum") {
        refuse(o.spelled + " has no vsd equivalent: vsd tunnels with IP-in-IP (ipip) only; the line is not "
                           "imported");
        return;
      } else if (n == "pe") {
        refuse("--pe " + *o.value + " has no vsd equivalent: vsd has no persistence engines (sip); the line is "
               "not imported");
        return;
      } else if (n == "sctp-service") {
        refuse("--sctp-service has no vsd equivalent: vsd balances TCP and UDP; the line is not imported");
        refused_services_.insert("sctp " + *o.value);
        return;
      } else {
        refuse("option '" + o.spelled + "' does not belong in saved rules: the line is not imported");
        return;
      }
    }
    if (c.name.empty()) {
      refuse("no command (-A, -a, ...): the line is not imported");
      return;
    }
    if (c.ipv6 && !c.fwmark) {
      refuse("-6 is for fwmark services (-f): the line is not imported");
      return;
    }
    if (c.name == "A" || c.name == "E") return add_service(c);
    if (c.name == "D") return delete_service(c);
    if (c.name == "C") {
      config_.services.clear();
      return;
    }
    if (c.name == "a" || c.name == "e") return add_real(c);
    if (c.name == "d") return delete_real(c);
    if (c.name == "set") return set_timeouts(c);
    if (c.name == "start-daemon" || c.name == "stop-daemon") {
      refuse(c.spelled + " has no vsd equivalent: vsd has no connection synchronisation daemon; the line is not "
                         "imported");
      return;
    }
    refuse(c.spelled + " does not change the table: the line is not imported");
  }

  std::string key_of(const Command& c) const {
    if (c.fwmark) return "FWM " + std::to_string(c.mark) + (c.ipv6 ? " IPv6" : "");
    return std::string(c.tcp ? "TCP " : "UDP ") + c.service->to_string();
  }

  ServiceConfig* find(const Command& c) {
    for (auto& s : config_.services) {
      if (c.fwmark) {
        if (s.fwmark == c.mark) return &s;
      } else if (!s.is_fwmark() && s.address == *c.service &&
                 s.protocol == (c.tcp ? Protocol::tcp : Protocol::udp)) {
        return &s;
      }
    }
    return nullptr;
  }

  bool has_service(const Command& c) {
    if (!c.fwmark && !c.service) {
      refuse(c.spelled + " needs a service (-t, -u or -f): the line is not imported");
      return false;
    }
    return true;
  }

  void add_service(const Command& c) {
    if (!has_service(c)) return;
    if (c.server || c.forward || c.weight || c.upper || c.lower) {
      refuse(c.spelled + " takes no real-server options (-r -g -i -m -w -x -y): the line is not imported");
      return;
    }
    ServiceConfig* existing = find(c);
    if (c.name == "A" && existing) {
      refuse("service " + key_of(c) + " is added twice (ipvsadm refuses it: File exists): the line is not imported");
      return;
    }
    if (c.name == "E" && !existing) {
      refuse("service " + key_of(c) + " does not exist (ipvsadm: No such service): the line is not imported");
      return;
    }
    ServiceConfig s = existing ? *existing : ServiceConfig{};
    if (!existing) {
      s.where = {name_, line_, 0};
      if (c.fwmark) {
        s.fwmark = c.mark;
      } else {
        s.address = *c.service;
        s.protocol = c.tcp ? Protocol::tcp : Protocol::udp;
      }
      s.scheduler = "wlc";
    }
    const bool v6 = c.fwmark ? c.ipv6 : !s.address.addr.is_v4();
    if (c.sched) {
      if (!is_known_scheduler(*c.sched)) {
        refuse("scheduler '" + *c.sched + "' has no vsd equivalent (vsd has: " + join_names(scheduler_names()) +
               "): the service is not imported");
        refused_services_.insert(key_of(c));
        return;
      }
      s.scheduler = *c.sched;
    } else if (c.name == "A") {
      s.scheduler = "wlc";
    }
    // -E gives the whole service again, as ipvsadm: unset options go back
    // to their defaults.
    s.persistent = 0;
    s.persistence_netmask = 0;
    s.ops = c.ops;
    s.scheduler_flags.clear();
    if (c.persistent) {
      if (!*c.persistent) {
        s.persistent = persistent_default_s;
      } else if (auto p = parse_unsigned(**c.persistent, 86400 * 31); p && *p >= 1) {
        s.persistent = static_cast<std::uint32_t>(*p);
      } else {
        refuse("bad persistence timeout \"" + **c.persistent + "\" (1 to 2678400): the line is not imported");
        return;
      }
    }
    if (c.netmask) {
      if (!c.persistent) {
        refuse("-M without -p: ipvsadm keeps the mask for persistence only; the mask is not imported");
      } else if (!v6) {
        auto len = ipv4_mask_length(*c.netmask);
        if (!len) {
          refuse("-M " + *c.netmask + " is not a contiguous netmask: vsd groups clients by a prefix; the line is not "
                 "imported");
          return;
        }
        s.persistence_netmask = static_cast<std::uint8_t>(*len == 32 ? 0 : *len);
      } else {
        auto len = parse_unsigned(*c.netmask, 128);
        if (!len || *len == 0) {
          refuse("-M " + *c.netmask + ": an IPv6 service takes a prefix length from 1 to 128; the line is not "
                 "imported");
          return;
        }
        s.persistence_netmask = static_cast<std::uint8_t>(*len == 128 ? 0 : *len);
      }
    }
    if (c.flags) {
      std::string list = *c.flags;
      std::size_t start = 0;
      while (start <= list.size()) {
        std::size_t comma = list.find(',', start);
        if (comma == std::string::npos) comma = list.size();
        std::string f = list.substr(start, comma - start);
        start = comma + 1;
        if (f.empty()) continue;
        const bool sh_or_mh = s.scheduler == "sh" || s.scheduler == "mh";
        if (f == "flag-1" && sh_or_mh) f = s.scheduler + "-fallback";
        if (f == "flag-2" && sh_or_mh) f = s.scheduler + "-port";
        if (!is_known_scheduler_flag(s.scheduler, f)) {
          refuse("scheduler flag '" + f + "' has no vsd equivalent for scheduler " + s.scheduler +
                 ": the flag is not imported");
          continue;
        }
        if (std::find(s.scheduler_flags.begin(), s.scheduler_flags.end(), f) == s.scheduler_flags.end())
          s.scheduler_flags.push_back(f);
      }
    }
    if (s.ops && !c.fwmark && s.protocol != Protocol::udp) {
      refuse("-o (one-packet scheduling) is for UDP services (ipvsadm refuses it): the line is not imported");
      return;
    }
    if (s.ops && s.fwmark) {
      refuse("-o on a fwmark service has no vsd equivalent: vsd's one-packet scheduling is for UDP services; "
             "the option is not imported");
      s.ops = false;
    }
    if (s.ops && s.persistent) {
      refuse("-o with -p: IPVS refuses the combination; the line is not imported");
      return;
    }
    if (!c.fwmark && s.address.port == 0 && !s.persistent) {
      refuse("port 0 without -p (ipvsadm refuses it: Zero port specified for non-persistent service): the line is "
             "not imported");
      return;
    }
    if (c.fwmark) {
      fwmark_v6_[c.mark] = c.ipv6;
      if (!existing)
        note("fwmark " + std::to_string(c.mark) + ": vsd reads the mark at nft raw priority -300: mark packets "
             "before that (nft, priority below -300), not in iptables mangle; or list the VIP:PORT pairs as "
             "members");
    }
    if (existing)
      *existing = std::move(s);
    else
      config_.services.push_back(std::move(s));
  }

  void delete_service(const Command& c) {
    if (!has_service(c)) return;
    const ServiceConfig* s = find(c);
    if (!s) {
      if (!refused_services_.contains(key_of(c)))
        refuse("service " + key_of(c) + " does not exist (ipvsadm: No such service): the line is not imported");
      return;
    }
    config_.services.erase(config_.services.begin() + (s - config_.services.data()));
  }

  void add_real(const Command& c) {
    if (!has_service(c)) return;
    if (!c.server) {
      refuse(c.spelled + " needs a real server (-r): the line is not imported");
      return;
    }
    if (c.sched || c.persistent || c.netmask || c.flags || c.ops) {
      refuse(c.spelled + " takes no service options (-s -p -M -b -o): the line is not imported");
      return;
    }
    ServiceConfig* s = find(c);
    if (!s) {
      if (!refused_services_.contains(key_of(c)))
        refuse("service " + key_of(c) + " does not exist (ipvsadm: Service not defined): the line is not imported");
      return;
    }
    auto rip = address(*c.server);
    if (!rip) return;
    RealServerConfig r;
    auto existing = std::find_if(s->reals.begin(), s->reals.end(), [&](const RealServerConfig& o) {
      return o.address.addr == rip->addr && real_port(*s, o.address.port, o.forward) ==
                                                real_port(*s, rip->port, c.forward.value_or(ForwardMethod::dr));
    });
    if (c.name == "a" && existing != s->reals.end()) {
      refuse("real server " + rip->to_string() + " is added twice to " + service_label(*s) +
             " (ipvsadm refuses it: Destination already exists): the line is not imported");
      return;
    }
    if (c.name == "e" && existing == s->reals.end()) {
      refuse("real server " + rip->to_string() + " is not in " + service_label(*s) +
             " (ipvsadm: No such destination): the line is not imported");
      return;
    }
    if (c.name == "e") r = *existing;
    r.where = {name_, line_, 0};
    // ipvsadm: DR (gatewaying) unless told; -e keeps nothing it is not given.
    r.forward = c.forward.value_or(ForwardMethod::dr);
    r.weight = 1;
    r.upper_threshold = r.lower_threshold = 0;
    if (c.weight) {
      auto w = parse_unsigned(*c.weight, 65535);
      if (!w) {
        refuse("bad weight \"" + *c.weight + "\" (0 to 65535): the line is not imported");
        return;
      }
      r.weight = static_cast<std::uint32_t>(*w);
    }
    for (auto [text, field, flag] : {std::tuple{&c.upper, &r.upper_threshold, "-x"},
                                     std::tuple{&c.lower, &r.lower_threshold, "-y"}}) {
      if (!*text) continue;
      auto v = parse_unsigned(**text, 0x7fffffff);
      if (!v) {
        refuse(std::string("bad ") + flag + " \"" + **text + "\": the line is not imported");
        return;
      }
      *field = static_cast<std::uint32_t>(*v);
    }
    if (!r.upper_threshold && r.lower_threshold) {
      note("-y without -x: IPVS ignores the lower threshold, and so does the import");
      r.lower_threshold = 0;
    } else if (r.upper_threshold && r.lower_threshold >= r.upper_threshold) {
      refuse("-y " + std::to_string(r.lower_threshold) + " is not below -x " + std::to_string(r.upper_threshold) +
             ": vsd refuses it; -y is not imported (IPVS's 3/4 of -x)");
      r.lower_threshold = 0;
    }
    r.address = Endpoint{rip->addr, real_port(*s, rip->port, r.forward)};
    const std::optional<bool> v4 = family(*s);
    if (v4 && r.forward != ForwardMethod::tun && r.address.addr.is_v4() != *v4) {
      refuse("real server " + rip->to_string() + " is not of the service's address family (only -i may mix): "
             "the line is not imported");
      return;
    }
    if (c.name == "e") {
      *existing = std::move(r);
    } else {
      s->reals.push_back(std::move(r));
    }
  }

  // ipvsadm: a real server without a port takes the service's; DR and TUN
  // always do (vsd writes that as no port).
  static std::uint16_t real_port(const ServiceConfig& s, std::uint16_t port, ForwardMethod f) {
    if (s.is_fwmark()) return port;
    if (f != ForwardMethod::nat || port == 0) return s.address.port;
    return port;
  }

  std::optional<bool> family(const ServiceConfig& s) const {
    if (!s.is_fwmark()) return s.address.addr.is_v4();
    if (auto it = fwmark_v6_.find(s.fwmark); it != fwmark_v6_.end()) return !it->second;
    return true;
  }

  void delete_real(const Command& c) {
    if (!has_service(c) || !c.server) {
      if (c.fwmark || c.service) refuse(c.spelled + " needs a real server (-r): the line is not imported");
      return;
    }
    ServiceConfig* s = find(c);
    auto rip = address(*c.server);
    if (!rip) return;
    if (!s) {
      if (!refused_services_.contains(key_of(c)))
        refuse("service " + key_of(c) + " does not exist: the line is not imported");
      return;
    }
    auto it = std::find_if(s->reals.begin(), s->reals.end(), [&](const RealServerConfig& o) {
      return o.address.addr == rip->addr &&
             (rip->port == 0 || real_port(*s, o.address.port, o.forward) == real_port(*s, rip->port, o.forward));
    });
    if (it == s->reals.end()) {
      refuse("real server " + rip->to_string() + " is not in " + service_label(*s) + ": the line is not imported");
      return;
    }
    s->reals.erase(it);
  }

  void set_timeouts(const Command& c) {
    if (c.timeouts.size() != 3) {
      refuse("--set needs three timeouts (tcp tcpfin udp): the line is not imported");
      return;
    }
    std::uint32_t* fields[] = {&config_.timeouts.tcp, &config_.timeouts.tcpfin, &config_.timeouts.udp};
    for (int i = 0; i < 3; ++i) {
      auto v = parse_unsigned(c.timeouts[i], 86400 * 30);
      if (!v) {
        refuse("bad --set timeout \"" + c.timeouts[i] + "\" (0 to 2592000): the line is not imported");
        return;
      }
      if (*v) *fields[i] = static_cast<std::uint32_t>(*v);  // 0: unchanged, as IPVS
    }
  }

  ImportResult& out_;
  std::string name_;
  int line_ = 0;
  Config config_;
  std::map<std::uint32_t, bool> fwmark_v6_;
  std::set<std::string> refused_services_;
};

}  // namespace

ImportResult import_ipvsadm_text(std::string_view text, const std::string& name, const ImportOptions& options) {
  ImportResult result;
  IpvsadmImporter importer(result, name);
  Config config = importer.run(text);
  // A real server given with its service's port is written as that port
  // (NAT) or none (DR/TUN, which cannot change it).
  for (auto& s : config.services) {
    for (auto& r : s.reals)
      if (!s.is_fwmark() && r.forward != ForwardMethod::nat) r.address.port = 0;
    // vsd knows a fwmark service's family from its members or real servers.
    if (s.is_fwmark() && s.reals.empty() && s.persistence_netmask > 32) {
      result.refusals.push_back({name, s.where.line,
                                 "-M " + std::to_string(s.persistence_netmask) + " on IPv6 fwmark service " +
                                     std::to_string(s.fwmark) + " without real servers: vsd takes the family from "
                                     "its real servers; the mask is not imported"});
      s.persistence_netmask = 0;
    }
  }
  if (config.services.empty())
    result.notes.push_back({name, 0, "no services (-A lines) to import"});
  finish(result, std::move(config), "ipvsadm", {name}, options);
  return result;
}

}  // namespace vsd::importer
