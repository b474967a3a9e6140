#include "appliance/daemon/node_state.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "appliance/daemon/instance_lock.hpp"
#include "appliance/daemon/node_facts.hpp"

namespace vsd {
namespace {

namespace fs = std::filesystem;

NodeState sample() {
  NodeState s;
  s.sysctls = {{"net.ipv4.ip_forward", "0"}, {"net.ipv4.conf.eth0/100.arp_ignore", "0"}};
  s.lo_vips = {*IpAddress::parse("192.0.2.10"), *IpAddress::parse("2001:db8::10")};
  s.tables = {"vsd_rs"};
  return s;
}

TEST(NodeState, JsonRoundTrip) {
  NodeState back;
  std::string err;
  ASSERT_TRUE(parse_node_state(node_state_json(sample()), &back, &err)) << err;
  EXPECT_EQ(back, sample());
}

TEST(NodeState, RefusesWhatItWouldNotHaveWritten) {
  NodeState s;
  std::string err;
  EXPECT_FALSE(parse_node_state("not json", &s, &err));
  EXPECT_FALSE(parse_node_state(R"({"version": 2})", &s, &err));
  EXPECT_NE(err.find("version"), std::string::npos);
  // A key outside net.*, or one that climbs out of /proc/sys, is never written back.
  EXPECT_FALSE(parse_node_state(R"({"version":1,"sysctls":[{"key":"kernel.core_pattern","original":"|x"}]})", &s, &err));
  EXPECT_NE(err.find("kernel.core_pattern"), std::string::npos);
  EXPECT_FALSE(parse_node_state(R"({"version":1,"sysctls":[{"key":"net/../../etc/x","original":"1"}]})", &s, &err));
  EXPECT_FALSE(parse_node_state(R"({"version":1,"lo_vips":["not-an-ip"]})", &s, &err));
  EXPECT_FALSE(parse_node_state(R"({"version":1,"tables":["filter"]})", &s, &err));
  EXPECT_TRUE(parse_node_state(R"({"version":1})", &s, &err)) << err;
  EXPECT_TRUE(s.empty());
}

TEST(NodeState, BesideTheControlSocket) {
  EXPECT_EQ(beside_control_socket("/run/vsd/vsd.sock", ".state"), "/run/vsd/vsd.state");
  EXPECT_EQ(beside_control_socket("/run/v.d/ctl", ".state"), "/run/v.d/ctl.state");
  EXPECT_EQ(beside_control_socket("ctl.sock", ".decisions"), "ctl.decisions");
}

TEST(NodeStateFile, SavesLoadsAndRemoves) {
  fs::path dir = fs::temp_directory_path() / ("vsd-state-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  NodeStateFile f((dir / "vsd.state").string());
  std::string err;
  EXPECT_FALSE(f.load(&err).has_value());  // no file: a clean node
  EXPECT_TRUE(err.empty());
  ASSERT_TRUE(f.save(sample(), &err)) << err;
  EXPECT_FALSE(fs::exists(dir / "vsd.state.tmp"));
  auto back = f.load(&err);
  ASSERT_TRUE(back.has_value()) << err;
  EXPECT_EQ(*back, sample());
  std::ofstream(dir / "vsd.state") << "{broken";
  EXPECT_FALSE(f.load(&err).has_value());
  EXPECT_NE(err.find("vsd.state"), std::string::npos);
  f.remove();
  EXPECT_FALSE(fs::exists(dir / "vsd.state"));
  NodeStateFile nowhere((dir / "no/such/dir/vsd.state").string());
  EXPECT_FALSE(nowhere.save(sample(), &err));
  EXPECT_NE(err.find("no/such/dir"), std::string::npos);
  fs::remove_all(dir);
}

TEST(InstanceLock, OnePerNetworkNamespaceAndTheSecondLearnsWho) {
  const std::string name = "vsd-test-" + std::to_string(::getpid());
  std::string err;
  {
    InstanceLock first;
    ASSERT_TRUE(first.acquire(&err, name)) << err;
    InstanceLock second;
    EXPECT_FALSE(second.acquire(&err, name));
    EXPECT_NE(err.find("pid " + std::to_string(::getpid())), std::string::npos) << err;
    EXPECT_NE(err.find("one vsd per node"), std::string::npos) << err;
  }
  InstanceLock again;  // released with its holder
  EXPECT_TRUE(again.acquire(&err, name)) << err;
}

}  // namespace
}  // namespace vsd

namespace vsd {
namespace {

TEST(MemAvailable, FromProcMeminfo) {
  EXPECT_EQ(parse_mem_available("MemTotal:       24576000 kB\nMemFree:  100 kB\nMemAvailable:   20000000 kB\n"),
            20000000ull * 1024);
  EXPECT_FALSE(parse_mem_available("MemTotal: 1 kB\n"));
  EXPECT_FALSE(parse_mem_available("MemAvailable: lots\n"));
  EXPECT_TRUE(memory_available_bytes().has_value()) << "this machine's /proc/meminfo";
}

}  // namespace
}  // namespace vsd
