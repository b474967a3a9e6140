#include "appliance/vsadm/ipvsadm_args.hpp"

#include <arpa/inet.h>
#include <popt.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <iterator>

namespace vsd {
namespace {

constexpr std::uint32_t kMaxTimeout = 86400 * 31;        // ipvsadm's MAX_TIMEOUT
constexpr std::uint32_t kDefaultPersistence = 6 * 60;    // IPVS_SVC_PERSISTENT_TIMEOUT

// ipvsadm reports a bad command line with fail(), which prints and exits;
// here it unwinds to parse_ipvsadm_args, which turns it into the result.
struct Fail {
  std::string message;
  int code;
  bool popt = false;  // popt's own error: ipvsadm returns -1 rather than exiting
};
[[noreturn]] void fail(std::string message, int code = 2) { throw Fail{std::move(message), code}; }

enum Id : int {
  kAddService, kEditService, kDeleteService, kClear, kList, kZero, kAddServer, kEditServer,
  kDeleteServer, kSet, kHelp, kVersion, kRestore, kSave, kGarp, kReload, kSaveToml,
  kTcp, kUdp, kFwmark, kScheduler, kPersistent, kNetmask, kReal, kMasq, kIpip, kGate, kWeight,
  kUThreshold, kLThreshold, kNumeric, kConnection, kTimeout, kDaemon, kStats, kRate, kThresholds,
  kPersistConn, kSort, kNoSort, kExact, kIpv6, kOps, kSchedFlags, kTunType,
  kUnsupported, kJson, kSocket, kRestoreMode, kReplace,
  kStartDaemon, kStopDaemon, kMcastInterface, kSyncId, kReason,
};
enum class Arg : std::uint8_t { none, required, optional };
struct Spec {
  std::string_view name;
  char short_name;
  Arg arg;
  Id id;
};

// ipvsadm 1.31's option table, then vsd's own options.
constexpr Spec kSpecs[] = {
    {"add-service", 'A', Arg::none, kAddService},
    {"edit-service", 'E', Arg::none, kEditService},
    {"delete-service", 'D', Arg::none, kDeleteService},
    {"clear", 'C', Arg::none, kClear},
    {"list", 'L', Arg::none, kList},
    {"list", 'l', Arg::none, kList},
    {"zero", 'Z', Arg::none, kZero},
    {"add-server", 'a', Arg::none, kAddServer},
    {"edit-server", 'e', Arg::none, kEditServer},
    {"delete-server", 'd', Arg::none, kDeleteServer},
    {"set", 0, Arg::none, kSet},
    {"help", 'h', Arg::none, kHelp},
    {"version", 'v', Arg::none, kVersion},
    {"restore", 'R', Arg::none, kRestore},
    {"save", 'S', Arg::none, kSave},
    {"tcp-service", 't', Arg::required, kTcp},
    {"udp-service", 'u', Arg::required, kUdp},
    {"fwmark-service", 'f', Arg::required, kFwmark},
    {"scheduler", 's', Arg::required, kScheduler},
    {"persistent", 'p', Arg::optional, kPersistent},
    {"netmask", 'M', Arg::required, kNetmask},
    {"real-server", 'r', Arg::required, kReal},
    {"masquerading", 'm', Arg::none, kMasq},
    {"ipip", 'i', Arg::none, kIpip},
    {"gatewaying", 'g', Arg::none, kGate},
    {"weight", 'w', Arg::required, kWeight},
    {"u-threshold", 'x', Arg::required, kUThreshold},
    {"l-threshold", 'y', Arg::required, kLThreshold},
    {"numeric", 'n', Arg::none, kNumeric},
    {"connection", 'c', Arg::none, kConnection},
    {"timeout", 0, Arg::none, kTimeout},
    {"daemon", 0, Arg::none, kDaemon},
    {"stats", 0, Arg::none, kStats},
    {"rate", 0, Arg::none, kRate},
    {"thresholds", 0, Arg::none, kThresholds},
    {"persistent-conn", 0, Arg::none, kPersistConn},
    {"nosort", 0, Arg::none, kNoSort},
    {"sort", 0, Arg::none, kSort},
    {"exact", 'X', Arg::none, kExact},
    {"ipv6", '6', Arg::none, kIpv6},
    {"ops", 'o', Arg::none, kOps},
    {"sched-flags", 'b', Arg::required, kSchedFlags},
    // The sync daemon: the pair's sync from [ha] (README "A director pair").
    {"start-daemon", 0, Arg::required, kStartDaemon},
    {"stop-daemon", 0, Arg::required, kStopDaemon},
    {"mcast-interface", 0, Arg::required, kMcastInterface},
    {"syncid", 0, Arg::required, kSyncId},
    // ipvsadm options with nothing behind them in vsd (SCTP, persistence
    // engines, multicast tuning of a sync vsd sends to its peer, GUE/GRE
    // tunnels).
    {"sctp-service", 0, Arg::required, kUnsupported},
    {"pe", 0, Arg::required, kUnsupported},
    {"mcast-group", 0, Arg::required, kUnsupported},
    {"mcast-port", 0, Arg::required, kUnsupported},
    {"mcast-ttl", 0, Arg::required, kUnsupported},
    {"sync-maxlen", 0, Arg::required, kUnsupported},
    {"tun-info", 0, Arg::none, kUnsupported},
    {"tun-type", 0, Arg::required, kTunType},  // only ipip, which -S writes
    {"tun-port", 0, Arg::required, kUnsupported},
    {"tun-nocsum", 0, Arg::none, kUnsupported},
    {"tun-csum", 0, Arg::none, kUnsupported},
    {"tun-remcsum", 0, Arg::none, kUnsupported},
    {"json", 0, Arg::none, kJson},
    {"socket", 0, Arg::required, kSocket},
    {"garp", 0, Arg::none, kGarp},
    {"reload", 0, Arg::none, kReload},
    {"save-toml", 0, Arg::none, kSaveToml},
    {"restore-mode", 0, Arg::required, kRestoreMode},
    {"replace", 0, Arg::none, kReplace},
    {"reason", 0, Arg::required, kReason},
};

// libpopt over ipvsadm's option table: popt's rules are ipvsadm's rules.
// The table has no arg pointers: each option's value (its index in kSpecs
// plus one) comes back from poptGetNextOpt and its argument from
// poptGetOptArg, as ipvsadm's `optarg` would hold it.
const poptOption* popt_table() {
  static const std::vector<poptOption> table = [] {
    std::vector<poptOption> t;
    for (std::size_t i = 0; i < std::size(kSpecs); ++i) {
      const Spec& s = kSpecs[i];
      unsigned info = s.arg == Arg::none       ? POPT_ARG_NONE
                      : s.arg == Arg::required ? POPT_ARG_STRING
                                               : POPT_ARG_STRING | POPT_ARGFLAG_OPTIONAL;
      t.push_back({s.name.data(), s.short_name, info, nullptr, static_cast<int>(i + 1), nullptr, nullptr});
    }
    t.push_back(POPT_TABLEEND);
    return t;
  }();
  return table.data();
}

class Popt {
 public:
  Popt(const std::vector<std::string>& args, std::string_view program) : program_(program) {
    argv_.push_back(program_.c_str());
    for (const auto& a : args) argv_.push_back(a.c_str());
    argv_.push_back(nullptr);
    con_ = poptGetContext("vsadm", static_cast<int>(argv_.size() - 1), argv_.data(), popt_table(), 0);
  }
  ~Popt() { poptFreeContext(con_); }
  Popt(const Popt&) = delete;
  Popt& operator=(const Popt&) = delete;

