#include "appliance/vsadm/ipvsadm_args.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>

namespace vsd {
namespace {

// Names the tests can count on, instead of /etc/services and DNS.
const TableResolver& names() {
  static const TableResolver r = [] {
    TableResolver t;
    t.hosts["www.example.com"] = *IpAddress::parse("192.0.2.10");
    t.hosts["rs1.example.com"] = *IpAddress::parse("203.0.113.11");
    t.hosts["mask.example.com"] = *IpAddress::parse("255.255.0.0");
    t.services[{"http", "tcp"}] = 80;
    t.services[{"https", "tcp"}] = 443;
    t.services[{"domain", "udp"}] = 53;
    return t;
  }();
  return r;
}

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

IpvsadmParse parse(const std::string& line) { return parse_ipvsadm_args(words(line), names(), "vsadm"); }

IpvsadmCommand ok(const std::string& line) {
  auto p = parse(line);
  EXPECT_TRUE(p.command.has_value()) << line << " -> " << p.error;
  return p.command.value_or(IpvsadmCommand{});
}

void bad(const std::string& line, const std::string& error, int code = 2) {
  auto p = parse(line);
  EXPECT_FALSE(p.command.has_value()) << line;
  EXPECT_EQ(p.error, error) << line;
  EXPECT_EQ(p.exit_code, code) << line;
}

Endpoint ep(const char* text) { return *Endpoint::parse(text); }

const std::string kTryHelp = "Try `vsadm -h' or 'vsadm --help' for more information.";

TEST(IpvsadmArgs, NoArgumentsListsWithNames) {
  auto c = ok("");
  EXPECT_EQ(c.op, IpvsadmOp::list);
  EXPECT_FALSE(c.list.numeric);
  EXPECT_FALSE(c.service);
}

TEST(IpvsadmArgs, ListSpellings) {
  for (const char* line : {"-L -n", "-Ln", "-l -n", "-ln", "--list --numeric"}) {
    auto c = ok(line);
    EXPECT_EQ(c.op, IpvsadmOp::list) << line;
    EXPECT_TRUE(c.list.numeric) << line;
  }
}

TEST(IpvsadmArgs, CommandMustComeFirst) {
  bad("-n -L", kTryHelp, 255);
  bad("-nL", kTryHelp, 255);
  bad("foo", kTryHelp, 255);
  bad("--bogus", kTryHelp, 255);
}

TEST(IpvsadmArgs, ListOptions) {
  auto c = ok("-L -n --stats --exact --nosort --sort");
  EXPECT_TRUE(c.list.stats);
  EXPECT_TRUE(c.list.exact);
  EXPECT_TRUE(c.list.nosort);
  EXPECT_TRUE(ok("-L -X").list.exact);
  EXPECT_TRUE(ok("-L --rate").list.rate);
  EXPECT_TRUE(ok("-L --thresholds").list.thresholds);
  EXPECT_TRUE(ok("-L --persistent-conn").list.persistent_conn);
  EXPECT_TRUE(ok("-L --timeout").list.timeout);
  EXPECT_TRUE(ok("-L --daemon").list.daemon);
  c = ok("-L -c -n");
  EXPECT_TRUE(c.list.connections);
  EXPECT_TRUE(ok("-Lcn").list.connections);
  c = ok("-L -t 192.0.2.10:80 -n");
  ASSERT_TRUE(c.service);
  EXPECT_EQ(c.service->address, ep("192.0.2.10:80"));
  EXPECT_TRUE(ok("-L -c --persistent-conn").list.persistent_conn);
}

TEST(IpvsadmArgs, ListConflicts) {
  bad("-L -c --stats", "options conflicts in the list command");
  bad("-L --timeout --rate", "options conflicts in the list command");
  bad("-L --timeout --persistent-conn", "options conflicts in the list command");
  bad("-L -c -t 192.0.2.10:80",
      "The option 'service-address' conflicts with the 'connection' option in the 'list' command");
  bad("-L -c --timeout",
      "The option 'timeout' conflicts with the 'connection' option in the 'list' command");
  bad("-L -n -n", "multiple 'numeric' options specified");
  bad("-L -s rr", "Illegal 'scheduler' option with the 'list' command");
  bad("-L -o", "Illegal 'ops' option with the 'list' command");
  bad("-L junk", "unexpected argument junk");
}

TEST(IpvsadmArgs, PoptErrors) {
  bad("-L --foo", "--foo: unknown option", 255);
  bad("-L -q", "-q: unknown option", 255);
  bad("-A -t", "-t: missing argument", 255);
  bad("-L --numeric=yes", "--numeric=yes: option does not take an argument", 255);
  bad("-L -A", "invalid option `-A'");
  bad("-A -t 192.0.2.10:80 -a", "invalid option `-a'");
  bad("-L -h", "invalid option `-h'");
}

TEST(IpvsadmArgs, AddServiceSpellings) {
  for (const char* line :
       {"-A -t 192.0.2.10:80", "-At 192.0.2.10:80", "-A -t192.0.2.10:80",
        "--add-service --tcp-service 192.0.2.10:80", "--add-service --tcp-service=192.0.2.10:80"}) {
    auto c = ok(line);
    EXPECT_EQ(c.op, IpvsadmOp::add_service) << line;
    ASSERT_TRUE(c.service) << line;
    EXPECT_EQ(c.service->protocol, Protocol::tcp);
    EXPECT_EQ(c.service->address, ep("192.0.2.10:80"));
    EXPECT_EQ(c.scheduler, "wlc");  // ipvsadm's default
    EXPECT_EQ(c.persistent, 0u);
  }
}

TEST(IpvsadmArgs, SeedServiceLine) {
  auto c = ok("-A -t 192.0.2.10:0 -s wrr -p 1800");
  EXPECT_EQ(c.service->address, ep("192.0.2.10:0"));
  EXPECT_EQ(c.scheduler, "wrr");
  EXPECT_EQ(c.persistent, 1800u);
}

TEST(IpvsadmArgs, PersistentOptionalArgument) {
  EXPECT_EQ(ok("-A -t 192.0.2.10:0 -p").persistent, 360u);
  auto c = ok("-A -t 192.0.2.10:0 -p -s rr");
  EXPECT_EQ(c.persistent, 360u);
  EXPECT_EQ(c.scheduler, "rr");
  EXPECT_EQ(ok("-A -t 192.0.2.10:0 -p1800").persistent, 1800u);
  EXPECT_EQ(ok("-A -t 192.0.2.10:0 --persistent=60").persistent, 60u);
  EXPECT_EQ(ok("-A -t 192.0.2.10:0 -p 2678400").persistent, 2678400u);  // 31 days
  bad("-A -t 192.0.2.10:0 -p 0", "invalid timeout value `0' specified");
  bad("-A -t 192.0.2.10:0 -p 2678401", "invalid timeout value `2678401' specified");
  bad("-A -t 192.0.2.10:0 -p 1x", "invalid timeout value `1x' specified");
  bad("-A -t 192.0.2.10:0 -p 60 -p 60", "multiple 'persistent' options specified");
}

TEST(IpvsadmArgs, ServiceAddressesAndNames) {
  auto c = ok("-A -t 192.0.2.10:https");
  EXPECT_EQ(c.service->address, ep("192.0.2.10:443"));
  c = ok("-A -t www.example.com:http");
  EXPECT_EQ(c.service->address, ep("192.0.2.10:80"));
  c = ok("-A -u www.example.com:domain");
  EXPECT_EQ(c.service->protocol, Protocol::udp);
  EXPECT_EQ(c.service->address, ep("192.0.2.10:53"));
  c = ok("-A -u [2001:db8::10]:53 -s rr");
  EXPECT_EQ(c.service->address, ep("[2001:db8::10]:53"));
  EXPECT_TRUE(c.service->is_ipv6());
  c = ok("-A -u [2001:db8::10]:domain");
  EXPECT_EQ(c.service->address, ep("[2001:db8::10]:53"));
  c = ok("-A -t 2001:db8::10 -p");  // a bare IPv6 literal has no port
  EXPECT_EQ(c.service->address, ep("[2001:db8::10]:0"));
  c = ok("-A -t 192.0.2.10 -p");
  EXPECT_EQ(c.service->address, ep("192.0.2.10:0"));
  const std::string illegal = "illegal virtual server address[:port] specified";
  bad("-A -t 80", illegal);
  bad("-A -t [2001:db8::10]", illegal);
  bad("-A -t [2001:db8::10]80", illegal);
  bad("-A -t nosuchhost:80", illegal);
  bad("-A -t 192.0.2.10:nosuchport", illegal);
  bad("-A -t 192.0.2.10:65536", illegal);
  bad("-A -u 192.0.2.10:https", illegal);  // https is a TCP name only here
  bad("-A -t 192.0.2.10:80 -u 192.0.2.10:53", "multiple 'service-address' options specified");
}

TEST(IpvsadmArgs, FwmarkServices) {
  auto c = ok("-A -f 1 -s rr");
  ASSERT_TRUE(c.service);
  EXPECT_EQ(c.service->fwmark, 1u);
  EXPECT_FALSE(c.service->ipv6);
  EXPECT_TRUE(ok("-A -f 7 -6").service->ipv6);
  EXPECT_TRUE(ok("-A -f 7 --ipv6").service->ipv6);
  bad("-A -6 -f 1", "-6 used before -f");
  bad("-A -f 0", "invalid fwmark value `0' specified");
  bad("-A -f abc", "invalid fwmark value `abc' specified");
  bad("-A -f -3", "invalid fwmark value `-3' specified");
  bad("-A -f 4294967296", "invalid fwmark value `4294967296' specified");
  EXPECT_EQ(ok("-A -f 4294967295").service->fwmark, 4294967295u);
}

TEST(IpvsadmArgs, Netmask) {
  EXPECT_EQ(ok("-A -t 192.0.2.10:0 -p 60 -M 255.255.255.0").netmask, 24);
  EXPECT_EQ(ok("-A -t 192.0.2.10:0 -M 255.255.255.255 -p").netmask, 32);
  EXPECT_EQ(ok("-A -t 192.0.2.10:0 -p -M mask.example.com").netmask, 16);
  EXPECT_EQ(ok("-A -u [2001:db8::10]:53 -p -M 64").netmask, 64);
  EXPECT_EQ(ok("-A -M 48 -u [2001:db8::10]:53 -p").netmask, 48);  // the family decides, wherever -M is
  bad("-A -t 192.0.2.10:0 -p -M 255.0.255.0", "illegal virtual server persistent mask specified");
  bad("-A -t 192.0.2.10:0 -p -M 0.0.0.0", "illegal virtual server persistent mask specified");
  bad("-A -t 192.0.2.10:0 -p -M nonsense", "illegal virtual server persistent mask specified");
  bad("-A -u [2001:db8::10]:53 -p -M 129", "illegal ipv6 netmask specified");
  bad("-A -u [2001:db8::10]:53 -p -M 0", "illegal ipv6 netmask specified");
}

TEST(IpvsadmArgs, OneProtocolChecks) {
  EXPECT_TRUE(ok("-A -u 192.0.2.10:53 -o").ops);
  EXPECT_TRUE(ok("-A -f 3 -o").ops);
  bad("-A -t 192.0.2.10:80 -o", "One-Packet Scheduling is only for UDP virtual services");
  bad("-A -t 192.0.2.10:0", "Zero port specified for non-persistent service");
  bad("-E -t 192.0.2.10:0 -s rr", "Zero port specified for non-persistent service");
  EXPECT_EQ(ok("-A -f 1").service->fwmark, 1u);  // fwmark services have no port to check
}

TEST(IpvsadmArgs, SchedulerFlags) {
  auto c = ok("-A -t 192.0.2.10:80 -s mh -b mh-port,mh-fallback");
  EXPECT_EQ(c.scheduler_flags, (std::vector<std::string>{"mh-fallback", "mh-port"}));
  c = ok("-A -t 192.0.2.10:80 -s sh -b flag-2");
  EXPECT_EQ(c.scheduler_flags, (std::vector<std::string>{"sh-port"}));  // as ipvsadm prints it
  c = ok("-A -t 192.0.2.10:80 -s rr -b flag-1,flag-3");
  EXPECT_EQ(c.scheduler_flags, (std::vector<std::string>{"flag-1", "flag-3"}));
  c = ok("-A -t 192.0.2.10:80 -b sh-port -s sh");  // -b is checked against the final -s
  EXPECT_EQ(c.scheduler_flags, (std::vector<std::string>{"sh-port"}));
  bad("-A -t 192.0.2.10:80 -b sh-port", "incompatible scheduler flag `sh-port'");
  bad("-A -t 192.0.2.10:80 -s sh -b mh-port", "incompatible scheduler flag `mh-port'");
  bad("-A -t 192.0.2.10:80 -s mh -b bogus", "invalid scheduler flag `bogus'");
}

TEST(IpvsadmArgs, EditAndDeleteService) {
  auto c = ok("-E -t 192.0.2.10:80 -s rr");
  EXPECT_EQ(c.op, IpvsadmOp::edit_service);
  EXPECT_EQ(c.scheduler, "rr");
  c = ok("-D -t 192.0.2.10:80");
  EXPECT_EQ(c.op, IpvsadmOp::delete_service);
  bad("-D -t 192.0.2.10:80 -s rr", "Illegal 'scheduler' option with the 'delete-service' command");
  bad("-D", "You need to supply the 'service-address' option for the 'delete-service' command");
  bad("-E -s rr", "You need to supply the 'service-address' option for the 'edit-service' command");
  bad("-A -t 192.0.2.10:80 -w 3", "Illegal 'weight' option with the 'add-service' command");
  bad("-A -t 192.0.2.10:80 -r 203.0.113.11",
      "Illegal 'real-server' option with the 'add-service' command");
}

TEST(IpvsadmArgs, AddServerDefaultsToGatewaying) {
  auto c = ok("-a -t 192.0.2.10:80 -r 203.0.113.11");
  EXPECT_EQ(c.op, IpvsadmOp::add_server);
  EXPECT_EQ(c.real, ep("203.0.113.11:80"));  // the service's port
  EXPECT_EQ(c.forward, ForwardMethod::dr);
  EXPECT_EQ(c.weight, 1u);
  EXPECT_EQ(c.upper_threshold, 0u);
}

TEST(IpvsadmArgs, AddServerOptions) {
  auto c = ok("-a -t 192.0.2.10:80 -r 203.0.113.11:8080 -m -w 3 -x 100 -y 50");
  EXPECT_EQ(c.real, ep("203.0.113.11:8080"));
  EXPECT_EQ(c.forward, ForwardMethod::nat);
  EXPECT_EQ(c.weight, 3u);
  EXPECT_EQ(c.upper_threshold, 100u);
  EXPECT_EQ(c.lower_threshold, 50u);
  // DR and TUN keep the VIP's port whatever -r says.
  EXPECT_EQ(ok("-a -t 192.0.2.10:80 -r 203.0.113.11:8080 -g").real, ep("203.0.113.11:80"));
  c = ok("-a -t 192.0.2.10:80 -r 203.0.113.11:8080 -i");
  EXPECT_EQ(c.real, ep("203.0.113.11:80"));
  EXPECT_EQ(c.forward, ForwardMethod::tun);
  // ... but not for fwmark services, which have no port.
  EXPECT_EQ(ok("-a -f 1 -r 203.0.113.11:8080 -g").real, ep("203.0.113.11:8080"));
  EXPECT_EQ(ok("-a -f 1 -r 203.0.113.11").real, ep("203.0.113.11:0"));
  EXPECT_EQ(ok("-a -t www.example.com:http -r rs1.example.com:https -m").real, ep("203.0.113.11:443"));
  EXPECT_EQ(ok("-a -u [2001:db8::10]:53 -r 2001:db8::11 -m").real, ep("[2001:db8::11]:53"));
  // ipvsadm wants ":port" after "]": a bracketed address alone is refused.
  bad("-a -u [2001:db8::10]:53 -r [2001:db8::11] -m", "illegal real server address[:port] specified");
  EXPECT_EQ(ok("-a -t 192.0.2.10:80 -r 203.0.113.11 -w 0").weight, 0u);
  EXPECT_EQ(ok("-a -t 192.0.2.10:80 -r 203.0.113.11 -w 65535").weight, 65535u);
  EXPECT_EQ(ok("--add-server -t 192.0.2.10:80 --real-server 203.0.113.11 --masquerading --weight 2")
                .forward,
            ForwardMethod::nat);
  EXPECT_EQ(ok("-a -t 192.0.2.10:80 -r 203.0.113.11 -i --tun-type ipip").forward, ForwardMethod::tun);
}

TEST(IpvsadmArgs, ServerErrors) {
  bad("-a -t 192.0.2.10:80 -r 203.0.113.11 -w 65536", "illegal weight specified");
  bad("-a -t 192.0.2.10:80 -r 203.0.113.11 -w -1", "illegal weight specified");
  bad("-a -t 192.0.2.10:80 -r 203.0.113.11 -x abc", "illegal u_threshold specified");
  bad("-a -t 192.0.2.10:80 -r 203.0.113.11 -y 2147483648", "illegal l_threshold specified");
  bad("-a -t 192.0.2.10:80 -r 203.0.113.11 -m -g", "multiple 'forwarding-method' options specified");
  bad("-a -t 192.0.2.10:80 -r 80", "illegal real server address[:port] specified");
  bad("-a -t 192.0.2.10:80 -r nosuchhost", "illegal real server address[:port] specified");
  bad("-a -t 192.0.2.10:80",
      "You need to supply the 'real-server' option for the 'add-server' command");
  bad("-a -r 203.0.113.11",
      "You need to supply the 'service-address' option for the 'add-server' command");
  bad("-a -t 192.0.2.10:80 -r [2001:db8::11]:80 -m",
      "Different address family is allowed only for tunneling servers");
  EXPECT_EQ(ok("-a -t 192.0.2.10:80 -r [2001:db8::11]:80 -i").forward, ForwardMethod::tun);
  bad("-a -t 192.0.2.10:80 -r 203.0.113.11 -s rr",
      "Illegal 'scheduler' option with the 'add-server' command");
  bad("-d -t 192.0.2.10:80 -r 203.0.113.11 -w 2",
      "Illegal 'weight' option with the 'delete-server' command");
  bad("-a -t 192.0.2.10:80 -r 203.0.113.11 -m --tun-type ipip",
      "Tunnel options conflict with forward method");
  bad("-a -t 192.0.2.10:80 -r 203.0.113.11 -i --tun-type gue",
      "tunnel type `gue' is not supported by vsd");
  bad("-a -t 192.0.2.10:80 -r 203.0.113.11 -i --tun-type foo", "illegal tunnel type specified");
}

TEST(IpvsadmArgs, EditAndDeleteServer) {
  auto c = ok("-e -t 192.0.2.10:80 -r 203.0.113.11:80 -m -w 5");
  EXPECT_EQ(c.op, IpvsadmOp::edit_server);
  EXPECT_EQ(c.weight, 5u);
  c = ok("-d -t 192.0.2.10:80 -r 203.0.113.11:8080");
  EXPECT_EQ(c.op, IpvsadmOp::delete_server);
  EXPECT_EQ(c.real, ep("203.0.113.11:8080"));  // -d keeps the port given
  EXPECT_EQ(ok("-d -t 192.0.2.10:80 -r 203.0.113.11").real, ep("203.0.113.11:80"));
}

TEST(IpvsadmArgs, ClearSetZeroSaveRestore) {
  EXPECT_EQ(ok("-C").op, IpvsadmOp::clear);
  EXPECT_EQ(ok("--clear").op, IpvsadmOp::clear);
  bad("-C -n", "Illegal 'numeric' option with the 'flush' command");
  auto c = ok("--set 900 120 300");
  EXPECT_EQ(c.op, IpvsadmOp::set_timeouts);
  EXPECT_EQ(c.tcp_timeout, 900u);
  EXPECT_EQ(c.tcpfin_timeout, 120u);
  EXPECT_EQ(c.udp_timeout, 300u);
  EXPECT_EQ(ok("--set 0 0 10").udp_timeout, 10u);
  bad("--set 900 120", "--set option requires 3 timeout values");
  bad("--set 900 120 x", "invalid timeout value `x' specified");
  bad("--set 1 2 3 4", "unexpected argument 4");
  bad("--set 1 2 3 -n", "Illegal 'numeric' option with the 'set' command");
  c = ok("-Z");
  EXPECT_EQ(c.op, IpvsadmOp::zero);
  EXPECT_FALSE(c.service);
  EXPECT_EQ(ok("-Z -t 192.0.2.10:80").service->address, ep("192.0.2.10:80"));
  bad("-Z -n", "Illegal 'numeric' option with the 'zero' command");
  EXPECT_EQ(ok("-S").op, IpvsadmOp::save);
  EXPECT_TRUE(ok("-S -n").list.numeric);
  bad("-S -c", "Illegal 'connection' option with the 'save' command");
  EXPECT_EQ(ok("-R").op, IpvsadmOp::restore);
  bad("-R -n", "Illegal 'numeric' option with the 'restore' command");
}

TEST(IpvsadmArgs, HelpVersionAndVsdCommands) {
  EXPECT_EQ(ok("-h").op, IpvsadmOp::help);
  EXPECT_EQ(ok("--help whatever -q").op, IpvsadmOp::help);  // ipvsadm stops at -h
  EXPECT_EQ(ok("-v").op, IpvsadmOp::version);
  EXPECT_EQ(ok("--version").op, IpvsadmOp::version);
  EXPECT_EQ(ok("--garp").op, IpvsadmOp::garp);
  EXPECT_EQ(ok("--reload").op, IpvsadmOp::reload);
  EXPECT_EQ(ok("--save-toml").op, IpvsadmOp::save_toml);
  bad("--reload -n", "Illegal 'numeric' option with the 'reload' command");
  bad("--garp -t 192.0.2.10:80", "Illegal 'service-address' option with the 'garp' command");
  EXPECT_NE(ipvsadm_usage("vsadm").find("--save-toml"), std::string::npos);
}

TEST(IpvsadmArgs, JsonAndSocketGoAnywhere) {
  auto c = ok("--json -L -n");
  EXPECT_TRUE(c.json);
  EXPECT_TRUE(c.list.numeric);
  EXPECT_TRUE(ok("-L --json").json);
  c = ok("--socket /tmp/v.sock");
  EXPECT_EQ(c.op, IpvsadmOp::list);
  EXPECT_EQ(c.socket, "/tmp/v.sock");
  c = ok("-A -t 192.0.2.10:80 --socket=/tmp/w.sock");
  EXPECT_EQ(c.socket, "/tmp/w.sock");
  bad("--socket", kTryHelp, 255);
  bad("-L --socket", "--socket: missing argument", 255);
}

TEST(IpvsadmArgs, SyncDaemonInIpvsadmsWords) {
  auto c = ok("--start-daemon master --mcast-interface eth2 --syncid 7 --reason keepalived");
  EXPECT_EQ(c.op, IpvsadmOp::start_daemon);
  EXPECT_EQ(c.daemon_state, "master");
  EXPECT_EQ(c.mcast_interface, "eth2");
  EXPECT_EQ(c.syncid, 7u);
  EXPECT_EQ(c.reason, "keepalived");
  c = ok("--start-daemon=backup");
  EXPECT_EQ(c.daemon_state, "backup");
  EXPECT_FALSE(c.syncid);
  c = ok("--stop-daemon master");
  EXPECT_EQ(c.op, IpvsadmOp::stop_daemon);
  EXPECT_EQ(to_ipvsadm_args(ok("--start-daemon backup --syncid 3")), "--start-daemon backup --syncid 3");
  bad("--start-daemon primary", "illegal start-daemon parameter specified");
  bad("--start-daemon master --syncid 256", "illegal syncid specified");
  bad("--start-daemon master --mcast-interface averyveryverylongname", "illegal multicast interface name specified");
  bad("--stop-daemon master --syncid 1", "Illegal 'syncid' option with the 'stop-daemon' command");
  bad("-L --reason x", "Illegal 'reason' option with the 'list' command");
  bad("--start-daemon master --mcast-group 224.0.0.81", "option `--mcast-group' is not supported by vsd");
}

TEST(IpvsadmArgs, UnsupportedIpvsadmOptions) {
  bad("-A -t 192.0.2.10:80 --pe sip", "option `--pe' is not supported by vsd");
  bad("-L --tun-info", "option `--tun-info' is not supported by vsd");
}

TEST(IpvsadmArgs, DoubleDashEndsOptions) {
  auto p = parse("--set -- 1 2 3");
  ASSERT_TRUE(p.command) << p.error;
  EXPECT_EQ(p.command->udp_timeout, 3u);
}

TEST(IpvsadmArgs, CommandLinesRoundTrip) {
  for (const char* line : {
           "-A -t 192.0.2.10:0 -s wrr -p 1800",
           "-A -t 192.0.2.10:0 -s wrr -p 1800 -M 255.255.255.0",
           "-A -u [2001:db8::10]:53 -s rr -o",
           "-A -u [2001:db8::10]:0 -s sh -p 360 -M 64 -b sh-fallback,sh-port",
           "-A -f 1 -s mh -b mh-fallback",
           "-A -f 2 -6 -s rr",
           "-E -t 192.0.2.10:80 -s wlc",
           "-D -t 192.0.2.10:80",
           "-C",
           "-a -t 192.0.2.10:0 -r 203.0.113.11:0 -g -w 1",
           "-a -t 192.0.2.10:80 -r 203.0.113.11:8080 -m -w 3 -x 100 -y 50",
           "-e -u [2001:db8::10]:53 -r [2001:db8::11]:53 -i -w 0",
           "-d -t 192.0.2.10:80 -r 203.0.113.11:8080",
           "--set 900 120 300",
           "-Z -f 1",
           "-S -n",
           "-L -t 192.0.2.10:80 -n --stats --exact --nosort",
       }) {
    auto c = ok(line);
    EXPECT_EQ(to_ipvsadm_args(c), line);
    EXPECT_EQ(ok(to_ipvsadm_args(c)), c) << line;
  }
}

TEST(IpvsadmArgs, NetmaskSpelling) {
  EXPECT_EQ(netmask_to_string(24, false), "255.255.255.0");
  EXPECT_EQ(netmask_to_string(17, false), "255.255.128.0");
  EXPECT_EQ(netmask_to_string(32, false), "255.255.255.255");
  EXPECT_EQ(netmask_to_string(64, true), "64");
}

TEST(IpvsadmArgs, SchedFlagBits) {
  EXPECT_EQ(sched_flag_bits({"mh-fallback", "mh-port"}), 3u);
  EXPECT_EQ(sched_flag_bits({"flag-3", "ops"}), 4u);
  EXPECT_EQ(sched_flag_names("mh", 3), (std::vector<std::string>{"mh-fallback", "mh-port"}));
  EXPECT_EQ(sched_flag_names("wrr", 5), (std::vector<std::string>{"flag-1", "flag-3"}));
}

TEST(IpvsadmRestore, ParsesSaveOutputSkippingCommentsAndBlankLines) {
  auto r = parse_ipvsadm_restore(
      "# saved by vsadm -S -n\n"
      "-A -t 192.0.2.10:0 -s wrr -p 1800\n"
      "\n"
      "   -a -t 192.0.2.10:0 -r 203.0.113.11:0 -g -w 3   \n"
      "--set 900 120 300",
      names());
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_EQ(r.commands.size(), 3u);
  EXPECT_EQ(r.commands[0].op, IpvsadmOp::add_service);
  EXPECT_EQ(r.commands[1].weight, 3u);
  EXPECT_EQ(r.commands[2].op, IpvsadmOp::set_timeouts);
}

TEST(IpvsadmRestore, ReportsTheLineOfTheFirstErrorAndThatNothingWasApplied) {
  const std::string nothing = "vsadm -R: nothing was applied: -R applies all of its input or none of it";
  auto r = parse_ipvsadm_restore("-A -t 192.0.2.10:80\n-a -t 192.0.2.10:80 -r 203.0.113.11 -w x\n",
                                 names());
  EXPECT_TRUE(r.commands.empty());
  EXPECT_EQ(r.error, "line 2: illegal weight specified\n" + nothing +
                         " (ipvsadm -R would have applied the 1 command before line 2 and stopped "
                         "there, as --restore-mode=lines does)");
  EXPECT_EQ(r.exit_code, 2);
  r = parse_ipvsadm_restore("\n# two\n-A -t 192.0.2.10:80 -w 3\n", names());
  EXPECT_EQ(r.error, "line 3: Illegal 'weight' option with the 'add-service' command\n" + nothing);
  // A popt error: ipvsadm -R prints it and goes on.
  r = parse_ipvsadm_restore("-A -t 192.0.2.10:80 --bogus\n", names());
  EXPECT_EQ(r.error, "line 1: --bogus: unknown option\n" + nothing +
                         " (ipvsadm -R would have printed this error and gone on with the next "
                         "line, as --restore-mode=lines does)");
  EXPECT_EQ(r.exit_code, 255);
  r = parse_ipvsadm_restore("-A -t 192.0.2.10:80\n-L -n\n", names());
  EXPECT_EQ(r.error, "line 2: only -A, -E, -D, -C, -a, -e, -d and --set can be restored\n" + nothing +
                         " (ipvsadm -R would have run it, as --restore-mode=lines does)");
  r = parse_ipvsadm_restore("-R\n", names());  // ipvsadm: no -R inside -R
  EXPECT_EQ(r.error, "line 1: " + kTryHelp + "\n" + nothing);
  EXPECT_EQ(r.exit_code, 255);
  r = parse_ipvsadm_restore("--foo -A -t 192.0.2.10:80\n", names());
  EXPECT_EQ(r.error, "line 1: " + kTryHelp + "\n" + nothing);
  EXPECT_TRUE(parse_ipvsadm_restore("", names()).commands.empty());
  EXPECT_TRUE(parse_ipvsadm_restore("", names()).error.empty());
}

TEST(IpvsadmRestore, WordsAsIpvsadmReadsThem) {
  using W = std::vector<std::string>;
  EXPECT_EQ(ipvsadm_restore_words("-A -t 192.0.2.10:80"), (W{"-A", "-t", "192.0.2.10:80"}));
  // ipvsadm -R drops the word "ipvsadm" (a line copied from a shell script).
  EXPECT_EQ(ipvsadm_restore_words("ipvsadm -A\t-t  192.0.2.10:80\r"), (W{"-A", "-t", "192.0.2.10:80"}));
  EXPECT_EQ(ipvsadm_restore_words("vsadm -C"), (W{"-C"}));
  EXPECT_EQ(ipvsadm_restore_words(""), W{});
  EXPECT_EQ(ipvsadm_restore_words(" \t\r"), W{});
  EXPECT_EQ(ipvsadm_restore_words("# -A -t 192.0.2.10:80"), W{});
  EXPECT_EQ(ipvsadm_restore_words("  #-A"), W{});
  // Only a whole line is a comment: a '#' later is a word (ipvsadm: "unexpected argument #").
  EXPECT_EQ(ipvsadm_restore_words("-C # x"), (W{"-C", "#", "x"}));
  auto r = parse_ipvsadm_restore(
      "ipvsadm -A -t 192.0.2.10:80 -s rr\n\n# c\nipvsadm -a -t 192.0.2.10:80 -r 203.0.113.11 -m\n",
      names());
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_EQ(r.commands.size(), 2u);
  EXPECT_EQ(r.lines, (std::vector<int>{1, 4}));
  EXPECT_EQ(parse_ipvsadm_restore("-C # x\n", names()).error.substr(0, 34),
            "line 1: unexpected argument #\nvsad");
}

TEST(IpvsadmRestore, AtomicRefusalNamesTheLine) {
  auto r = parse_ipvsadm_restore(
      "-A -t 192.0.2.10:80 -s rr\n"
      "# the real servers\n"
      "-a -t 192.0.2.10:80 -r 203.0.113.11 -m\n"
      "-a -t 192.0.2.10:81 -r 203.0.113.12 -m\n",
      names());
  ASSERT_TRUE(r.error.empty()) << r.error;
  const std::string nothing =
      "\nvsadm -R: nothing was applied: -R applies all of its input or none of it (ipvsadm -R would "
      "have applied the other lines and only printed this error, as --restore-mode=lines does)";
  // vsd names the command it refused (apply_ipvsadm_commands) when there are several.
  std::string refused = to_ipvsadm_args(r.commands[2]) + ": Service not defined";
  EXPECT_EQ(refused, "-a -t 192.0.2.10:81 -r 203.0.113.12:81 -m -w 1: Service not defined");
  EXPECT_EQ(atomic_restore_refusal(r, refused), "line 4: " + refused + nothing);
  // A refusal of the whole result (the config checks) names no line.
  EXPECT_EQ(atomic_restore_refusal(r, "VIP 192.0.2.10 is used twice"),
            "vsd refused the input: VIP 192.0.2.10 is used twice" + nothing);
  // One command: vsd's error is about it.
  auto one = parse_ipvsadm_restore("\n-D -t 192.0.2.10:80\n", names());
  EXPECT_EQ(atomic_restore_refusal(one, "No such service"), "line 2: No such service" + nothing);
  // Identical lines cannot be told apart: all are named.
  auto twice = parse_ipvsadm_restore("-A -t 192.0.2.10:80\n-C\n-A -t 192.0.2.10:80\n", names());
  EXPECT_EQ(atomic_restore_refusal(twice, "-A -t 192.0.2.10:80 -s wlc: Service already exists"),
            "line 1 or 3: -A -t 192.0.2.10:80 -s wlc: Service already exists" + nothing);
}

// Where vsadm's old hand-written parser and ipvsadm (libpopt 1.19) differed;
// each line now parses as ipvsadm parses it.
TEST(IpvsadmPopt, PersistentArgumentSpellings) {
  for (const char* line : {"-A -t 192.0.2.10:0 -p 600", "-A -t 192.0.2.10:0 -p600",
                           "-A -t 192.0.2.10:0 -p=600",  // the old parser read "=600"
                           "-A -t 192.0.2.10:0 --persistent=600", "-A -t 192.0.2.10:0 --persistent 600",
                           "-At192.0.2.10:0 -p=600", "-A -t=192.0.2.10:0 -p600", "-A -p600 -t 192.0.2.10:0"})
    EXPECT_EQ(ok(line).persistent, 600u) << line;
  EXPECT_EQ(ok("-A -t 192.0.2.10:0 --persistent").persistent, 360u);
  EXPECT_EQ(ok("-A -t 192.0.2.10:0 -p -s rr").persistent, 360u);  // a dash word is not -p's
  bad("-A -t 192.0.2.10:0 -p -- 600", "unexpected argument 600");  // "--" ends -p
  bad("-A -t 192.0.2.10:0 -p=", "invalid timeout value `' specified");  // old: `='
  bad("-A -t 192.0.2.10:0 -p=x", "invalid timeout value `x' specified");
  bad("-A -t 192.0.2.10:0 -p -5", "-5: unknown option", 255);
  // An empty word after -p is its argument (old parser: a leftover).
  auto p = parse_ipvsadm_args({"-A", "-t", "192.0.2.10:0", "-p", ""}, names());
  EXPECT_EQ(p.error, "invalid timeout value `' specified");
  EXPECT_EQ(p.exit_code, 2);
}

TEST(IpvsadmPopt, ShortOptionWithEquals) {
  // popt skips one '=' after a short option that takes an argument.
  EXPECT_EQ(ok("-A -t=192.0.2.10:80").service->address, ep("192.0.2.10:80"));
  EXPECT_EQ(ok("-a -t 192.0.2.10:80 -r=203.0.113.11 -w=3").weight, 3u);
  EXPECT_EQ(ok("-A -t 192.0.2.10:80 -s=rr").scheduler, "rr");
  // ... and refuses one after a flag (the old parser: "unknown option").
  bad("-L -n=yes", "-n=yes: option does not take an argument", 255);
  bad("-L -n=", "-n=: option does not take an argument", 255);
  bad("-L --numeric=", "--numeric=: option does not take an argument", 255);
}

TEST(IpvsadmPopt, NoAbbreviations) {
  // popt matches long names whole; ipvsadm offers no abbreviations.
  bad("-L --num", "--num: unknown option", 255);
  bad("-L --stat", "--stat: unknown option", 255);
  bad("-A -t 192.0.2.10:0 --persist", "--persist: unknown option", 255);
  bad("--add -t 192.0.2.10:80", kTryHelp, 255);
  // A single dash is short options, clustered: -list is -l -i -s t.
  bad("-list", "Illegal 'scheduler' option with the 'list' command");
  bad("-L ---n", "---n: unknown option", 255);
}

TEST(IpvsadmPopt, OptionsAfterTheCommandAnywhere) {
  auto c = ok("-L -t 192.0.2.10:80 -n --stats");
  EXPECT_TRUE(c.list.numeric);
  EXPECT_TRUE(c.list.stats);
  EXPECT_EQ(ok("-L --numeric -c").list.connections, true);
  // Non-option words may sit between options (popt permutes them)...
  bad("-L junk -n", "unexpected argument junk");
  bad("junk -L -n", "unexpected argument junk");  // the command is the first option, not word
  c = ok("--set 900 -- 120 300");
  EXPECT_EQ(c.tcpfin_timeout, 120u);
  EXPECT_EQ(ok("--set 900 120 -- 300").udp_timeout, 300u);
  bad("-L -- -n", "unexpected argument -n");
  bad("-L -", "unexpected argument -");
  // ... unless POSIXLY_CORRECT is set: then the first one ends the options.
  bad("--set 1 2 3 -n", "Illegal 'numeric' option with the 'set' command");
  ::setenv("POSIXLY_CORRECT", "1", 1);
  auto p = parse("--set 1 2 3 -n");
  ::unsetenv("POSIXLY_CORRECT");
  EXPECT_EQ(p.error, "unexpected argument -n");
  // A second command after the first, as ipvsadm words it.
  bad("-L -n -Z", "invalid option `-Z'");
  bad("-L -nZ", "invalid option `-nZ'");
  bad("-L -v", "invalid option `-v'");
}

TEST(IpvsadmPopt, ExitCodes) {
  // 0: parsed.
  auto p = parse("-A -t 192.0.2.10:80");
  EXPECT_TRUE(p.command);
  EXPECT_EQ(p.exit_code, 0);
  EXPECT_FALSE(p.popt_error);
  // 2: ipvsadm's fail(2, ...): bad values, option rules, conflicts.
  p = parse("-A -t 192.0.2.10:80 -s rr -s wrr");
  EXPECT_EQ(p.error, "multiple 'scheduler' options specified");
  EXPECT_EQ(p.exit_code, 2);
  EXPECT_FALSE(p.popt_error);
  // 255: no command first (ipvsadm's "Try ..." with -1).
  for (const char* line : {"-n", "-n -L", "foo", "--bogus", "-q", "-t", "--persistent-c"}) {
    p = parse(line);
    EXPECT_EQ(p.error, kTryHelp) << line;
    EXPECT_EQ(p.exit_code, 255) << line;
    EXPECT_FALSE(p.popt_error) << line;
  }
  // 255: popt's error after the command (ipvsadm returns -1 without exiting).
  for (const char* line : {"-L --foo", "-A -t", "-A -t 192.0.2.10:80 -s", "-L -nq"}) {
    p = parse(line);
    EXPECT_EQ(p.exit_code, 255) << line;
    EXPECT_TRUE(p.popt_error) << line;
  }
  bad("-A -t 192.0.2.10:80 -s", "-s: missing argument", 255);
  bad("-L -nq", "-nq: unknown option", 255);
  // A bad value read before a popt error wins, as ipvsadm reads in order.
  bad("-a -t 192.0.2.10:80 -w x --foo", "illegal weight specified");
  bad("-a -t 192.0.2.10:80 --foo -w x", "--foo: unknown option", 255);
}

TEST(IpvsadmPopt, HelpAndVersionStopReadingButKeepSocket) {
  EXPECT_EQ(ok("-v --bogus -A").op, IpvsadmOp::version);
  auto c = ok("--version --socket /tmp/x.sock --json");
  EXPECT_EQ(c.socket, "/tmp/x.sock");
  EXPECT_TRUE(c.json);
  EXPECT_EQ(ok("-vn").op, IpvsadmOp::version);  // ipvsadm: -v exits before -n is read
  EXPECT_EQ(ok("-h -v").op, IpvsadmOp::help);
}

TEST(IpvsadmPopt, RestoreOptions) {
  auto p = parse("-R");
  ASSERT_TRUE(p.command);
  EXPECT_EQ(p.restore_mode, RestoreMode::atomic);
  EXPECT_FALSE(p.restore_replace);
  for (const char* line : {"-R --restore-mode=lines", "-R --restore-mode lines",
                           "--restore-mode=lines -R", "--socket /s -R --restore-mode=lines"}) {
    p = parse(line);
    ASSERT_TRUE(p.command) << line << " -> " << p.error;
    EXPECT_EQ(p.restore_mode, RestoreMode::lines) << line;
  }
  p = parse("-R --replace --restore-mode=atomic");
  ASSERT_TRUE(p.command);
  EXPECT_EQ(p.restore_mode, RestoreMode::atomic);
  EXPECT_TRUE(p.restore_replace);
  bad("-R --restore-mode=bogus", "illegal restore mode `bogus' specified (atomic or lines)");
  bad("-R --restore-mode", "--restore-mode: missing argument", 255);
  bad("-L --restore-mode=lines", "Illegal 'restore-mode' option with the 'list' command");
  bad("--restore-mode=lines", "Illegal 'restore-mode' option with the 'list' command");
  bad("-C --replace", "Illegal 'replace' option with the 'flush' command");
}

TEST(IpvsadmPopt, UnsupportedOptionsByTheirLongName) {
  bad("-A -t 192.0.2.10:80 --pe=sip", "option `--pe' is not supported by vsd");
  bad("--sctp-service 192.0.2.10:80", "option `--sctp-service' is not supported by vsd");
  bad("-L --tun-info", "option `--tun-info' is not supported by vsd");
}

TEST(IpvsadmPopt, UsageNamesVsdOptions) {
  auto usage = ipvsadm_usage("vsadm");
  for (const char* opt : {"--restore-mode", "--replace", "--json", "--socket", "--save-toml"})
    EXPECT_NE(usage.find(opt), std::string::npos) << opt;
  EXPECT_EQ(ipvsadm_try_help("/sbin/vsadm"),
            "Try `/sbin/vsadm -h' or '/sbin/vsadm --help' for more information.");
}

}  // namespace
}  // namespace vsd
