#include "appliance/vsadm/ipvsadm_format.hpp"

#include <gtest/gtest.h>

#include "appliance/control/protocol.hpp"

namespace vsd {
namespace {

using nlohmann::json;

// The statuses below are JSON, as vsadm receives them from the daemon, and
// read the way vsadm reads them.
control::Status parsed(const json& j) { return control::status_from_json(j); }

TEST(IpvsadmFormat, ListNumericMatchesIpvsadmLayout) {
  auto status = json::parse(R"({
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
  EXPECT_EQ(format_list(parsed(status)), expected);
}

TEST(IpvsadmFormat, ForwardNames) {
  EXPECT_STREQ(ipvsadm_forward_name(ForwardMethod::nat), "Masq");
  EXPECT_STREQ(ipvsadm_forward_name(ForwardMethod::tun), "Tunnel");
  EXPECT_STREQ(ipvsadm_forward_name(ForwardMethod::dr), "Route");
}

// Services given out of order, to check libipvs's sort: fwmark last, IPv4
// before IPv6, TCP before UDP, then address and port; reals by address.
const control::Status& status() {
  static const control::Status s = control::status_from_json(json::parse(R"({
    "max_connections": 1048576,
    "timeouts": {"tcp": 900, "tcpfin": 120, "udp": 300},
    "services": [
      {"fwmark": 1, "protocol": "tcp", "scheduler": "mh", "flags": ["mh-port", "mh-fallback"],
       "persistent": 360, "netmask": 0,
       "stats": {"conns": 5, "inpkts": 50, "outpkts": 0, "inbytes": 5000, "outbytes": 0},
       "rates": {"cps": 1, "inpps": 2, "outpps": 0, "inbps": 300, "outbps": 0},
       "reals": [{"address": "203.0.113.31:0", "forward": "dr", "weight": 1,
                  "active_conns": 2, "inactive_conns": 1, "persistent_conns": 3}]},
      {"protocol": "udp", "address": "[2001:db8::10]:53", "scheduler": "rr", "flags": ["ops"],
       "reals": [{"address": "[2001:db8:2::11]:53", "forward": "nat", "weight": 1,
                  "active_conns": 0, "inactive_conns": 7}]},
      {"protocol": "tcp", "address": "192.0.2.20:80", "scheduler": "wlc",
       "persistent": 300, "netmask": 24,
       "stats": {"conns": 123456789, "inpkts": 1234567890, "outpkts": 123456789012,
                 "inbytes": 123456789012345, "outbytes": 123456789012345678},
       "rates": {"cps": 12, "inpps": 345, "outpps": 6789, "inbps": 123456789, "outbps": 98765},
       "reals": [{"address": "203.0.113.22:80", "forward": "tun", "weight": 1,
                  "upper_threshold": 0, "lower_threshold": 0,
                  "active_conns": 0, "inactive_conns": 0, "persistent_conns": 0},
                 {"address": "203.0.113.21:8080", "forward": "nat", "weight": 2,
                  "upper_threshold": 100, "lower_threshold": 75,
                  "active_conns": 40, "inactive_conns": 9, "persistent_conns": 4,
                  "stats": {"conns": 1000, "inpkts": 20000, "outpkts": 18000,
                            "inbytes": 1500000, "outbytes": 99000000},
                  "rates": {"cps": 3, "inpps": 40, "outpps": 38, "inbps": 4000, "outbps": 120000000}}]},
      {"protocol": "tcp", "address": "192.0.2.10:0", "scheduler": "wrr", "persistent": 1800,
       "reals": [{"address": "203.0.113.12:0", "forward": "dr", "weight": 3},
                 {"address": "203.0.113.11:0", "forward": "dr", "weight": 1}]}
    ]})"));
  return s;
}

const TableResolver& names() {
  static const TableResolver r = [] {
    TableResolver t;
    t.hosts["www.example.com"] = *IpAddress::parse("192.0.2.20");
    t.hosts["rs1.a-rather-long-host-name.example.com"] = *IpAddress::parse("203.0.113.21");
    t.hosts["ns.example.net"] = *IpAddress::parse("2001:db8::10");
    t.hosts["client.example.org"] = *IpAddress::parse("198.51.100.7");
    t.services[{"http", "tcp"}] = 80;
    t.services[{"http-alt", "tcp"}] = 8080;
    t.services[{"domain", "udp"}] = 53;
    return t;
  }();
  return r;
}

ListOptions numeric() {
  ListOptions o;
  o.numeric = true;
  return o;
}

TEST(IpvsadmFormat, ListSortsAndShowsFlags) {
  EXPECT_EQ(format_list(status(), numeric(), names()),
            "IP Virtual Server version 1.2.1 (size=1048576)\n"
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
            "TCP  192.0.2.10:0 wrr persistent 1800\n"
            "  -> 203.0.113.11:0               Route   1      0          0         \n"
            "  -> 203.0.113.12:0               Route   3      0          0         \n"
            "TCP  192.0.2.20:80 wlc persistent 300 mask 255.255.255.0\n"
            "  -> 203.0.113.21:8080            Masq    2      40         9         \n"
            "  -> 203.0.113.22:80              Tunnel  1      0          0         \n"
            "UDP  [2001:db8::10]:53 rr ops\n"
            "  -> [2001:db8:2::11]:53          Masq    1      0          7         \n"
            "FWM  1 mh (mh-fallback,mh-port) persistent 360\n"
            "  -> 203.0.113.31:0               Route   1      2          1         \n");
}

TEST(IpvsadmFormat, ListNoSortKeepsTheDaemonsOrder) {
  ListOptions o = numeric();
  o.nosort = true;
  std::string out = format_list(status(), o, names());
  EXPECT_LT(out.find("FWM  1"), out.find("UDP  [2001:db8::10]:53"));
  EXPECT_LT(out.find("203.0.113.22:80"), out.find("203.0.113.21:8080"));
}

TEST(IpvsadmFormat, ListWithNames) {
  EXPECT_EQ(format_list(status(), ListOptions{}, names()),
            "IP Virtual Server version 1.2.1 (size=1048576)\n"
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
            "TCP  192.0.2.10:0 wrr persistent 1800\n"
            "  -> 203.0.113.11:0               Route   1      0          0         \n"
            "  -> 203.0.113.12:0               Route   3      0          0         \n"
            "TCP  www.example.com:http wlc persistent 300 mask 255.255.255.0\n"
            "  -> rs1.a-rather-long-host-name. Masq    2      40         9         \n"
            "  -> 203.0.113.22:http            Tunnel  1      0          0         \n"
            "UDP  [ns.example.net]:domain rr ops\n"
            "  -> [2001:db8:2::11]:domain      Masq    1      0          7         \n"
            "FWM  1 mh (mh-fallback,mh-port) persistent 360\n"
            "  -> 203.0.113.31:0               Route   1      2          1         \n");
}

TEST(IpvsadmFormat, ServiceNameIsCutAt33Characters) {
  TableResolver long_names;
  long_names.hosts["a-very-long-virtual-service-host-name.example.com"] = *IpAddress::parse("192.0.2.20");
  std::string out = format_list(status(), ListOptions{}, long_names);
  EXPECT_NE(out.find("\nTCP  a-very-long-virtual-service- wlc persistent 300"), std::string::npos)
      << out;
}

TEST(IpvsadmFormat, Stats) {
  ListOptions o = numeric();
  o.stats = true;
  EXPECT_EQ(format_list(status(), o, names()),
            "IP Virtual Server version 1.2.1 (size=1048576)\n"
            "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n"
            "  -> RemoteAddress:Port\n"
            "TCP  192.0.2.10:0                        0        0        0        0        0\n"
            "  -> 203.0.113.11:0                      0        0        0        0        0\n"
            "  -> 203.0.113.12:0                      0        0        0        0        0\n"
            "TCP  192.0.2.20:80                 123456K    1234M     123G     123T  123456T\n"
            "  -> 203.0.113.21:8080                1000    20000    18000  1500000 99000000\n"
            "  -> 203.0.113.22:80                     0        0        0        0        0\n"
            "UDP  [2001:db8::10]:53                   0        0        0        0        0\n"
            "  -> [2001:db8:2::11]:53                 0        0        0        0        0\n"
            "FWM  1                                   5       50        0     5000        0\n"
            "  -> 203.0.113.31:0                      0        0        0        0        0\n");
}

TEST(IpvsadmFormat, StatsExact) {
  ListOptions o = numeric();
  o.stats = true;
  o.exact = true;
  std::string out = format_list(status(), o, names());
  EXPECT_NE(out.find("TCP  192.0.2.20:80                123456789 1234567890 123456789012 "
                     "123456789012345 123456789012345678\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("  -> 203.0.113.21:8080                1000    20000    18000  1500000 99000000\n"),
            std::string::npos)
      << out;
}

TEST(IpvsadmFormat, Rate) {
  ListOptions o = numeric();
  o.rate = true;
  EXPECT_EQ(format_list(status(), o, names()),
            "IP Virtual Server version 1.2.1 (size=1048576)\n"
            "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n"
            "  -> RemoteAddress:Port\n"
            "TCP  192.0.2.10:0                        0        0        0        0        0\n"
            "  -> 203.0.113.11:0                      0        0        0        0        0\n"
            "  -> 203.0.113.12:0                      0        0        0        0        0\n"
            "TCP  192.0.2.20:80                      12      345     6789  123456K    98765\n"
            "  -> 203.0.113.21:8080                   3       40       38     4000  120000K\n"
            "  -> 203.0.113.22:80                     0        0        0        0        0\n"
            "UDP  [2001:db8::10]:53                   0        0        0        0        0\n"
            "  -> [2001:db8:2::11]:53                 0        0        0        0        0\n"
            "FWM  1                                   1        2        0      300        0\n"
            "  -> 203.0.113.31:0                      0        0        0        0        0\n");
}

TEST(IpvsadmFormat, Thresholds) {
  ListOptions o = numeric();
  o.thresholds = true;
  EXPECT_EQ(format_list(status(), o, names()),
            "IP Virtual Server version 1.2.1 (size=1048576)\n"
            "Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n"
            "  -> RemoteAddress:Port\n"
            "TCP  192.0.2.10:0 wrr persistent 1800\n"
            "  -> 203.0.113.11:0               0          0          0          0         \n"
            "  -> 203.0.113.12:0               0          0          0          0         \n"
            "TCP  192.0.2.20:80 wlc persistent 300 mask 255.255.255.0\n"
            "  -> 203.0.113.21:8080            100        75         40         9         \n"
            "  -> 203.0.113.22:80              0          0          0          0         \n"
            "UDP  [2001:db8::10]:53 rr ops\n"
            "  -> [2001:db8:2::11]:53          0          0          0          7         \n"
            "FWM  1 mh (mh-fallback,mh-port) persistent 360\n"
            "  -> 203.0.113.31:0               0          0          2          1         \n");
}

TEST(IpvsadmFormat, PersistentConn) {
  ListOptions o = numeric();
  o.persistent_conn = true;
  EXPECT_EQ(format_list(status(), o, names()),
            "IP Virtual Server version 1.2.1 (size=1048576)\n"
            "Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn \n"
            "  -> RemoteAddress:Port\n"
            "TCP  192.0.2.10:0 wrr persistent 1800\n"
            "  -> 203.0.113.11:0               1         0           0          0         \n"
            "  -> 203.0.113.12:0               3         0           0          0         \n"
            "TCP  192.0.2.20:80 wlc persistent 300 mask 255.255.255.0\n"
            "  -> 203.0.113.21:8080            2         4           40         9         \n"
            "  -> 203.0.113.22:80              1         0           0          0         \n"
            "UDP  [2001:db8::10]:53 rr ops\n"
            "  -> [2001:db8:2::11]:53          1         0           0          7         \n"
            "FWM  1 mh (mh-fallback,mh-port) persistent 360\n"
            "  -> 203.0.113.31:0               1         3           2          1         \n");
}

TEST(IpvsadmFormat, OneService) {
  IpvsadmService svc;
  svc.address = *Endpoint::parse("192.0.2.20:80");
  EXPECT_EQ(format_list_service(status(), svc, numeric(), names()),
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
            "TCP  192.0.2.20:80 wlc persistent 300 mask 255.255.255.0\n"
            "  -> 203.0.113.21:8080            Masq    2      40         9         \n"
            "  -> 203.0.113.22:80              Tunnel  1      0          0         \n");
  svc.protocol = Protocol::udp;
  EXPECT_EQ(format_list_service(status(), svc, numeric(), names()), std::nullopt);
  IpvsadmService mark;
  mark.fwmark = 1;
  auto out = format_list_service(status(), mark, numeric(), names());
  ASSERT_TRUE(out);
  EXPECT_NE(out->find("FWM  1 mh"), std::string::npos);
  mark.ipv6 = true;
  EXPECT_EQ(format_list_service(status(), mark, numeric(), names()), std::nullopt);
}

TEST(IpvsadmFormat, SaveNumeric) {
  EXPECT_EQ(format_save(status(), true, names()),
            "-A -t 192.0.2.10:0 -s wrr -p 1800\n"
            "-a -t 192.0.2.10:0 -r 203.0.113.11:0 -g -w 1\n"
            "-a -t 192.0.2.10:0 -r 203.0.113.12:0 -g -w 3\n"
            "-A -t 192.0.2.20:80 -s wlc -p 300 -M 255.255.255.0\n"
            "-a -t 192.0.2.20:80 -r 203.0.113.21:8080 -m -w 2\n"
            "-a -t 192.0.2.20:80 -r 203.0.113.22:80 -i -w 1 --tun-type ipip\n"
            "-A -u [2001:db8::10]:53 -s rr -o\n"
            "-a -u [2001:db8::10]:53 -r [2001:db8:2::11]:53 -m -w 1\n"
            "-A -f 1 -s mh -p 360 -b mh-fallback,mh-port\n"
            "-a -f 1 -r 203.0.113.31:0 -g -w 1\n");
}

TEST(IpvsadmFormat, SaveWithNames) {
  EXPECT_EQ(format_save(status(), false, names()),
            "-A -t 192.0.2.10:0 -s wrr -p 1800\n"
            "-a -t 192.0.2.10:0 -r 203.0.113.11:0 -g -w 1\n"
            "-a -t 192.0.2.10:0 -r 203.0.113.12:0 -g -w 3\n"
            "-A -t www.example.com:http -s wlc -p 300 -M 255.255.255.0\n"
            "-a -t www.example.com:http -r rs1.a-rather-long-host-name.example.com:http-alt -m -w 2\n"
            "-a -t www.example.com:http -r 203.0.113.22:http -i -w 1 --tun-type ipip\n"
            "-A -u [ns.example.net]:domain -s rr -o\n"
            "-a -u [ns.example.net]:domain -r [2001:db8:2::11]:domain -m -w 1\n"
            "-A -f 1 -s mh -p 360 -b mh-fallback,mh-port\n"
            "-a -f 1 -r 203.0.113.31:0 -g -w 1\n");
}

TEST(IpvsadmFormat, SaveIpv6PersistenceAndFwmark) {
  auto st = json::parse(R"({"services": [
      {"protocol": "tcp", "address": "[2001:db8::10]:0", "scheduler": "sh", "persistent": 60,
       "netmask": 64, "flags": ["flag-1"]},
      {"fwmark": 9, "ipv6": true, "scheduler": "rr"}]})");
  EXPECT_EQ(format_save(parsed(st), true, names()),
            "-A -t [2001:db8::10]:0 -s sh -p 60 -M 64 -b sh-fallback\n"
            "-A -f 9 -6 -s rr\n");
  ListOptions o = numeric();
  std::string out = format_list(parsed(st), o, names());
  EXPECT_NE(out.find("TCP  [2001:db8::10]:0 sh (sh-fallback) persistent 60 mask 64\n"), std::string::npos)
      << out;
  EXPECT_NE(out.find("FWM  9 IPv6 rr\n"), std::string::npos) << out;
}

TEST(IpvsadmFormat, Timeout) {
  EXPECT_EQ(format_timeout(status()), "Timeout (tcp tcpfin udp): 900 120 300\n");
}

const std::vector<control::ConnectionStatus>& connections() {
  static const auto c = control::connections_from_reply(json::parse(R"({"ok": true, "connections": [
      {"protocol": "tcp", "client": "198.51.100.7:51234", "virtual": "192.0.2.20:80",
       "real": "203.0.113.21:8080", "state": "ESTABLISHED", "expires_s": 899, "is_template": false},
      {"protocol": "tcp", "client": "198.51.100.7:0", "virtual": "192.0.2.20:80",
       "real": "203.0.113.21:8080", "state": "NONE", "expires_s": 6000, "is_template": true},
      {"protocol": "udp", "client": "[2001:db8:9::1]:40000", "virtual": "[2001:db8::10]:53",
       "real": "[2001:db8:2::11]:53", "state": "udp", "expires_s": 5, "is_template": false},
      {"protocol": "tcp", "client": "198.51.100.8:1025", "virtual": "192.0.2.10:443",
       "real": "203.0.113.11:443", "expires_s": 30, "is_template": true}]})"));
  return c;
}

TEST(IpvsadmFormat, ConnectionsNumeric) {
  EXPECT_EQ(format_connections(connections(), numeric(), names()),
            "IPVS connection entries\n"
            "pro expire state       source             virtual            destination\n"
            "TCP 14:59  ESTABLISHED 198.51.100.7:51234 192.0.2.20:80      203.0.113.21:8080\n"
            "TCP 100:00 NONE        198.51.100.7:0     192.0.2.20:80      203.0.113.21:8080\n"
            "UDP 00:05  UDP         [2001:db8:9::1]:40000 [2001:db8::10]:53  [2001:db8:2::11]:53\n"
            "TCP 00:30  NONE        198.51.100.8:1025  192.0.2.10:443     203.0.113.11:443\n");
}

TEST(IpvsadmFormat, ConnectionsWithNamesAndPersistentConn) {
  ListOptions o;
  o.persistent_conn = true;
  EXPECT_EQ(format_connections(connections(), o, names()),
            "IPVS connection entries\n"
            "pro expire state       source             virtual            destination        pe name          pe_data\n"
            "TCP 14:59  ESTABLISHED client.example.org:51234 www.example.com:http rs1.a-rather-long-host-name.example.com:http-alt\n"
            "TCP 100:00 NONE        client.example.org:0 www.example.com:http rs1.a-rather-long-host-name.example.com:http-alt\n"
            "UDP 00:05  UDP         [2001:db8:9::1]:40000 [ns.example.net]:domain [2001:db8:2::11]:domain\n"
            "TCP 00:30  NONE        198.51.100.8:1025  192.0.2.10:443     203.0.113.11:443\n");
}

// Printed as the stream arrives: the head once, then each batch's rows;
// together the same text as the listing in one piece.
TEST(IpvsadmFormat, ConnectionsInPartsAreTheListingInOnePiece) {
  const auto& all = connections();
  for (bool persistent : {false, true}) {
    ListOptions o = numeric();
    o.persistent_conn = persistent;
    std::string parts = format_connections_head(o);
    for (const auto& c : all) parts += format_connection_rows({c}, o, names());
    EXPECT_EQ(parts, format_connections(all, o, names()));
  }
  EXPECT_EQ(format_connection_rows({}, numeric(), names()), "");
}

// Without -n, each address and port is asked once per listing, not once
// per entry (a slow resolver would stall the stream), with the same names.
TEST(IpvsadmFormat, ConnectionNamesAreAskedOnceEach) {
  struct Counting final : NameResolver {
    const NameResolver& inner;
    mutable int hosts = 0, services = 0;
    explicit Counting(const NameResolver& n) : inner(n) {}
    std::optional<IpAddress> host_to_ipv4(const std::string& n) const override { return inner.host_to_ipv4(n); }
    std::optional<std::uint16_t> service_to_port(const std::string& n, const std::string& p) const override {
      return inner.service_to_port(n, p);
    }
    std::optional<std::string> address_to_host(const IpAddress& a) const override {
      ++hosts;
      return inner.address_to_host(a);
    }
    std::optional<std::string> port_to_service(std::uint16_t port, const std::string& p) const override {
      ++services;
      return inner.port_to_service(port, p);
    }
  } counting(names());
  const CachingResolver cached(counting, 3);
  ListOptions o;
  std::string rows;
  for (int i = 0; i < 50; ++i) rows = format_connection_rows(connections(), o, cached);
  EXPECT_EQ(rows, format_connection_rows(connections(), o, names())) << "3 kept at most: same names";
  const CachingResolver roomy(counting, 100);
  counting.hosts = counting.services = 0;
  for (int i = 0; i < 50; ++i) format_connection_rows(connections(), o, roomy);
  EXPECT_EQ(counting.hosts, 9) << "9 distinct addresses";
  EXPECT_LE(counting.services, 8);
}

// --json -L -c streamed: byte for byte the document vsadm printed from the
// one-line reply ({"connections": [...], "ok": true} indented by 2),
// whatever the batches; a listing cut short is still one JSON document.
TEST(IpvsadmFormat, ConnectionsJsonInPartsIsTheOldDocument) {
  const auto& all = connections();
  auto whole = [](const std::vector<control::ConnectionStatus>& c) {
    return json{{"ok", true}, {"connections", control::to_json(c)}}.dump(2) + "\n";
  };
  for (std::size_t split : {0, 1, 2, 4}) {
    ConnectionsJson j;
    std::string out = j.begin();
    out += j.add({all.begin(), all.begin() + static_cast<std::ptrdiff_t>(split)});
    out += j.add({});
    out += j.add({all.begin() + static_cast<std::ptrdiff_t>(split), all.end()});
    out += j.end();
    EXPECT_EQ(out, whole(all)) << "split at " << split;
  }
  ConnectionsJson none;
  EXPECT_EQ(none.begin() + none.end(), whole({}));

  ConnectionsJson cut;
  std::string out = cut.begin() + cut.add({all[0]}) + cut.end("the listing is incomplete: \"x\"");
  const json doc = json::parse(out);
  EXPECT_EQ(doc["ok"], false);
  EXPECT_EQ(doc["error"], "the listing is incomplete: \"x\"");
  EXPECT_EQ(doc["connections"].size(), 1u);
}

TEST(IpvsadmFormat, LargeNumbersAreScaledLikeIpvsadm) {
  // The first number column of `-L --stats`: 9 wide, scaled above 100
  // million unless --exact (then the length + 1).
  auto first_column = [](unsigned long long v, bool exact) {
    json st = {{"services", json::array({{{"protocol", "tcp"}, {"address", "192.0.2.1:80"},
                                          {"stats", {{"conns", v}}}}})}};
    ListOptions o = numeric();
    o.stats = true;
    o.exact = exact;
    std::string out = format_list(parsed(st), o, TableResolver{});
    std::size_t line = out.find("TCP  ");
    std::string cols = out.substr(line + 33, out.find('\n', line) - line - 33);
    return cols.substr(0, cols.find(' ', cols.find_first_not_of(' ')));
  };
  EXPECT_EQ(first_column(99999999, false), " 99999999");
  EXPECT_EQ(first_column(100000000, false), "  100000K");
  EXPECT_EQ(first_column(999999999, false), "  999999K");
  EXPECT_EQ(first_column(1000000000, false), "    1000M");
  EXPECT_EQ(first_column(99999999999ULL, false), "   99999M");
  EXPECT_EQ(first_column(100000000000ULL, false), "     100G");
  EXPECT_EQ(first_column(100000000000000ULL, false), "     100T");
  EXPECT_EQ(first_column(12345678, true), " 12345678");
  EXPECT_EQ(first_column(123456789, true), " 123456789");
}

TEST(IpvsadmFormat, MissingFieldsAreZero) {
  json st = {{"services", json::array({{{"protocol", "tcp"}, {"address", "192.0.2.1:80"},
                                        {"scheduler", "rr"},
                                        {"reals", json::array({{{"address", "203.0.113.1:80"}}})}}})}};
  EXPECT_EQ(format_list(parsed(st)),
            "IP Virtual Server version 1.2.1 (size=0)\n"
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
            "TCP  192.0.2.1:80 rr\n"
            // A reply without "forward" reads as NAT, the status type's default.
            "  -> 203.0.113.1:80               Masq    0      0          0         \n");
  EXPECT_EQ(format_list(parsed(json::object())),
            "IP Virtual Server version 1.2.1 (size=0)\n"
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n");
  EXPECT_EQ(format_save(parsed(json::array()), true, TableResolver{}), "");
}

TEST(IpvsadmNames, AddressPortNames) {
  auto a4 = *IpAddress::parse("192.0.2.20");
  auto a6 = *IpAddress::parse("2001:db8::10");
  EXPECT_EQ(addrport_name(a4, 80, "tcp", true, names()), "192.0.2.20:80");
  EXPECT_EQ(addrport_name(a4, 80, "tcp", false, names()), "www.example.com:http");
  EXPECT_EQ(addrport_name(a4, 80, "udp", false, names()), "www.example.com:80");
  EXPECT_EQ(addrport_name(a4, 80, "", false, names()), "www.example.com:80");
  EXPECT_EQ(addrport_name(a6, 53, "udp", false, names()), "[ns.example.net]:domain");
  EXPECT_EQ(addrport_name(a6, 53, "udp", true, names()), "[2001:db8::10]:53");
  TableResolver long_name;
  long_name.hosts[std::string(70, 'h')] = a4;
  EXPECT_EQ(addrport_name(a4, 80, "tcp", false, long_name).size(), 59u);
}

}  // namespace
}  // namespace vsd
