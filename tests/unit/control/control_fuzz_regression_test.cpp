// Inputs the fuzzer (tests/fuzz/control_fuzz) found, kept as regressions.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "appliance/control/ipvsadm_command.hpp"
#include "appliance/control/status.hpp"

namespace vsd {
namespace {

using nlohmann::json;

// A number out of the field's range in an edit request (the daemon's side
// of the control socket) was converted with undefined behaviour (UBSan:
// "2.5e+34 is outside the range of representable values of type 'unsigned
// char'"), or wrapped: now the command is refused.
TEST(ControlFuzzRegression, AnEditWithANumberOutOfRangeIsRefused) {
  const json service = {{"protocol", "tcp"}, {"address", "192.0.2.10:80"}};
  for (const json& bad : {json(2.5e34), json(-1), json(256), json(-1e300)}) {
    std::string why;
    json c = {{"op", "add-service"}, {"service", service}, {"netmask", bad}};
    EXPECT_FALSE(ipvsadm_command_from_json(c, &why)) << bad;
    EXPECT_NE(why.find("netmask is out of range"), std::string::npos) << why;
    c = {{"op", "add-service"}, {"service", service}, {"persistent", bad.is_number_float() ? bad : json(-1)}};
    EXPECT_FALSE(ipvsadm_command_from_json(c, &why)) << c;
  }
  std::string why;
  EXPECT_FALSE(ipvsadm_service_from_json(json{{"fwmark", 1e30}}, &why));
  auto ok = ipvsadm_command_from_json(
      json{{"op", "add-service"}, {"service", service}, {"netmask", 24.0}, {"persistent", 1800}}, &why);
  ASSERT_TRUE(ok) << why;
  EXPECT_EQ(ok->netmask, 24);
  EXPECT_EQ(ok->persistent, 1800u);
}

// vsadm reading a reply: the lenient reader keeps the default for a number
// it cannot hold, as for any mistyped field.
TEST(ControlFuzzRegression, AStatusNumberOutOfRangeKeepsTheDefault) {
  const json j = {{"connections", -5},
                  {"uptime_s", 1e300},
                  {"services", json::array({{{"netmask", 2.5e34}, {"persistent", 64}, {"fwmark", -1}}})}};
  const control::Status s = control::status_from_json(j);
  EXPECT_EQ(s.connections, 0u);
  EXPECT_EQ(s.uptime_s, 0u);
  ASSERT_EQ(s.services.size(), 1u);
  EXPECT_EQ(s.services[0].netmask, 0);
  EXPECT_EQ(s.services[0].persistent, 64u);
  EXPECT_EQ(s.services[0].fwmark, 0u);
}

}  // namespace
}  // namespace vsd