  // True with spec/arg set; false at the end or on a popt error (error() set).
  bool next(const Spec*& spec, std::optional<std::string>& arg) {
    arg.reset();
    if (done_) return false;
    int rc = poptGetNextOpt(con_);
    if (rc < 0) {
      done_ = true;
      if (rc < -1) error_ = bad_option() + ": " + poptStrerror(rc);
      return false;
    }
    spec = &kSpecs[rc - 1];
    if (char* a = poptGetOptArg(con_)) {
      arg = a;
      std::free(a);
    }
    return true;
  }

  // The word of the option last read (or of the error): ipvsadm's
  // poptBadOption(context, POPT_BADOPTION_NOALIAS).
  std::string bad_option() const {
    const char* bad = poptBadOption(con_, POPT_BADOPTION_NOALIAS);
    return bad ? bad : "";
  }
  const std::string& error() const { return error_; }
  // The non-option words (poptGetArg), once options are read.
  std::vector<std::string> leftovers() {
    if (!leftovers_) {
      leftovers_.emplace();
      while (const char* a = poptGetArg(con_)) leftovers_->push_back(a);
    }
    return *leftovers_;
  }

 private:
  std::string program_;
  std::vector<const char*> argv_;
  poptContext con_ = nullptr;
  bool done_ = false;
  std::string error_;
  std::optional<std::vector<std::string>> leftovers_;
};

// Columns of ipvsadm's legal-options table, in its order (its names are
// what the messages print).
enum Optc : int {
  c_numeric, c_connection, c_service, c_scheduler, c_persistent, c_netmask, c_server, c_forward,
  c_weight, c_uthreshold, c_lthreshold, c_mcast, c_timeout, c_daemon, c_stats, c_rate,
  c_thresholds, c_persistentconn, c_nosort, c_syncid, c_exact, c_ops, c_pe, c_sched_flags,
  c_tun_type,  // ipvsadm has mcast options before it; vsd has none of those
  kOptCount
};
constexpr const char* kOptNames[kOptCount] = {
    "numeric", "connection", "service-address", "scheduler", "persistent", "netmask",
    "real-server", "forwarding-method", "weight", "u-threshold", "l-threshold",
    "mcast-interface", "timeout", "daemon", "stats", "rate", "thresholds", "persistent-conn",
    "nosort", "syncid", "exact", "ops", "pe", "sched-flags", "tun-type"};

// '+' required, 'x' illegal, '1' at most one of the '1's, ' ' optional.
const char* legal_options(IpvsadmOp op) {
  switch (op) {
    case IpvsadmOp::add_service:
    case IpvsadmOp::edit_service: return "xx+   xxxxxxxxxxxxxxx   x";
    case IpvsadmOp::delete_service: return "xx+xxxxxxxxxxxxxxxxxxxxxx";
    case IpvsadmOp::list: return " 11xxxxxxxxx11       xxxx";
    case IpvsadmOp::add_server:
    case IpvsadmOp::edit_server: return "xx+xxx+    xxxxxxxxxxxxx ";
    case IpvsadmOp::delete_server: return "xx+xxx+xxxxxxxxxxxxxxxxxx";
    case IpvsadmOp::save: return " xxxxxxxxxxxxxxxxxxxxxxxx";
    case IpvsadmOp::zero: return "xx xxxxxxxxxxxxxxxxxxxxxx";
    case IpvsadmOp::start_daemon: return "xxxxxxxxxxx xxxxxxx xxxxx";
    default: return "xxxxxxxxxxxxxxxxxxxxxxxxx";  // -C, --set, -R and vsd's own
  }
}

bool all_digits(const std::string& s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;  // "" too, as ipvsadm's str_is_digit
}

// ipvsadm's string_to_number: the whole word, base 10, within [min, max].
std::optional<long> string_to_number(const std::string& s, long min, long max) {
  errno = 0;
  char* end = nullptr;
  long n = std::strtol(s.c_str(), &end, 10);
  if (end == s.c_str() || *end != '\0' || errno == ERANGE || n < min || n > max) return std::nullopt;
  return n;
}

std::uint32_t parse_timeout(const std::optional<std::string>& arg, long min) {
  if (!arg) return kDefaultPersistence;  // bare -p
  auto n = string_to_number(*arg, min, kMaxTimeout);
  if (!n) fail("invalid timeout value `" + *arg + "' specified");
  return static_cast<std::uint32_t>(*n);
}

struct HostPort {
  IpAddress addr;
  std::optional<std::uint16_t> port;
};

// ipvsadm's parse_service: "[v6]:port", a bare IPv6 literal (no port), or
// "v4-or-name[:port]"; ports by number or by /etc/services name.
std::optional<HostPort> parse_host_port(std::string buf, const std::string& proto,
                                        const NameResolver& names) {
  if (all_digits(buf)) return std::nullopt;
  std::optional<std::string> port;
  if (buf[0] == '[') {
    auto close = buf.find(']');
    if (close == std::string::npos || close + 1 >= buf.size() || buf[close + 1] != ':')
      return std::nullopt;
    port = buf.substr(close + 2);
    buf = buf.substr(1, close - 1);
  }
  HostPort out;
  std::uint8_t raw[16];
  if (inet_pton(AF_INET6, buf.c_str(), raw) == 1) {
    out.addr = IpAddress::v6(raw);
  } else {
    // Not IPv6: "host:port" (ipvsadm would drop the port of "[host]:port";
    // vsadm keeps it).
    if (auto colon = buf.rfind(':'); colon != std::string::npos) {
      port = buf.substr(colon + 1);
      buf.resize(colon);
    }
    in_addr in{};
    if (inet_aton(buf.c_str(), &in) != 0)
      out.addr = IpAddress::v4(reinterpret_cast<const std::uint8_t*>(&in));
    else if (auto a = names.host_to_ipv4(buf))
      out.addr = *a;
    else
      return std::nullopt;
  }
  if (port) {
    if (auto n = string_to_number(*port, 0, 65535))
      out.port = static_cast<std::uint16_t>(*n);
    else if (auto p = names.service_to_port(*port, proto))
      out.port = *p;
    else
      return std::nullopt;
  }
  return out;
}

std::optional<std::uint8_t> mask_to_prefix(std::uint32_t mask) {  // host order
  std::uint8_t prefix = 0;
  while (prefix < 32 && (mask & (0x80000000u >> prefix))) ++prefix;
  std::uint32_t expect = prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
  if (mask != expect) return std::nullopt;  // vsd keeps prefix lengths only
  return prefix;
}

class Parser {
 public:
  explicit Parser(const NameResolver& names) : names_(names) {}

