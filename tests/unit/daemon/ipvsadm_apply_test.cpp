#include "appliance/daemon/ipvsadm_apply.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "appliance/config/config_writer.hpp"
#include "appliance/daemon/snapshot_spec.hpp"
#include "appliance/daemon/status.hpp"
#include "appliance/vsadm/ipvsadm_format.hpp"

namespace vsd {
namespace {

using nlohmann::json;

const TableResolver kNoNames;

IpvsadmCommand cmd(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  auto p = parse_ipvsadm_args(words, kNoNames);
  EXPECT_TRUE(p.command.has_value()) << line << " -> " << p.error;
  return p.command.value_or(IpvsadmCommand{});
}

// Applies each line in turn; returns the first error (or "").
std::string run(Config& cfg, const std::vector<std::string>& lines) {
  for (const auto& l : lines)
    if (auto err = apply_ipvsadm_command(cfg, cmd(l))) return *err;
  return "";
}

// The status the daemon would send for a Config (its own snapshot and
// status code): what the -S round trip below renders.
control::Status status_of(const Config& cfg) {
  control::Status st;
  st.services = services_status(*build_snapshot(snapshot_spec(cfg), nullptr), cfg, HealthPolicy{});
  st.timeouts = {cfg.timeouts.tcp, cfg.timeouts.tcpfin, cfg.timeouts.udp};
  return st;
}

std::string save(const Config& cfg) { return format_save(status_of(cfg), true, kNoNames); }

TEST(IpvsadmEdit, SeedSampleSavesBackTheSameLines) {
  Config cfg;
  ASSERT_EQ(run(cfg, {"-A -t 192.0.2.10:0 -s wrr -p 1800",
                      "-a -t 192.0.2.10:0 -r 203.0.113.11 -g -w 1",
                      "-a -t 192.0.2.10:0 -r 203.0.113.12 -g -w 3"}),
            "");
  EXPECT_EQ(save(cfg),
            "-A -t 192.0.2.10:0 -s wrr -p 1800\n"
            "-a -t 192.0.2.10:0 -r 203.0.113.11:0 -g -w 1\n"
            "-a -t 192.0.2.10:0 -r 203.0.113.12:0 -g -w 3\n");
}

TEST(IpvsadmEdit, SaveOutputRestoresToItself) {
  const std::string lines =
      "-A -t 192.0.2.10:0 -s wrr -p 1800\n"
      "-a -t 192.0.2.10:0 -r 203.0.113.11:0 -g -w 1\n"
      "-a -t 192.0.2.10:0 -r 203.0.113.12:0 -g -w 3\n"
      "-A -t 192.0.2.20:80 -s wlc -p 300 -M 255.255.255.0\n"
      "-a -t 192.0.2.20:80 -r 203.0.113.21:8080 -m -w 2\n"
      "-a -t 192.0.2.20:80 -r 203.0.113.22:80 -i -w 1 --tun-type ipip\n"
      "-A -u [2001:db8::10]:53 -s rr -o\n"
      "-a -u [2001:db8::10]:53 -r [2001:db8:2::11]:53 -m -w 1\n"
      "-A -f 1 -s mh -b mh-fallback,mh-port\n"
      "-a -f 1 -r 203.0.113.31:0 -g -w 1\n";
  auto restore = parse_ipvsadm_restore(lines, kNoNames);
  ASSERT_TRUE(restore.error.empty()) << restore.error;
  Config cfg;
  ASSERT_EQ(apply_ipvsadm_batch(cfg, restore.commands), std::nullopt);
  EXPECT_EQ(save(cfg), lines);
}

TEST(IpvsadmEdit, AddServiceFillsTheConfig) {
  Config cfg;
  ASSERT_EQ(run(cfg, {"-A -u [2001:db8::10]:0 -s sh -p 600 -M 64 -b sh-port"}), "");
  ASSERT_EQ(cfg.services.size(), 1u);
  const auto& s = cfg.services[0];
  EXPECT_EQ(s.protocol, Protocol::udp);
  EXPECT_EQ(s.address, *Endpoint::parse("[2001:db8::10]:0"));
  EXPECT_EQ(s.scheduler, "sh");
  EXPECT_EQ(s.scheduler_flags, (std::vector<std::string>{"sh-port"}));
  EXPECT_EQ(s.persistent, 600u);
  EXPECT_EQ(s.persistence_netmask, 64);
  EXPECT_FALSE(s.ops);
  ASSERT_EQ(run(cfg, {"-A -f 5 -s rr"}), "");
  EXPECT_EQ(cfg.services[1].fwmark, 5u);
}

TEST(IpvsadmEdit, ServiceErrorsInIpvsadmWords) {
  Config cfg;
  ASSERT_EQ(run(cfg, {"-A -t 192.0.2.10:80 -s rr"}), "");
  EXPECT_EQ(run(cfg, {"-A -t 192.0.2.10:80 -s wrr"}), "Service already exists");
  EXPECT_EQ(run(cfg, {"-E -t 192.0.2.10:81 -s wrr"}), "No such service");
  EXPECT_EQ(run(cfg, {"-D -t 192.0.2.10:81"}), "No such service");
  EXPECT_EQ(run(cfg, {"-D -u 192.0.2.10:80"}), "No such service");  // the protocol is part of the key
  EXPECT_EQ(run(cfg, {"-A -t 192.0.2.11:80 -s bogus"}), "Scheduler or persistence engine not found");
  EXPECT_EQ(run(cfg, {"-E -t 192.0.2.10:80 -s bogus"}), "Scheduler or persistence engine not found");
  EXPECT_EQ(run(cfg, {"-A -t 192.0.2.11:80 -s rr -b flag-1"}),
            "scheduler flag `flag-1' has no meaning for scheduler rr in vsd");
  ASSERT_EQ(run(cfg, {"-A -f 1"}), "");
  EXPECT_EQ(run(cfg, {"-A -f 1 -s rr"}), "Service already exists");
  EXPECT_EQ(run(cfg, {"-D -f 2"}), "No such service");
}

TEST(IpvsadmEdit, ServerErrorsInIpvsadmWords) {
  Config cfg;
  EXPECT_EQ(run(cfg, {"-a -t 192.0.2.10:80 -r 203.0.113.11 -m"}), "Service not defined");
  EXPECT_EQ(run(cfg, {"-e -t 192.0.2.10:80 -r 203.0.113.11 -m"}), "Service not defined");
  EXPECT_EQ(run(cfg, {"-d -t 192.0.2.10:80 -r 203.0.113.11"}), "Service not defined");
  ASSERT_EQ(run(cfg, {"-A -t 192.0.2.10:80 -s rr", "-a -t 192.0.2.10:80 -r 203.0.113.11 -m"}), "");
  EXPECT_EQ(run(cfg, {"-a -t 192.0.2.10:80 -r 203.0.113.11:80 -m -w 5"}), "Destination already exists");
  EXPECT_EQ(run(cfg, {"-e -t 192.0.2.10:80 -r 203.0.113.12 -m"}), "No such destination");
  EXPECT_EQ(run(cfg, {"-d -t 192.0.2.10:80 -r 203.0.113.11:8080"}), "No such destination");
  // IPVS: a lower threshold above the upper one is ERANGE.
  EXPECT_EQ(run(cfg, {"-a -t 192.0.2.10:80 -r 203.0.113.12 -m -x 10 -y 20"}),
            "Numerical result out of range");
  EXPECT_EQ(run(cfg, {"-e -t 192.0.2.10:80 -r 203.0.113.11 -m -y 5"}), "Numerical result out of range");
}

TEST(IpvsadmEdit, ErrorsLeaveTheConfigUntouched) {
  Config cfg;
  ASSERT_EQ(run(cfg, {"-A -t 192.0.2.10:80 -s rr", "-a -t 192.0.2.10:80 -r 203.0.113.11 -m -w 2"}), "");
  const std::string before = write_config_toml(cfg);
  EXPECT_NE(run(cfg, {"-a -t 192.0.2.10:80 -r 203.0.113.11 -m -w 9"}), "");
  EXPECT_NE(run(cfg, {"-E -t 192.0.2.10:80 -s bogus"}), "");
  EXPECT_EQ(write_config_toml(cfg), before);
}

TEST(IpvsadmEdit, EditServiceResetsWhatIsLeftOut) {
  Config cfg;
  ASSERT_EQ(run(cfg, {"-A -t 192.0.2.10:0 -s sh -p 1800 -M 255.255.255.0 -b sh-port",
                      "-a -t 192.0.2.10:0 -r 203.0.113.11 -g"}),
            "");
  ASSERT_EQ(run(cfg, {"-E -t 192.0.2.10:0 -p"}), "");  // like ipvsadm: no -s means wlc again
  const auto& s = cfg.services[0];
  EXPECT_EQ(s.scheduler, "wlc");
  EXPECT_TRUE(s.scheduler_flags.empty());
  EXPECT_EQ(s.persistent, 360u);
  EXPECT_EQ(s.persistence_netmask, 0);
  EXPECT_EQ(s.reals.size(), 1u);  // real servers stay
}

TEST(IpvsadmEdit, EditServerResetsWhatIsLeftOut) {
  Config cfg;
  ASSERT_EQ(run(cfg, {"-A -t 192.0.2.10:80", "-a -t 192.0.2.10:80 -r 203.0.113.11:8080 -m -w 4 -x 90 -y 10"}),
            "");
  ASSERT_EQ(run(cfg, {"-e -t 192.0.2.10:80 -r 203.0.113.11:8080 -m"}), "");
  const auto& r = cfg.services[0].reals[0];
  EXPECT_EQ(r.weight, 1u);
  EXPECT_EQ(r.forward, ForwardMethod::nat);
  EXPECT_EQ(r.upper_threshold, 0u);
  EXPECT_EQ(r.lower_threshold, 0u);
  ASSERT_EQ(run(cfg, {"-e -t 192.0.2.10:80 -r 203.0.113.11:8080 -m -w 0 -x 50 -y 40"}), "");
  EXPECT_EQ(cfg.services[0].reals[0].weight, 0u);
  EXPECT_EQ(cfg.services[0].reals[0].upper_threshold, 50u);
  EXPECT_EQ(cfg.services[0].reals[0].lower_threshold, 40u);
}

TEST(IpvsadmEdit, RealWithPortZeroMeansTheServicePort) {
  auto parsed = parse_config(
      "[[service]]\naddress = \"192.0.2.10:80\"\n[[service.real]]\naddress = \"203.0.113.11\"\n", "t");
  ASSERT_TRUE(parsed.config) << parsed.errors[0].to_string();
  Config cfg = *parsed.config;
  EXPECT_EQ(run(cfg, {"-a -t 192.0.2.10:80 -r 203.0.113.11:80 -m"}), "Destination already exists");
  EXPECT_EQ(run(cfg, {"-e -t 192.0.2.10:80 -r 203.0.113.11 -m -w 7"}), "");
  EXPECT_EQ(cfg.services[0].reals[0].weight, 7u);
  EXPECT_EQ(run(cfg, {"-d -t 192.0.2.10:80 -r 203.0.113.11:80"}), "");
  EXPECT_TRUE(cfg.services[0].reals.empty());
}

TEST(IpvsadmEdit, DeleteClearAndTimeouts) {
  Config cfg;
  ASSERT_EQ(run(cfg, {"-A -t 192.0.2.10:80", "-A -t 192.0.2.11:80", "-a -t 192.0.2.10:80 -r 203.0.113.11 -m",
                      "-a -t 192.0.2.10:80 -r 203.0.113.12 -m"}),
            "");
  ASSERT_EQ(run(cfg, {"-d -t 192.0.2.10:80 -r 203.0.113.11"}), "");
  ASSERT_EQ(cfg.services[0].reals.size(), 1u);
  EXPECT_EQ(cfg.services[0].reals[0].address, *Endpoint::parse("203.0.113.12:80"));
  ASSERT_EQ(run(cfg, {"-D -t 192.0.2.10:80"}), "");
  ASSERT_EQ(cfg.services.size(), 1u);
  EXPECT_EQ(cfg.services[0].address, *Endpoint::parse("192.0.2.11:80"));
  ASSERT_EQ(run(cfg, {"-C"}), "");
  EXPECT_TRUE(cfg.services.empty());
  ASSERT_EQ(run(cfg, {"--set 1000 0 30"}), "");  // 0 keeps the value
  EXPECT_EQ(cfg.timeouts.tcp, 1000u);
  EXPECT_EQ(cfg.timeouts.tcpfin, 120u);
  EXPECT_EQ(cfg.timeouts.udp, 30u);
}

TEST(IpvsadmEdit, BatchIsAllOrNothing) {
  Config cfg;
  ASSERT_EQ(run(cfg, {"-A -t 192.0.2.10:80"}), "");
  const std::string before = write_config_toml(cfg);
  std::size_t failed = 99;
  auto err = apply_ipvsadm_batch(cfg,
                                 {cmd("-a -t 192.0.2.10:80 -r 203.0.113.11 -m"),
                                  cmd("-a -t 192.0.2.99:80 -r 203.0.113.12 -m"),
                                  cmd("-C")},
                                 &failed);
  EXPECT_EQ(err, "Service not defined");
  EXPECT_EQ(failed, 1u);
  EXPECT_EQ(write_config_toml(cfg), before);
  EXPECT_EQ(apply_ipvsadm_batch(cfg, {cmd("-a -t 192.0.2.10:80 -r 203.0.113.11 -m"), cmd("-C")}),
            std::nullopt);
  EXPECT_TRUE(cfg.services.empty());
}

TEST(IpvsadmEdit, CommandJsonRoundTrip) {
  for (const char* line : {"-A -t 192.0.2.10:0 -s wrr -p 1800 -M 255.255.255.0",
                           "-A -u [2001:db8::10]:53 -s mh -o -b mh-fallback,mh-port",
                           "-E -f 3 -6 -s rr", "-D -t 192.0.2.10:80", "-C",
                           "-a -t 192.0.2.10:80 -r 203.0.113.11:8080 -m -w 3 -x 100 -y 50",
                           "-e -t 192.0.2.10:80 -r 203.0.113.11:80 -i -w 0",
                           "-d -u [2001:db8::10]:53 -r [2001:db8::11]:53", "--set 900 0 300"}) {
    IpvsadmCommand c = cmd(line);
    std::string why;
    auto back = ipvsadm_command_from_json(ipvsadm_command_json(c), &why);
    ASSERT_TRUE(back) << line << ": " << why;
    EXPECT_EQ(*back, c) << line << "\n" << ipvsadm_command_json(c).dump();
  }
}

TEST(IpvsadmEdit, CommandJsonShape) {
  EXPECT_EQ(ipvsadm_command_json(cmd("-a -t 192.0.2.10:80 -r 203.0.113.11 -m -w 3")),
            json::parse(R"({"op":"add-server","service":{"protocol":"tcp","address":"192.0.2.10:80"},
                            "real":"203.0.113.11:80","forward":"nat","weight":3,
                            "upper_threshold":0,"lower_threshold":0})"));
  EXPECT_EQ(ipvsadm_command_json(cmd("-A -f 2 -s rr")),
            json::parse(R"({"op":"add-service","service":{"fwmark":2,"ipv6":false},"scheduler":"rr",
                            "scheduler_flags":[],"persistent":0,"netmask":0,"ops":false})"));
  EXPECT_EQ(ipvsadm_command_json(cmd("--set 1 2 3")),
            json::parse(R"({"op":"set","timeouts":{"tcp":1,"tcpfin":2,"udp":3}})"));
  EXPECT_EQ(ipvsadm_service_json(cmd("-Z -u [2001:db8::10]:53").service.value()),
            json::parse(R"({"protocol":"udp","address":"[2001:db8::10]:53"})"));
}

TEST(IpvsadmEdit, CommandJsonRejectsBadInput) {
  std::string why;
  auto rejects = [&](const char* text) {
    why.clear();
    EXPECT_FALSE(ipvsadm_command_from_json(json::parse(text), &why)) << text;
    EXPECT_NE(why, "") << text;
  };
  rejects(R"([])");
  rejects(R"({})");
  rejects(R"({"op":"list"})");
  rejects(R"({"op":"add-service"})");
  rejects(R"({"op":"add-service","service":{"protocol":"sctp","address":"192.0.2.1:80"}})");
  rejects(R"({"op":"add-service","service":{"address":"192.0.2.1"}})");
  rejects(R"({"op":"add-service","service":{"fwmark":0}})");
  rejects(R"({"op":"add-server","service":{"address":"192.0.2.1:80"}})");
  rejects(R"({"op":"add-server","service":{"address":"192.0.2.1:80"},"real":"x"})");
  rejects(R"({"op":"add-server","service":{"address":"192.0.2.1:80"},"real":"1.2.3.4:80","forward":"x"})");
  rejects(R"({"op":"add-server","service":{"address":"192.0.2.1:80"},"real":"1.2.3.4:80","weight":70000})");
  rejects(R"({"op":"add-service","service":{"address":"192.0.2.1:80"},"persistent":"long"})");
  EXPECT_TRUE(ipvsadm_command_from_json(json::parse(R"({"op":"flush"})"), &why)) << why;
}

TEST(IpvsadmEdit, DaemonSideBatch) {
  Config cfg;
  EXPECT_EQ(apply_ipvsadm_commands(cfg, {cmd("-a -t 192.0.2.10:80 -r 203.0.113.11 -m")}),
            "Service not defined");
  std::vector<IpvsadmCommand> two = {cmd("-A -t 192.0.2.10:80"),
                                     cmd("-a -t 192.0.2.10:80 -r 203.0.113.11 -m"),
                                     cmd("-a -t 192.0.2.10:80 -r 203.0.113.11 -m -w 2")};
  EXPECT_EQ(apply_ipvsadm_commands(cfg, two),
            "-a -t 192.0.2.10:80 -r 203.0.113.11:80 -m -w 2: Destination already exists");
  EXPECT_TRUE(cfg.services.empty());
  two.pop_back();
  EXPECT_EQ(apply_ipvsadm_commands(cfg, two), std::nullopt);
  EXPECT_EQ(cfg.services.size(), 1u);
}

TEST(IpvsadmEdit, EditedConfigStaysValid) {
  // The daemon can check an edited Config with the file's own rules:
  // parse_config(write_config_toml(cfg)).
  Config cfg;
  ASSERT_EQ(run(cfg, {"-A -t 192.0.2.10:0 -s wrr -p 1800", "-a -t 192.0.2.10:0 -r 203.0.113.11 -m -w 2",
                      "-A -u [2001:db8::10]:53 -s rr -o", "-a -u [2001:db8::10]:53 -r 2001:db8::11 -m"}),
            "");
  auto back = parse_config(write_config_toml(cfg), "edited");
  EXPECT_TRUE(back.config) << (back.errors.empty() ? "" : back.errors[0].to_string());
}

}  // namespace
}  // namespace vsd
