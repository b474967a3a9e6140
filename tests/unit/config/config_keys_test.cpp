// The key table against etc/vsd.toml: every key the reader knows is
// documented there, in its section, and every key documented there is one
// the reader knows.
#include "appliance/config/config_keys.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace vsd {
namespace {

using Documented = std::map<std::string, std::set<std::string>>;  // section -> keys

// The line without its indentation and, when commented out, without "# ".
std::string_view uncommented(std::string_view line) {
  line.remove_prefix(std::min(line.find_first_not_of(' '), line.size()));
  if (line.starts_with('#')) line.remove_prefix(line.starts_with("# ") ? 2 : 1);
  return line;
}

// The run of key-name characters (and dots, for headers) at the start.
std::string_view name_at(std::string_view s, bool dots) {
  std::size_t n = 0;
  while (n < s.size() && ((s[n] >= 'a' && s[n] <= 'z') || s[n] == '_' || (dots && s[n] == '.'))) ++n;
  return s.substr(0, n);
}

// The keys etc/vsd.toml shows, written (`key = `) or commented out
// (`# key = `), by section. A table header documents its own name as a key
// of its parent: [director] is the top level's `director`, [[service.real]]
// the service's `real`, `# [service.real.check]` the real server's `check`.
Documented documented_keys(std::istream& in) {
  Documented out;
  std::string section, line;
  while (std::getline(in, line)) {
    std::string_view text = uncommented(line);
    if (text.starts_with('[')) {
      std::string_view inner = text.substr(text.starts_with("[[") ? 2 : 1);
      section = std::string(name_at(inner, true));
      auto dot = section.rfind('.');
      out[dot == std::string::npos ? "" : section.substr(0, dot)].insert(
          dot == std::string::npos ? section : section.substr(dot + 1));
      out[section];
    } else if (auto key = name_at(text, false); !key.empty() && text.substr(key.size()).starts_with(" = ")) {
      out[section].insert(std::string(key));
    }
  }
  return out;
}

Documented sample_file() {
  std::ifstream in(VSD_SOURCE_DIR "/etc/vsd.toml");
  EXPECT_TRUE(in) << VSD_SOURCE_DIR "/etc/vsd.toml";
  return documented_keys(in);
}

// A real server's [service.real.check] takes the keys of [service.check],
// which the file documents once.
std::string documented_in(const std::string& section) {
  return section == "service.real.check" ? "service.check" : section;
}

TEST(ConfigKeys, TheDocumentationTestReadsKeysAndHeaders) {
  std::istringstream text(
      "top = 1\n[a]\nx = 1           # note: y = 2\n# z = \"off\"\n# prose, not a key\n"
      "[[a.b]]\nw = []\n# [a.b.c]   # sub-table\n");
  Documented d = documented_keys(text);
  EXPECT_EQ(d[""], (std::set<std::string>{"top", "a"}));
  EXPECT_EQ(d["a"], (std::set<std::string>{"x", "z", "b"}));
  EXPECT_EQ(d["a.b"], (std::set<std::string>{"w", "c"}));
  EXPECT_TRUE(d["a.b.c"].empty());
}

TEST(ConfigKeys, EveryKeyIsDocumentedInItsSection) {
  Documented doc = sample_file();
  for (const auto& [section, keys] : config_key_names())
    for (auto key : keys)
      EXPECT_TRUE(doc[documented_in(section)].contains(std::string(key)))
          << "etc/vsd.toml does not document `" << key << "` in [" << section << "]";
}

TEST(ConfigKeys, EveryDocumentedKeyIsInTheTable) {
  std::map<std::string, std::set<std::string>> table;
  for (const auto& [section, keys] : config_key_names()) table[section].insert(keys.begin(), keys.end());
  for (const auto& [section, keys] : sample_file()) {
    ASSERT_TRUE(table.contains(section)) << "etc/vsd.toml documents [" << section << "], which no table reads";
    for (const auto& key : keys)
      EXPECT_TRUE(table[section].contains(key))
          << "etc/vsd.toml documents `" << key << "` in [" << section << "], which the reader does not know";
  }
}

TEST(ConfigKeys, SectionsInTheirOrder) {
  std::vector<std::string> sections;
  for (const auto& s : config_key_names()) sections.push_back(s.section);
  EXPECT_THAT(sections, ::testing::ElementsAre("", "director", "timeouts", "control", "metrics", "log", "arp", "ha", "bgp",
                                               "service", "service.real", "service.check", "service.real.check"));
  EXPECT_THAT(config_key_names()[0].keys,
              ::testing::ElementsAre("director", "timeouts", "control", "metrics", "log", "arp", "ha", "bgp", "service"));
}

// The reader's "known keys" lists are the table's rows.
TEST(ConfigKeys, UnknownKeyErrorsListTheTable) {
  for (const auto& [section, keys] : config_key_names()) {
    if (section.empty() || section.ends_with("check")) continue;
    std::string text = section == "service"        ? "[[service]]\naddress = \"192.0.2.1:80\"\nbogus = 1\n"
                       : section == "service.real" ? "[[service]]\naddress = \"192.0.2.1:80\"\n"
                                                     "[[service.real]]\naddress = \"203.0.113.1\"\nbogus = 1\n"
                       // [ha] without its two required keys is an error of its own
                       : section == "ha" ? "[ha]\ndirectors = [\"192.0.2.1\", \"192.0.2.2\"]\ninterface = \"eth0\"\nbogus = 1\n"
                       : section == "bgp" ? "[bgp]\nlocal_as = 65001\nneighbors = [\"192.0.2.254\"]\nneighbor_as = 65000\nbogus = 1\n"
                                         : "[" + section + "]\nbogus = 1\n";
    auto r = parse_config(text, "t.toml");
    ASSERT_EQ(r.errors.size(), 1u) << section;
    std::string list;
    for (auto k : keys) list += (list.empty() ? "" : ", ") + std::string(k);
    EXPECT_TRUE(r.errors[0].reason.ends_with("; known keys: " + list)) << r.errors[0].reason;
  }
}

}  // namespace
}  // namespace vsd