  IpvsadmCommand parse(const std::vector<std::string>& args, std::string_view program) {
    Popt popt(args, program);
    const Spec* spec = nullptr;
    std::optional<std::string> arg;
    // The command must be the first option (ipvsadm); vsd's --json,
    // --socket, --restore-mode and --replace may go anywhere. No command at
    // all lists, as ipvsadm with no arguments.
    bool have_command = false;
    while (popt.next(spec, arg)) {
      if (global(spec->id, arg)) continue;
      if (spec->id == kUnsupported) unsupported(*spec);
      if (!command(spec->id)) try_help(program);
      if (cmd_.op == IpvsadmOp::start_daemon || cmd_.op == IpvsadmOp::stop_daemon) daemon_state(arg);
      have_command = true;
      break;
    }
    if (!have_command) {
      if (!popt.error().empty() || !popt.leftovers().empty()) try_help(program);
      vsd_options();
      return cmd_;
    }
    if (cmd_.op == IpvsadmOp::help || cmd_.op == IpvsadmOp::version) {
      // ipvsadm stops reading here; vsadm still takes --json and --socket,
      // which -v uses to reach the daemon, and ignores everything else.
      while (popt.next(spec, arg))
        if (spec->id == kJson || spec->id == kSocket) global(spec->id, arg);
      return cmd_;
    }

    while (popt.next(spec, arg)) option(*spec, arg, popt);
    deferred();
    if (!popt.error().empty()) throw Fail{popt.error(), 255, true};

    std::vector<std::string> leftovers = popt.leftovers();
    if (cmd_.op == IpvsadmOp::set_timeouts) {
      if (leftovers.size() < 3) fail("--set option requires 3 timeout values");
      cmd_.tcp_timeout = parse_timeout(leftovers[0], 0);
      cmd_.tcpfin_timeout = parse_timeout(leftovers[1], 0);
      cmd_.udp_timeout = parse_timeout(leftovers[2], 0);
      leftovers.erase(leftovers.begin(), leftovers.begin() + 3);
    }
    if (!leftovers.empty()) fail("unexpected argument " + leftovers.front());
    if (flags_arg_) sched_flags(*flags_arg_);
    check_options();
    vsd_options();
    semantics();
    return cmd_;
  }

