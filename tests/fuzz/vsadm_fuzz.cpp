// appliance/vsadm/: ipvsadm's command line as vsadm parses it, through the
// public functions of ipvsadm_args.hpp only (their internals may change):
// parse_ipvsadm_args over an argument vector and parse_ipvsadm_restore
// over `vsadm -R` input, with a table resolver (no DNS). Besides
// ASan/UBSan it checks what ipvsadm_command.hpp promises: a command parsed
// from the command line, written back with to_ipvsadm_args (as `vsadm -S`
// writes it), parses back to itself; so does every command of a restore.
// A refusal has an error text and an exit code, a success neither.
//
// Input: byte 0 chooses argv (odd) or -R text (even); argv is the rest
// split at NUL bytes.
#include <cctype>
#include <sstream>
#include <string>
#include <vector>

#include "appliance/vsadm/ipvsadm_args.hpp"
#include "fuzz_common.hpp"

namespace vsd {
namespace {

const TableResolver& resolver() {
  static const TableResolver r = [] {
    TableResolver t;
    t.hosts["www.example.com"] = *IpAddress::parse("192.0.2.10");
    t.hosts["rs1.example.com"] = *IpAddress::parse("203.0.113.11");
    t.services[{"http", "tcp"}] = 80;
    t.services[{"https", "tcp"}] = 443;
    t.services[{"domain", "udp"}] = 53;
    return t;
  }();
  return r;
}

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// What the command line written by to_ipvsadm_args carries (not --json or
// --socket, vsadm's own options about where and how to print).
IpvsadmCommand written_part(IpvsadmCommand c) {
  c.json = false;
  c.socket.reset();
  return c;
}

// A scheduler or flag that is empty or holds white space or a comma (vsadm
// passes names on; the daemon refuses unknown ones) cannot survive a line of
// words: such commands are left out of the round trip.
bool one_word(const std::string& s, bool comma_ok) {
  if (s.empty()) return false;
  for (char ch : s)
    if (std::isspace(static_cast<unsigned char>(ch)) || ch == '#' || (!comma_ok && ch == ',')) return false;
  return true;
}

void round_trip(const IpvsadmCommand& c) {
  if (!one_word(c.scheduler, true)) return;
  for (const auto& f : c.scheduler_flags)
    if (!one_word(f, false)) return;
  const std::string line = to_ipvsadm_args(c);
  IpvsadmParse back = parse_ipvsadm_args(words(line), resolver());
  FUZZ_CHECK(back.command, "to_ipvsadm_args wrote `%s`, which vsadm refuses: %s", line.c_str(), back.error.c_str());
  FUZZ_CHECK(written_part(*back.command) == written_part(c), "`%s` parses as another command", line.c_str());
}

}  // namespace
}  // namespace vsd

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vsd;
  if (size < 1 || size > 16 * 1024) return 0;
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    std::vector<std::string> args;
    std::size_t start = 0;
    for (std::size_t i = 0; !rest.empty() && i <= rest.size(); ++i)
      if (i == rest.size() || rest[i] == '\0') {
        args.push_back(rest.substr(start, i - start));  // empty arguments too, as argv has them
        start = i + 1;
      }
    IpvsadmParse p = parse_ipvsadm_args(args, resolver(), "vsadm");
    // A value with white space in it (a scheduler "wlc\n-p"), or empty, is passed on as
    // given (the daemon refuses what it does not know) but cannot survive a
    // line of words: those are left out of the round trip.
    bool words_only = true;
    for (const auto& a : args) {
      words_only = words_only && !a.empty();
      for (char ch : a) words_only = words_only && !std::isspace(static_cast<unsigned char>(ch)) && ch != '#';
    }
    if (p.command) {
      FUZZ_CHECK(p.exit_code == 0, "a parsed command with exit code %d", p.exit_code);
      if (words_only && p.command->op != IpvsadmOp::help && p.command->op != IpvsadmOp::version)
        round_trip(*p.command);
    } else {
      FUZZ_CHECK(!p.error.empty(), "a refusal without an error text");
    }
  } else {
    IpvsadmRestore r = parse_ipvsadm_restore(rest, resolver(), "vsadm");
    if (r.error.empty())
      for (const auto& c : r.commands) round_trip(c);
    else
      FUZZ_CHECK(r.commands.empty(), "a refused restore with commands");
  }
  return 0;
}
