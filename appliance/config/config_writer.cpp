#include "appliance/config/config_writer.hpp"

#include "appliance/config/config_keys.hpp"

namespace vsd {

std::string write_config_toml(const Config& cfg) {
  TomlOut out;
  out.text =
      "# vsd configuration, as written by `vsadm --save-toml`.\n"
      "# Every key is described in etc/vsd.toml; check with: vsd --check -c FILE\n";
  write_keys(out, top_level_table, cfg);
  return out.text;
}

}  // namespace vsd