  RestoreMode restore_mode() const { return restore_mode_; }
  bool restore_replace() const { return replace_; }

 private:
  [[noreturn]] static void try_help(std::string_view program) { fail(ipvsadm_try_help(program), 255); }

  [[noreturn]] static void unsupported(const Spec& spec) {
    fail("option `--" + std::string(spec.name) + "' is not supported by vsd");
  }

  // vsd's own options that go anywhere on the line; false for any other.
  bool global(Id id, const std::optional<std::string>& arg) {
    switch (id) {
      case kJson: cmd_.json = true; return true;
      case kSocket: cmd_.socket = *arg; return true;
      case kRestoreMode:
        if (*arg == "atomic")
          restore_mode_ = RestoreMode::atomic;
        else if (*arg == "lines")
          restore_mode_ = RestoreMode::lines;
        else
          fail("illegal restore mode `" + *arg + "' specified (atomic or lines)");
        restore_options_ = true;
        return true;
      case kReplace:
        replace_ = true;
        restore_options_ = true;
        return true;
      case kReason:
        cmd_.reason = *arg;
        reason_ = true;
        return true;
      default: return false;
    }
  }

  // --restore-mode and --replace belong to -R.
  // --reason belongs to --start-daemon and --stop-daemon.
  void vsd_options() const {
    if (restore_options_ && cmd_.op != IpvsadmOp::restore)
      fail(std::string("Illegal '") + (replace_ ? "replace" : "restore-mode") + "' option with the '" +
           ipvsadm_op_name(cmd_.op) + "' command");
    if (reason_ && cmd_.op != IpvsadmOp::start_daemon && cmd_.op != IpvsadmOp::stop_daemon)
      fail(std::string("Illegal 'reason' option with the '") + ipvsadm_op_name(cmd_.op) + "' command");
  }

  // ipvsadm's parse of --start-daemon / --stop-daemon's STATE.
  void daemon_state(const std::optional<std::string>& arg) {
    if (!arg || (*arg != "master" && *arg != "backup"))
      fail(std::string("illegal ") + ipvsadm_op_name(cmd_.op) + " parameter specified");
    cmd_.daemon_state = *arg;
  }

  bool command(Id id) {
    static constexpr std::pair<Id, IpvsadmOp> kCommands[] = {
        {kAddService, IpvsadmOp::add_service}, {kEditService, IpvsadmOp::edit_service},
        {kDeleteService, IpvsadmOp::delete_service}, {kClear, IpvsadmOp::clear},
        {kList, IpvsadmOp::list}, {kZero, IpvsadmOp::zero},
        {kAddServer, IpvsadmOp::add_server}, {kEditServer, IpvsadmOp::edit_server},
        {kDeleteServer, IpvsadmOp::delete_server}, {kSet, IpvsadmOp::set_timeouts},
        {kHelp, IpvsadmOp::help}, {kVersion, IpvsadmOp::version},
        {kRestore, IpvsadmOp::restore}, {kSave, IpvsadmOp::save},
        {kGarp, IpvsadmOp::garp}, {kReload, IpvsadmOp::reload},
        {kSaveToml, IpvsadmOp::save_toml}, {kStartDaemon, IpvsadmOp::start_daemon},
        {kStopDaemon, IpvsadmOp::stop_daemon}};
    for (auto [cid, op] : kCommands)
      if (cid == id) {
        cmd_.op = op;
        return true;
      }
    return false;
  }

