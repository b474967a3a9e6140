#include "appliance/daemon/config_diff.hpp"

#include <gtest/gtest.h>

namespace vsd {
namespace {

Config parse(const std::string& text) {
  auto r = parse_config(text, "t.toml");
  EXPECT_TRUE(r.config) << (r.errors.empty() ? "" : r.errors[0].to_string());
  return r.config.value_or(Config{});
}

TEST(ConfigDiff, OneLinePerChangeWithVipAndRip) {
  Config before = parse(R"(
[[service]]
address = "192.0.2.10:80"
scheduler = "wrr"
[[service.real]]
address = "203.0.113.11:8000"
weight = 3
[[service.real]]
address = "203.0.113.12:8000"
[[service]]
fwmark = 7
persistent = 60
[[service.real]]
address = "203.0.113.31"
)");
  Config after = parse(R"(
[[service]]
address = "192.0.2.10:80"
scheduler = "wlc"
[[service.real]]
address = "203.0.113.11:8000"
weight = 0
[[service.real]]
address = "203.0.113.13:8000"
forward = "nat"
[[service]]
address = "[2001:db8::10]:53"
protocol = "udp"
persistent = 30
)");
  EXPECT_EQ(describe_changes(before, after),
            (std::vector<std::string>{
                "service TCP 192.0.2.10:80 changed (scheduler wlc, persistent 0s)",
                "service TCP 192.0.2.10:80: real server 203.0.113.11:8000 now nat weight 0 (was nat "
                "weight 3) - quiesced",
                "service TCP 192.0.2.10:80: real server 203.0.113.13:8000 added (nat, weight 1)",
                "service TCP 192.0.2.10:80: real server 203.0.113.12:8000 removed",
                "service UDP [2001:db8::10]:53 added (scheduler wlc, persistent 30s)",
                "service FWM 7 removed"}));
}

TEST(ConfigDiff, FloodDefencesOfTheDirectorAndOfAService) {
  Config before = parse(R"(
[[service]]
address = "192.0.2.10:80"
[[service.real]]
address = "203.0.113.11:8000"
)");
  Config after = parse(R"(
[director]
secure_tcp = 3
pressure_threshold = 0.8
[[service]]
address = "192.0.2.10:80"
table_share = 0.5
synproxy = true
[[service.real]]
address = "203.0.113.11:8000"
)");
  EXPECT_EQ(describe_changes(before, after),
            (std::vector<std::string>{
                "director: flood defences now drop_entry 1, drop_packet 0, secure_tcp 3, am_droprate 10, "
                "pressure_threshold 0.8 (was drop_entry 1, drop_packet 0, secure_tcp 0, am_droprate 10, "
                "pressure_threshold 0.9)",
                "service TCP 192.0.2.10:80: flood defences now table_share 0.5, synproxy on (mss default, "
                "wscale 7) (was table_share 1, synproxy off)"}));
}

TEST(ConfigDiff, NothingChangedSaysNothing) {
  Config c = parse("[[service]]\naddress = \"192.0.2.10:80\"\n[[service.real]]\naddress = \"203.0.113.11\"\n");
  EXPECT_TRUE(describe_changes(c, c).empty());
}

}  // namespace
}  // namespace vsd
