// The importers: an existing keepalived.conf (its LVS half) or an
// `ipvsadm-save -n` dump turned into an equivalent vsd.toml, offline.
//
// Every keyword is either mapped to the vsd key that behaves the same, or
// refused with FILE:LINE and the reason (what vsd does instead), so that an
// imported file never behaves differently in silence. What is skipped on
// purpose (global_defs, the VRRP blocks: failover stays keepalived's job)
// gets one note. The result is the TOML of write_config_toml(), preceded by a
// comment header naming the source; it has been read back through
// parse_config() (which runs validate()) before it is returned.
//
// README "Migrating from ipvsadm and keepalived" has the keyword table;
// keepalived_import.cpp's comments say why each keyword maps as it does.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "appliance/config/config.hpp"

namespace vsd::importer {

// One message about the input. line 0: about a whole file.
struct Message {
  std::string file;
  int line = 0;
  std::string text;

  // "FILE:LINE: text", or "FILE: text" without a line.
  std::string to_string() const;
};

struct ImportResult {
  // Set unless `errors` is non-empty: what could be imported (refused
  // keywords left out), and its TOML with the header.
  std::optional<Config> config;
  std::string toml;
  // Keywords or values with no vsd equivalent, left out of `config`. The
  // command exits 2 on any of them unless --lenient.
  std::vector<Message> refusals;
  // Blocks skipped on purpose (global_defs, vrrp_instance, ...) and other
  // remarks that change nothing; never fatal.
  std::vector<Message> notes;
  // Nothing usable: an unreadable file, unbalanced braces, or (a bug) output
  // that does not read back. Fatal even with --lenient.
  std::vector<Message> errors;

  bool ok() const { return errors.empty() && config.has_value(); }
};

struct ImportOptions {
  // Only the header's wording: the refusals are listed there as what was
  // left out.
  bool lenient = false;
};

// keepalived.conf from a file: `include` globs are taken relative to the
// directory of the file that includes them, as keepalived does.
ImportResult import_keepalived_file(const std::string& path, const ImportOptions& options = {});
// The same from text already read; `name` is the file name messages and
// the header use, and the base of relative includes.
ImportResult import_keepalived_text(std::string_view text, const std::string& name,
                                    const ImportOptions& options = {});

// `ipvsadm-save -n` / `ipvsadm -S -n` output (also ipvsadm-restore input:
// -A -E -D -C -a -e -d --set lines). `name` is for messages ("-" = stdin).
ImportResult import_ipvsadm_text(std::string_view text, const std::string& name,
                                 const ImportOptions& options = {});

// What the command prints on stderr: errors, refusals, then notes, one
// line each ("FILE:LINE: ..."), errors and notes marked as such.
std::string format_messages(const ImportResult& result);

// `vsd import keepalived FILE [--lenient]` / `vsd import ipvsadm [FILE|-]
// [--lenient]`: TOML on stdout, messages on stderr; 0, or 2 on refusals
// without --lenient, errors or a bad command line. argv[1] is "import".
int import_main(int argc, char** argv);

}  // namespace vsd::importer

namespace vsd {
using importer::import_main;
}
