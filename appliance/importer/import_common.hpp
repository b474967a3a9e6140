// What both importers share: reading keepalived's and ipvsadm's numbers,
// and turning an imported Config into the TOML the command prints (a header
// naming the source, write_config_toml, read back through parse_config).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "appliance/importer/importer.hpp"

namespace vsd::importer {

// A whole unsigned decimal number ("12"), nullopt otherwise or above max.
std::optional<std::uint64_t> parse_unsigned(std::string_view s, std::uint64_t max = UINT64_MAX);
// keepalived's <TIMER>: seconds with an optional fraction ("2.5"), >= 0.
std::optional<double> parse_seconds(std::string_view s);
// keepalived's <BOOL>: on|off|true|false|yes|no.
std::optional<bool> parse_bool(std::string_view s);
// "2.5 s", "60 s": seconds for messages.
std::string seconds_text(double s);

// A dotted IPv4 netmask as a prefix length; nullopt when not contiguous.
std::optional<int> ipv4_mask_length(std::string_view mask);

// Shell quoting for a command word (for /bin/sh -c): as is when safe.
std::string shell_word(const std::string& word);

// Fills result.toml (and keeps result.config) from `config`: the header
// names `kind` ("keepalived", "ipvsadm") and `sources` (the main file
// first), lists what was refused and skipped, then write_config_toml's
// text; that text is read back by parse_config, whose errors (there should
// be none) become result.errors.
//
// `real_checks` gives, by (service index, real server index), the whole
// body of a [service.real.check] table to write instead of the writer's
// difference from the built-in defaults (write_check_keys of a table with
// every timing key set): for a real server whose check cannot come from its
// service's [service.check] (keepalived allows real servers without a
// checker beside checked ones).
// With several checks, one body per [[service.real.check]], in order.
using RealCheckBodies = std::map<std::pair<std::size_t, std::size_t>, std::vector<std::string>>;
void finish(ImportResult& result, Config config, std::string_view kind, const std::vector<std::string>& sources,
            const ImportOptions& options, const RealCheckBodies& real_checks = {});

}  // namespace vsd::importer
