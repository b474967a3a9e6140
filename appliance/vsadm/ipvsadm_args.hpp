// vsadm's command line: ipvsadm 1.31's commands and options, parsed the way
// ipvsadm parses them (popt rules: clustered short options, `-p` with an
// optional argument, the command first), with ipvsadm's error messages and
// exit codes, plus vsd's own --json, --garp, --reload, --version,
// --save-toml and --socket. Pure: no I/O except the injected name lookups.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "appliance/control/ipvsadm_command.hpp"
#include "appliance/vsadm/ipvsadm_names.hpp"

namespace vsd {

struct IpvsadmParse {
  std::optional<IpvsadmCommand> command;  // set on success
  std::string error;  // for stderr, one or more lines, no final newline
  int exit_code = 0;  // ipvsadm's: 2 for bad options/values, 255 for popt errors
};

// args: argv without argv[0]; program: argv[0], for the "Try ... -h" hint.
IpvsadmParse parse_ipvsadm_args(const std::vector<std::string>& args, const NameResolver& names,
                                std::string_view program = "vsadm");

struct IpvsadmRestore {
  std::vector<IpvsadmCommand> commands;  // empty with error set on failure
  std::string error;
  int exit_code = 0;
};

// -R input: one ipvsadm command line per line ("-A -t ..." as -S writes
// them); blank lines and '#' comments are skipped, like ipvsadm-restore.
// Only table-changing commands (-A -E -D -C -a -e -d --set) may appear.
IpvsadmRestore parse_ipvsadm_restore(std::string_view text, const NameResolver& names,
                                     std::string_view program = "vsadm");

std::string ipvsadm_usage(std::string_view program);

}  // namespace vsd