  void set_option(Optc c) {
    auto bit = 1ull << c;
    if (options_ & bit) fail(std::string("multiple '") + kOptNames[c] + "' options specified");
    options_ |= bit;
  }
  bool has(Optc c) const { return options_ & (1ull << c); }

  void option(const Spec& spec, const std::optional<std::string>& arg, const Popt& popt) {
    if (global(spec.id, arg)) return;
    switch (spec.id) {
      case kTcp:
      case kUdp: {
        set_option(c_service);
        IpvsadmService svc;
        svc.protocol = spec.id == kTcp ? Protocol::tcp : Protocol::udp;
        auto hp = parse_host_port(*arg, to_string(svc.protocol), names_);
        if (!hp) fail("illegal virtual server address[:port] specified");
        svc.address = Endpoint{hp->addr, hp->port.value_or(0)};
        cmd_.service = svc;
        break;
      }
      case kFwmark: {
        set_option(c_service);
        errno = 0;
        char* end = nullptr;
        unsigned long long n = std::strtoull(arg->c_str(), &end, 10);
        if (end == arg->c_str() || *end != '\0' || errno == ERANGE || n == 0 || n > UINT_MAX ||
            (*arg)[0] == '-')
          fail("invalid fwmark value `" + *arg + "' specified");
        IpvsadmService svc;
        svc.fwmark = static_cast<std::uint32_t>(n);
        cmd_.service = svc;
        break;
      }
      case kScheduler:
        set_option(c_scheduler);
        cmd_.scheduler = *arg;
        break;
      case kPersistent:
        set_option(c_persistent);
        cmd_.persistent = parse_timeout(arg, 1);
        break;
      case kNetmask:
        set_option(c_netmask);
        netmask_arg_ = *arg;
        break;
      case kReal:
        set_option(c_server);
        real_arg_ = *arg;
        break;
      case kMasq:
      case kIpip:
      case kGate:
        set_option(c_forward);
        cmd_.forward = spec.id == kMasq   ? ForwardMethod::nat
                       : spec.id == kIpip ? ForwardMethod::tun
                                          : ForwardMethod::dr;
        break;
      case kWeight:
        set_option(c_weight);
        cmd_.weight = number(*arg, 65535, "illegal weight specified");
        break;
      case kUThreshold:
        set_option(c_uthreshold);
        cmd_.upper_threshold = number(*arg, INT_MAX, "illegal u_threshold specified");
        break;
      case kLThreshold:
        set_option(c_lthreshold);
        cmd_.lower_threshold = number(*arg, INT_MAX, "illegal l_threshold specified");
        break;
      case kNumeric: set_option(c_numeric); cmd_.list.numeric = true; break;
      case kConnection: set_option(c_connection); cmd_.list.connections = true; break;
      case kTimeout: set_option(c_timeout); cmd_.list.timeout = true; break;
      case kDaemon: set_option(c_daemon); cmd_.list.daemon = true; break;
      case kStats: set_option(c_stats); cmd_.list.stats = true; break;
      case kRate: set_option(c_rate); cmd_.list.rate = true; break;
      case kThresholds: set_option(c_thresholds); cmd_.list.thresholds = true; break;
      case kPersistConn: set_option(c_persistentconn); cmd_.list.persistent_conn = true; break;
      case kNoSort: set_option(c_nosort); cmd_.list.nosort = true; break;
      case kSort: break;  // sorting is the default; kept for old scripts
      case kExact: set_option(c_exact); cmd_.list.exact = true; break;
      case kIpv6:
        if (!cmd_.service || !cmd_.service->is_fwmark()) fail("-6 used before -f");
        cmd_.service->ipv6 = true;
        break;
      case kOps:
        set_option(c_ops);
        cmd_.ops = true;
        break;
      case kSchedFlags:
        set_option(c_sched_flags);
        flags_arg_ = *arg;
        break;
      case kTunType:
        set_option(c_tun_type);
        if (*arg == "gue" || *arg == "gre") fail("tunnel type `" + *arg + "' is not supported by vsd");
        if (*arg != "ipip") fail("illegal tunnel type specified");
        break;
      case kMcastInterface:
        set_option(c_mcast);
        // IFNAMSIZ less its NUL, as ipvsadm checks it.
        if (arg->empty() || arg->size() > 15) fail("illegal multicast interface name specified");
        cmd_.mcast_interface = *arg;
        break;
      case kSyncId:
        set_option(c_syncid);
        cmd_.syncid = number(*arg, 255, "illegal syncid specified");
        break;
      case kUnsupported: unsupported(spec);
      default: fail("invalid option `" + popt.bad_option() + "'");  // a second command, -h, -v
    }
  }

  static std::uint32_t number(const std::string& s, long max, const char* message) {
    auto n = string_to_number(s, 0, max);
    if (!n) fail(message);
    return static_cast<std::uint32_t>(*n);
  }

