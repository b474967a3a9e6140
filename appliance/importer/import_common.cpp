#include "appliance/importer/import_common.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "appliance/config/config_writer.hpp"

namespace vsd::importer {

std::string Message::to_string() const {
  if (line > 0) return file + ":" + std::to_string(line) + ": " + text;
  return file + ": " + text;
}

std::string format_messages(const ImportResult& result) {
  std::string out;
  for (const auto& m : result.errors) out += Message{m.file, m.line, "error: " + m.text}.to_string() + "\n";
  for (const auto& m : result.refusals) out += m.to_string() + "\n";
  for (const auto& m : result.notes) out += Message{m.file, m.line, "note: " + m.text}.to_string() + "\n";
  return out;
}

std::optional<std::uint64_t> parse_unsigned(std::string_view s, std::uint64_t max) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v > max) return std::nullopt;
  return v;
}

std::optional<double> parse_seconds(std::string_view s) {
  if (s.empty() || s.front() == '-' || s.front() == '+') return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::fixed);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v) || v < 0) return std::nullopt;
  return v;
}

std::optional<bool> parse_bool(std::string_view s) {
  if (s == "on" || s == "true" || s == "yes") return true;
  if (s == "off" || s == "false" || s == "no") return false;
  return std::nullopt;
}

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", s);
  std::string t = buf;
  t.erase(t.find_last_not_of('0') + 1);
  if (t.back() == '.') t.pop_back();
  return t + " s";
}

std::optional<int> ipv4_mask_length(std::string_view mask) {
  auto ip = IpAddress::parse(mask);
  if (!ip || !ip->is_v4()) return std::nullopt;
  const std::uint8_t* b = ip->v4_bytes();
  const std::uint32_t m = (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
  int bits = 0;
  while (bits < 32 && (m & (0x80000000u >> bits))) ++bits;
  if (bits == 0 || (bits < 32 && (m << bits) != 0)) return std::nullopt;
  return bits;
}

std::string shell_word(const std::string& word) {
  if (!word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                              "_-./:=@%+,") == std::string::npos)
    return word;
  std::string out = "'";
  for (char c : word) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

namespace {

// A message as one comment line: no line breaks or control characters.
std::string comment_text(const std::string& s) {
  std::string out;
  for (unsigned char c : s) out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
  return out;
}

// write_config_toml's text without its own opening comment lines (they
// name `vsadm --save-toml`; the header says where this file comes from).
std::string body_of(const std::string& written) {
  std::size_t pos = 0;
  while (pos < written.size() && written[pos] == '#') {
    std::size_t end = written.find('\n', pos);
    if (end == std::string::npos) return "";
    pos = end + 1;
  }
  return written.substr(pos);
}

// Replaces the bodies of the [service.real.check] tables `real_checks`
// names. The writer writes services, their real servers and each one's
// check table in Config order, so the k-th [[service.real]] after the i-th
// [[service]] is config.services[i].reals[k].
std::string replace_real_checks(const std::string& text, const RealCheckBodies& real_checks) {
  if (real_checks.empty()) return text;
  std::string out;
  std::size_t service = 0, real = 0, check = 0;
  bool in_service = false, skipping = false;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size() - 1;
    const std::string line = text.substr(pos, end + 1 - pos);
    pos = end + 1;
    const bool header = !line.empty() && line[0] == '[';
    if (header) skipping = false;
    if (line == "[[service]]\n") {
      service = in_service ? service + 1 : 0;
      in_service = true;
      real = std::size_t(-1);
    } else if (line == "[[service.real]]\n") {
      ++real;
      check = 0;
    } else if (line == "[service.real.check]\n" || line == "[[service.real.check]]\n") {
      if (auto it = real_checks.find({service, real}); it != real_checks.end() && check < it->second.size()) {
        out += line + it->second[check++];
        skipping = true;
        continue;
      }
    }
    if (skipping && line != "\n") continue;
    out += line;
  }
  return out;
}

}  // namespace


void finish(ImportResult& result, Config config, std::string_view kind, const std::vector<std::string>& sources,
            const ImportOptions& options, const RealCheckBodies& real_checks) {
  std::string h;
  const std::string main = sources.empty() ? std::string("-") : sources.front();
  h += "# vsd configuration imported by `vsd import " + std::string(kind) + "` from " +
       comment_text(main == "-" ? std::string("standard input") : main) + "\n";
  if (sources.size() > 1) {
    h += "# and the files it includes:\n";
    for (std::size_t i = 1; i < sources.size(); ++i) h += "#   " + comment_text(sources[i]) + "\n";
  }
  if (!result.refusals.empty()) {
    h += "# " + std::to_string(result.refusals.size()) + " keyword(s) or value(s) could not be imported" +
         (options.lenient ? " (--lenient)" : "") + "; left out:\n";
    for (const auto& m : result.refusals) h += "#   " + comment_text(m.to_string()) + "\n";
  }
  if (!result.notes.empty()) {
    h += "# Notes:\n";
    for (const auto& m : result.notes) h += "#   " + comment_text(m.to_string()) + "\n";
  }
  h += "# Every key is described in etc/vsd.toml (vsd.toml(5)); check on each node with:\n";
  h += "#   vsd --check -c FILE\n";

  const std::string text = h + replace_real_checks(body_of(write_config_toml(config)), real_checks);
  // The round trip: what is printed must read back as a valid file.
  auto back = parse_config(text, "<imported>");
  for (const auto& e : back.errors)
    result.errors.push_back({main, 0, "the imported configuration does not read back (an importer bug): " +
                                          e.to_string()});
  if (!back.config) return;
  result.config = std::move(config);
  result.toml = text;
}

}  // namespace vsd::importer
