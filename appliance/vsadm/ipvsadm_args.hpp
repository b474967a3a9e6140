// vsadm's command line: ipvsadm 1.31's commands and options, parsed as
// ipvsadm parses them: with libpopt and ipvsadm's option table, so every
// popt rule is ipvsadm's (clustered short options, `-p` with an optional
// argument, `-p600` / `-p=600` / `--persistent=600`, no abbreviations,
// POSIXLY_CORRECT), the command as the first option, ipvsadm's error
// messages and exit codes; plus vsd's own --json, --socket, --garp,
// --reload, --save-toml and -R's --restore-mode / --replace. Pure: no I/O
// except the injected name lookups.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "appliance/control/ipvsadm_command.hpp"
#include "appliance/vsadm/ipvsadm_names.hpp"

namespace vsd {

// How vsadm -R applies its input.
enum class RestoreMode : std::uint8_t {
  atomic,  // default: all of it in one batch, or none of it
  lines,   // --restore-mode=lines: ipvsadm -R's way, one command per line as read
};

struct IpvsadmParse {
  std::optional<IpvsadmCommand> command;  // set on success
  std::string error;  // for stderr, one or more lines, no final newline
  int exit_code = 0;  // ipvsadm's: 2 for bad options/values, 255 for popt errors and "Try ..."
  // A popt error after the command (unknown option, missing argument, ...):
  // ipvsadm prints it and returns -1 (exit 255) instead of exiting, so
  // ipvsadm -R goes on with its next line. Every other error exits.
  bool popt_error = false;
  // -R only (vsd's options; anywhere on the line, like --json and --socket).
  RestoreMode restore_mode = RestoreMode::atomic;  // --restore-mode=atomic|lines
  bool restore_replace = false;  // --replace: clear the table first (vsadm-restore)
};

// args: argv without argv[0]; program: argv[0], for the "Try ... -h" hint.
IpvsadmParse parse_ipvsadm_args(const std::vector<std::string>& args, const NameResolver& names,
                                std::string_view program = "vsadm");

struct IpvsadmRestore {
  std::vector<IpvsadmCommand> commands;  // empty with error set on failure
  std::vector<int> lines;                // the input line (from 1) of each command
  std::string error;  // "line N: <ipvsadm's words>", then that nothing was applied
  int exit_code = 0;
};

// One line of -R input as ipvsadm -R reads it: words split at spaces, tabs
// and CRs, words "ipvsadm" (and "vsadm") dropped. Blank lines and lines
// whose first word starts with '#' give no words (ipvsadm-restore filters
// '#' lines; ipvsadm -R itself would refuse them).
std::vector<std::string> ipvsadm_restore_words(std::string_view line);

// Atomic -R input (the default): one ipvsadm command line per line
// ("-A -t ..." as -S writes them). Only table-changing commands (-A -E -D
// -C -a -e -d --set) may appear. The first bad line is named, with the note
// that nothing was applied (ipvsadm -R would have kept the lines before it).
IpvsadmRestore parse_ipvsadm_restore(std::string_view text, const NameResolver& names,
                                     std::string_view program = "vsadm");

// vsd refused an atomic -R batch (`restore` as parsed, the error of the
// control protocol's edit): the line or lines it names, the error, and that
// nothing was applied, unlike ipvsadm -R. For stderr, no final newline.
std::string atomic_restore_refusal(const IpvsadmRestore& restore, std::string_view error);

std::string ipvsadm_usage(std::string_view program);
// ipvsadm's hint after a command line it cannot start to read (exit 255):
// "Try `vsadm -h' or 'vsadm --help' for more information."
std::string ipvsadm_try_help(std::string_view program);

}  // namespace vsd