  // -M and -r depend on the service's family, protocol and port, which may
  // come later on the line; ipvsadm reads them as they come.
  void deferred() {
    if (netmask_arg_) {
      const std::string& m = *netmask_arg_;
      if (cmd_.service && cmd_.service->is_ipv6()) {
        int n = std::atoi(m.c_str());
        if (n < 1 || n > 128) fail("illegal ipv6 netmask specified");
        cmd_.netmask = static_cast<std::uint8_t>(n);
      } else {
        std::optional<std::uint32_t> mask;
        in_addr in{};
        if (inet_aton(m.c_str(), &in) != 0)
          mask = ntohl(in.s_addr);
        else if (auto a = names_.host_to_ipv4(m))
          mask = (std::uint32_t{a->v4_bytes()[0]} << 24) | (std::uint32_t{a->v4_bytes()[1]} << 16) |
                 (std::uint32_t{a->v4_bytes()[2]} << 8) | a->v4_bytes()[3];
        auto prefix = mask ? mask_to_prefix(*mask) : std::nullopt;
        if (!prefix || *prefix == 0) fail("illegal virtual server persistent mask specified");
        cmd_.netmask = *prefix;
      }
    }
    if (real_arg_) {
      std::string proto;
      if (cmd_.service) proto = cmd_.service->is_fwmark() ? "tcp" : to_string(cmd_.service->protocol);
      auto hp = parse_host_port(*real_arg_, proto, names_);
      if (!hp) fail("illegal real server address[:port] specified");
      std::uint16_t svc_port = cmd_.service ? cmd_.service->address.port : 0;
      cmd_.real = Endpoint{hp->addr, hp->port.value_or(svc_port)};
    }
  }

  void sched_flags(const std::string& text) {
    unsigned bits = 0;
    std::size_t pos = 0;
    while (pos <= text.size()) {
      auto comma = text.find(',', pos);
      std::string flag = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      pos = comma == std::string::npos ? text.size() + 1 : comma + 1;
      if (flag.empty()) continue;
      static constexpr struct {
        const char* name;
        unsigned bit;
        const char* scheduler;  // nullptr: any
      } kFlags[] = {{"flag-1", 1, nullptr},     {"flag-2", 2, nullptr},   {"flag-3", 4, nullptr},
                    {"sh-fallback", 1, "sh"},   {"sh-port", 2, "sh"},     {"mh-fallback", 1, "mh"},
                    {"mh-port", 2, "mh"}};
      bool known = false;
      for (const auto& f : kFlags) {
        if (flag != f.name) continue;
        if (f.scheduler && cmd_.scheduler != f.scheduler)
          fail("incompatible scheduler flag `" + flag + "'");
        bits |= f.bit;
        known = true;
      }
      if (!known) fail("invalid scheduler flag `" + flag + "'");
    }
    cmd_.scheduler_flags = sched_flag_names(cmd_.scheduler, bits);
  }

  void check_options() const {
    const char* row = legal_options(cmd_.op);
    const char* name = ipvsadm_op_name(cmd_.op);
    int count = 0, last = 0;
    for (int j = 0; j < kOptCount; ++j) {
      if (!has(static_cast<Optc>(j))) {
        if (row[j] == '+')
          fail(std::string("You need to supply the '") + kOptNames[j] + "' option for the '" + name +
               "' command");
        continue;
      }
      if (row[j] == 'x')
        fail(std::string("Illegal '") + kOptNames[j] + "' option with the '" + name + "' command");
      if (row[j] == '1' && ++count > 1)
        fail(std::string("The option '") + kOptNames[j] + "' conflicts with the '" +
             kOptNames[last] + "' option in the '" + name + "' command");
      if (row[j] == '1') last = j;
    }
  }

  void semantics() {
    const auto& svc = cmd_.service;
    switch (cmd_.op) {
      case IpvsadmOp::add_service:
      case IpvsadmOp::edit_service:
        if (!svc->is_fwmark() && svc->address.port == 0 && cmd_.persistent == 0)
          fail("Zero port specified for non-persistent service");
        if (cmd_.ops && !svc->is_fwmark() && svc->protocol != Protocol::udp)
          fail("One-Packet Scheduling is only for UDP virtual services");
        break;
      case IpvsadmOp::add_server:
      case IpvsadmOp::edit_server:
        // DR and TUN cannot change the port: the packet keeps the VIP's.
        if (!svc->is_fwmark() && cmd_.forward != ForwardMethod::nat)
          cmd_.real->port = svc->address.port;
        if (cmd_.real->addr.is_v4() == svc->is_ipv6() && cmd_.forward != ForwardMethod::tun)
          fail("Different address family is allowed only for tunneling servers");
        if (has(c_tun_type) && cmd_.forward != ForwardMethod::tun)
          fail("Tunnel options conflict with forward method");
        break;
      case IpvsadmOp::list: {
        const auto& l = cmd_.list;
        if (((l.connections || l.timeout || l.daemon) && (l.stats || l.rate || l.thresholds)) ||
            ((l.timeout || l.daemon) && l.persistent_conn))
          fail("options conflicts in the list command");
        break;
      }
      default: break;
    }
  }

