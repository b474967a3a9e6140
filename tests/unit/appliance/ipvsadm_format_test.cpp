#include "appliance/ipvsadm_format.hpp"

#include <gtest/gtest.h>

namespace vsd {
namespace {

TEST(IpvsadmFormat, ListNumericMatchesIpvsadmLayout) {
  auto status = nlohmann::json::parse(R"({
    "max_connections": 4096,
    "services": [
      {"protocol": "tcp", "address": "192.0.2.10:80", "scheduler": "wrr",
       "reals": [{"address": "203.0.113.11:8000", "forward": "nat", "weight": 3,
                  "active_conns": 12, "inactive_conns": 3},
                 {"address": "203.0.113.12:8000", "forward": "nat", "weight": 1,
                  "active_conns": 0, "inactive_conns": 0}]},
      {"protocol": "udp", "address": "[2001:db8::10]:53", "scheduler": "rr",
       "reals": [{"address": "[2001:db8:2::11]:53", "forward": "nat", "weight": 1,
                  "active_conns": 0, "inactive_conns": 7}]}
    ]})");
  const std::string expected =
      "IP Virtual Server version 1.2.1 (size=4096)\n"
      "Prot LocalAddress:Port Scheduler Flags\n"
      "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
      "TCP  192.0.2.10:80 wrr\n"
      "  -> 203.0.113.11:8000            Masq    3      12         3         \n"
      "  -> 203.0.113.12:8000            Masq    1      0          0         \n"
      "UDP  [2001:db8::10]:53 rr\n"
      "  -> [2001:db8:2::11]:53          Masq    1      0          7         \n";
  EXPECT_EQ(format_list(status), expected);
}

TEST(IpvsadmFormat, ForwardNames) {
  EXPECT_STREQ(ipvsadm_forward_name("nat"), "Masq");
  EXPECT_STREQ(ipvsadm_forward_name("tun"), "Tunnel");
  EXPECT_STREQ(ipvsadm_forward_name("dr"), "Route");
}

}  // namespace
}  // namespace vsd
