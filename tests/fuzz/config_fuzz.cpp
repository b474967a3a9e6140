// appliance/config/: parse_config over arbitrary TOML text (toml++, the key
// table, validate()), as `vsd --check`, a start and a reload read a file.
// Besides ASan/UBSan it checks what config_validate.hpp and
// config_writer.hpp promise:
//  - a Config parse_config returns passes validate();
//  - write_config_toml (vsadm --save-toml) of it reads back without errors
//    and writes the same text again.
// Every error is formatted (FILE:LINE:COL: reason).
#include <string>
#include <string_view>

#include "appliance/config/config.hpp"
#include "appliance/config/config_validate.hpp"
#include "appliance/config/config_writer.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vsd;
  if (size > 64 * 1024) return 0;  // a config file, not a stress test of toml++
  const std::string text(reinterpret_cast<const char*>(data), size);
  ConfigResult r = parse_config(text, "fuzz.toml");
  std::size_t chars = 0;
  for (const auto& e : r.errors) chars += e.to_string().size();
  if (!r.config) {
    FUZZ_CHECK(!r.errors.empty(), "no config and no error");
    (void)chars;
    return 0;
  }
  FUZZ_CHECK(r.errors.empty(), "a config with errors");
  const auto again = validate(*r.config);
  FUZZ_CHECK(again.empty(), "parse_config returned a config validate() refuses: %s",
             again.front().to_string().c_str());
  for (const auto& s : r.config->services) {
    (void)service_label(s);
    for (const auto& real : s.reals) (void)real_label(s, real);
  }
  const std::string written = write_config_toml(*r.config);
  ConfigResult back = parse_config(written, "saved.toml");
  FUZZ_CHECK(back.config, "vsadm --save-toml wrote a file that does not read back: %s\n--- input\n%s\n--- written\n%s",
             back.errors.empty() ? "?" : back.errors.front().to_string().c_str(), text.c_str(), written.c_str());
  const std::string rewritten = write_config_toml(*back.config);
  FUZZ_CHECK(rewritten == written, "the saved file reads back as another config\n--- written\n%s\n--- again\n%s",
             written.c_str(), rewritten.c_str());
  return 0;
}