  const NameResolver& names_;
  IpvsadmCommand cmd_;
  unsigned long long options_ = 0;
  std::optional<std::string> netmask_arg_, real_arg_, flags_arg_;
  RestoreMode restore_mode_ = RestoreMode::atomic;
  bool replace_ = false, restore_options_ = false, reason_ = false;
};

bool restorable(IpvsadmOp op) {
  switch (op) {
    case IpvsadmOp::add_service: case IpvsadmOp::edit_service: case IpvsadmOp::delete_service:
    case IpvsadmOp::clear: case IpvsadmOp::add_server: case IpvsadmOp::edit_server:
    case IpvsadmOp::delete_server: case IpvsadmOp::set_timeouts:
      return true;
    default: return false;
  }
}

std::string plural(std::size_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

}  // namespace

IpvsadmParse parse_ipvsadm_args(const std::vector<std::string>& args, const NameResolver& names,
                                std::string_view program) {
  IpvsadmParse result;
  Parser parser(names);
  try {
    result.command = parser.parse(args, program);
    result.restore_mode = parser.restore_mode();
    result.restore_replace = parser.restore_replace();
  } catch (const Fail& f) {
    result.error = f.message;
    result.exit_code = f.code;
    result.popt_error = f.popt;
  }
  return result;
}

std::vector<std::string> ipvsadm_restore_words(std::string_view line) {
  std::vector<std::string> words;
  std::size_t i = 0;
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (i < line.size()) {
    while (i < line.size() && space(line[i])) ++i;
    std::size_t start = i;
    while (i < line.size() && !space(line[i])) ++i;
    std::string_view word = line.substr(start, i - start);
    if (word.empty() || word == "ipvsadm" || word == "vsadm") continue;
    if (words.empty() && word[0] == '#') break;
    words.emplace_back(word);
  }
  return words;
}

IpvsadmRestore parse_ipvsadm_restore(std::string_view text, const NameResolver& names,
                                     std::string_view program) {
  IpvsadmRestore result;
  int line_no = 0;
  std::size_t pos = 0;
  // What ipvsadm -R would have done instead, for the note.
  enum class Instead { stop, go_on, run_it };
  auto refuse = [&](const std::string& error, int code, Instead instead) {
    std::size_t before = result.commands.size();
    std::string note = "vsadm -R: nothing was applied: -R applies all of its input or none of it";
    std::string line = "line " + std::to_string(line_no);
    if (instead == Instead::stop && before > 0)
      note += " (ipvsadm -R would have applied the " + plural(before, "command") + " before " + line +
              " and stopped there, as --restore-mode=lines does)";
    if (instead == Instead::go_on)
      note += " (ipvsadm -R would have printed this error and gone on with the next line, as "
              "--restore-mode=lines does)";
    if (instead == Instead::run_it)
      note += " (ipvsadm -R would have run it, as --restore-mode=lines does)";
    IpvsadmRestore refused;
    refused.error = line + ": " + error + "\n" + note;
    refused.exit_code = code;
    return refused;
  };
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    auto words = ipvsadm_restore_words(line);
    if (words.empty()) continue;
    auto parsed = parse_ipvsadm_args(words, names, program);
    if (!parsed.command)
      return refuse(parsed.error, parsed.exit_code, parsed.popt_error ? Instead::go_on : Instead::stop);
    if (parsed.command->op == IpvsadmOp::restore)
      return refuse(ipvsadm_try_help(program), 255, Instead::stop);
    if (!restorable(parsed.command->op))
      return refuse("only -A, -E, -D, -C, -a, -e, -d and --set can be restored", 2, Instead::run_it);
    result.commands.push_back(*parsed.command);
    result.lines.push_back(line_no);
  }
  return result;
}

std::string atomic_restore_refusal(const IpvsadmRestore& restore, std::string_view error) {
  // With more than one command, vsd's refusal starts with the command's
  // ipvsadm spelling (apply_ipvsadm_commands); identical lines cannot be
  // told apart, so all of them are named.
  std::vector<int> lines;
  for (std::size_t i = 0; i < restore.commands.size(); ++i) {
    std::string spelled = to_ipvsadm_args(restore.commands[i]) + ": ";
    if (restore.commands.size() > 1 && error.substr(0, spelled.size()) != spelled) continue;
    if (i < restore.lines.size() && restore.lines[i] > 0) lines.push_back(restore.lines[i]);
    if (restore.commands.size() == 1) break;
  }
  std::string out;
  if (lines.empty()) {
    out = "vsd refused the input: " + std::string(error);
  } else {
    out = "line ";
    for (std::size_t i = 0; i < lines.size(); ++i)
      out += (i == 0 ? "" : i + 1 == lines.size() ? " or " : ", ") + std::to_string(lines[i]);
    out += ": " + std::string(error);
  }
  return out +
         "\nvsadm -R: nothing was applied: -R applies all of its input or none of it (ipvsadm -R "
         "would have applied the other lines and only printed this error, as --restore-mode=lines "
         "does)";
}

std::string ipvsadm_try_help(std::string_view program) {
  std::string p(program);
  return "Try `" + p + " -h' or '" + p + " --help' for more information.";
}

std::string ipvsadm_usage(std::string_view program) {
  std::string p(program);
  std::string out;
  out += "vsadm - ipvsadm-compatible control of vsd\n";
  out += "Usage:\n";
  out += "  " + p + " -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [-b sched-flags] [-o]\n";
  out += "  " + p + " -D virtual-service\n";
  out += "  " + p + " -C\n";
  out += "  " + p + " -R [--restore-mode=atomic|lines] [--replace] < rules\n";
  out += "  " + p + " -S [-n]\n";
  out += "  " + p + " -a|e virtual-service -r server-address [-g|-i|-m] [-w weight] [-x upper] [-y lower]\n";
  out += "  " + p + " -d virtual-service -r server-address\n";
  out += "  " + p + " -L|l [virtual-service] [options]\n";
  out += "  " + p + " -Z [virtual-service]\n";
  out += "  " + p + " --set tcp tcpfin udp\n";
  out += "  " + p + " --start-daemon master|backup [--mcast-interface IF] [--syncid N] [--reason TEXT]\n";
  out += "  " + p + " --stop-daemon master|backup [--reason TEXT]\n";
  out += "  " + p + " --garp | --reload | --save-toml | --version\n";
  out += "  " + p + " -h\n\n";
  out += "Commands (long or short form):\n"
         "  --add-service     -A        add a virtual service\n"
         "  --edit-service    -E        change a virtual service (unset options take defaults)\n"
         "  --delete-service  -D        remove a virtual service\n"
         "  --clear           -C        remove every virtual service\n"
         "  --restore         -R        apply -S style rules from stdin, all or nothing\n"
         "                              (--restore-mode=lines: each line as read, as ipvsadm -R)\n"
         "  --save            -S        print the table as rules\n"
         "  --add-server      -a        add a real server to a service\n"
         "  --edit-server     -e        change a real server (unset options take defaults)\n"
         "  --delete-server   -d        remove a real server\n"
         "  --list            -L|-l     list the table\n"
         "  --zero            -Z        zero the counters of one service or of all\n"
         "  --set tcp tcpfin udp        connection timeouts in seconds (0 keeps the value)\n"
         "  --start-daemon    master|backup  the pair's sync role ([ha]); master announces the VIPs\n"
         "  --stop-daemon     master|backup  leave that role\n"
         "  --garp                      announce the virtual addresses again\n"
         "  --reload                    re-read vsd's configuration file\n"
         "  --save-toml                 print the running configuration as TOML\n"
         "  --version         -v        vsadm's version; vsd's, its queue form and uptime\n"
         "  --help            -h        this text\n\n";
  out += "virtual-service:\n"
         "  --tcp-service|-t  host[:port]   TCP service; IPv6 as [address]:port\n"
         "  --udp-service|-u  host[:port]   UDP service\n"
         "  --fwmark-service|-f mark        firewall-mark service (mark > 0)\n\n";
  out += "Options:\n"
         "  --ipv6         -6             the fwmark service is IPv6 (after -f)\n"
         "  --scheduler    -s name        scheduler, default wlc\n"
         "  --persistent   -p [seconds]   persistence, default 360 seconds\n"
         "  --netmask      -M mask        clients grouped for persistence\n"
         "  --sched-flags  -b flags       scheduler flags, comma separated\n"
         "  --ops          -o             one-packet scheduling (UDP)\n"
         "  --real-server  -r host[:port] real server\n"
         "  --gatewaying   -g             direct routing (default)\n"
         "  --ipip         -i             IP-in-IP tunnelling\n"
         "  --masquerading -m             NAT\n"
         "  --weight       -w weight      0..65535, 0 takes no new connections\n"
         "  --u-threshold  -x n           upper connection threshold\n"
         "  --l-threshold  -y n           lower connection threshold\n"
         "  --connection   -c             list connections\n"
         "  --timeout                     list timeouts\n"
         "  --daemon                      list the pair's sync roles\n"
         "  --mcast-interface IF          --start-daemon: must be [ha]'s sync link interface\n"
         "  --syncid N                    --start-daemon: must be [ha] sync_id\n"
         "  --reason TEXT                 --start/stop-daemon: why, for vsd's log\n"
         "  --stats | --rate | --thresholds | --persistent-conn   listing columns\n"
         "  --exact                       exact numbers\n"
         "  --nosort                      keep the daemon's order\n"
         "  --numeric      -n             no name lookups\n"
         "  --json                        print vsd's JSON instead\n"
         "  --socket path                 control socket (default $VSD_SOCKET or /run/vsd/vsd.sock)\n"
         "  --restore-mode atomic|lines   -R: all or nothing (default), or ipvsadm's line by line\n"
         "  --replace                     -R: clear the table first, in the same batch (vsadm-restore)\n";
  return out;
}

}  // namespace vsd
