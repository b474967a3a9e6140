// The top level's `service` key: the [[service]] array of tables, each read
// and written with service_table (service_keys.cpp). Declared here for the
// top level's row in config_keys.cpp.
#pragma once

#include "appliance/config/config_keys.hpp"

namespace vsd {

bool read_services(ConfigReader& r, const toml::node& n, Config& cfg);
void write_services(TomlOut& out, std::string_view name, const Config& cfg);
bool no_services(const Config& cfg);
void check_services(KeyChecker& c, const Config& cfg);

}  // namespace vsd
