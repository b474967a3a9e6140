// Golden files: every golden/*.conf (keepalived) and golden/*.ipvsadm
// (ipvsadm-save -n) is imported with --lenient; its TOML must equal
// NAME.toml and its stderr NAME.err (with the golden directory's path taken
// out of both). Every NAME.toml must read back through parse_config and
// validate(): the round trip. VSD_UPDATE_GOLDEN=1 rewrites the expected
// files from what the importer prints (then review the diff).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "appliance/config/config_validate.hpp"
#include "appliance/importer/importer.hpp"

namespace vsd::importer {
namespace {

namespace fs = std::filesystem;

fs::path golden_dir() { return fs::path(__FILE__).parent_path() / "golden"; }

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The golden directory's absolute path out of the text, so that the files
// name "sample.conf" wherever the tree is.
std::string relative(std::string text) {
  const std::string prefix = golden_dir().string() + "/";
  for (std::size_t pos; (pos = text.find(prefix)) != std::string::npos;) text.erase(pos, prefix.size());
  return text;
}

std::vector<fs::path> inputs(const std::string& ext) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(golden_dir()))
    if (e.is_regular_file() && e.path().extension() == ext) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

ImportResult import_golden(const fs::path& p) {
  ImportOptions lenient;
  lenient.lenient = true;
  if (p.extension() == ".conf") return import_keepalived_file(p.string(), lenient);
  return import_ipvsadm_text(read(p), p.string(), lenient);
}

void check_golden(const fs::path& input) {
  SCOPED_TRACE(input.filename().string());
  const ImportResult r = import_golden(input);
  const std::string toml = relative(r.toml), err = relative(format_messages(r));
  fs::path toml_path = input, err_path = input;
  toml_path.replace_extension(".toml");
  err_path.replace_extension(".err");
  if (std::getenv("VSD_UPDATE_GOLDEN")) {
    std::ofstream(toml_path, std::ios::binary) << toml;
    std::ofstream(err_path, std::ios::binary) << err;
  }
  EXPECT_TRUE(r.ok()) << err;
  EXPECT_EQ(toml, read(toml_path));
  EXPECT_EQ(err, read(err_path));
}

TEST(ImporterGolden, KeepalivedFiles) {
  const auto files = inputs(".conf");
  ASSERT_GE(files.size(), 7u);
  for (const auto& f : files) check_golden(f);
}

TEST(ImporterGolden, IpvsadmFiles) {
  const auto files = inputs(".ipvsadm");
  ASSERT_GE(files.size(), 4u);
  for (const auto& f : files) check_golden(f);
}

// The round trip: what the importer printed is a file vsd takes.
TEST(ImporterGolden, EveryGoldenTomlParsesAndValidates) {
  std::size_t n = 0;
  for (const auto& f : inputs(".toml")) {
    SCOPED_TRACE(f.filename().string());
    auto parsed = parse_config(read(f), f.string());
    for (const auto& e : parsed.errors) ADD_FAILURE() << e.to_string();
    ASSERT_TRUE(parsed.config);
    EXPECT_TRUE(validate(*parsed.config).empty());
    EXPECT_FALSE(parsed.config->services.empty());
    ++n;
  }
  EXPECT_GE(n, 11u);
}

// The importer's Config is the one its TOML gives back.
TEST(ImporterGolden, TomlIsTheImportedConfig) {
  for (const auto& f : inputs(".conf")) {
    SCOPED_TRACE(f.filename().string());
    const ImportResult r = import_golden(f);
    ASSERT_TRUE(r.ok());
    auto back = parse_config(r.toml, "back.toml");
    ASSERT_TRUE(back.config);
    ASSERT_EQ(back.config->services.size(), r.config->services.size());
    for (std::size_t i = 0; i < r.config->services.size(); ++i) {
      const auto& a = r.config->services[i];
      const auto& b = back.config->services[i];
      EXPECT_EQ(service_label(a), service_label(b));
      ASSERT_EQ(a.reals.size(), b.reals.size());
      for (std::size_t j = 0; j < a.reals.size(); ++j) {
        EXPECT_EQ(a.reals[j].address, b.reals[j].address);
        EXPECT_EQ(a.reals[j].weight, b.reals[j].weight);
        EXPECT_EQ(a.reals[j].forward, b.reals[j].forward);
        EXPECT_EQ(a.reals[j].check.has_value(), b.reals[j].check.has_value());
        if (a.reals[j].check && b.reals[j].check) {
          const auto& x = *a.reals[j].check;
          const auto& y = *b.reals[j].check;
          EXPECT_EQ(x.type, y.type);
          EXPECT_EQ(x.interval_ms, y.interval_ms);
          EXPECT_EQ(x.timeout_ms, y.timeout_ms);
          EXPECT_EQ(x.rise, y.rise);
          EXPECT_EQ(x.fall, y.fall);
          EXPECT_EQ(x.warmup_ms, y.warmup_ms);
          EXPECT_EQ(x.alpha, y.alpha);
          EXPECT_EQ(x.on_failure, y.on_failure);
          EXPECT_EQ(x.connect_to, y.connect_to);
          EXPECT_EQ(x.notify, y.notify);
          EXPECT_EQ(x.payload, y.payload);
          EXPECT_EQ(x.expect, y.expect);
          EXPECT_EQ(x.command, y.command);
          if (x.type == health::CheckType::http || x.type == health::CheckType::https) {
            EXPECT_EQ(x.path, y.path);
            EXPECT_EQ(x.status, y.status);
            EXPECT_EQ(x.digest, y.digest);
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace vsd::importer
