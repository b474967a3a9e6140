#include "appliance/daemon/sysctl_guard.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace vsd {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::string s;
  std::getline(in, s);
  return s;
}

TEST(SysctlGuard, SetsAndRestoresOnlyWhatItChanged) {
  fs::path root = fs::temp_directory_path() / ("vsd-sysctl-" + std::to_string(::getpid()));
  fs::create_directories(root / "net/ipv4");
  fs::create_directories(root / "net/ipv6/conf/all");
  std::ofstream(root / "net/ipv4/ip_forward") << "0\n";
  std::ofstream(root / "net/ipv6/conf/all/forwarding") << "1\n";
  {
    SysctlGuard g(root.string());
    bool changed = false;
    std::string err;
    ASSERT_TRUE(g.ensure("net.ipv4.ip_forward", "1", &changed, &err)) << err;
    EXPECT_TRUE(changed);
    ASSERT_TRUE(g.ensure("net.ipv6.conf.all.forwarding", "1", &changed, &err));
    EXPECT_FALSE(changed);
    EXPECT_EQ(slurp(root / "net/ipv4/ip_forward"), "1");
    EXPECT_FALSE(g.ensure("net.ipv4.no_such_key", "1", &changed, &err));
    EXPECT_NE(err.find("no_such_key"), std::string::npos);
  }
  EXPECT_EQ(slurp(root / "net/ipv4/ip_forward"), "0");
  EXPECT_EQ(slurp(root / "net/ipv6/conf/all/forwarding"), "1");
  fs::remove_all(root);
}

// Interface names may hold dots (VLANs: eth0.100); sysctl(8) writes them with
// '/' in the dotted key, and the guard must find and restore that file.
TEST(SysctlGuard, SlashInKeyIsDotInInterfaceName) {
  fs::path root = fs::temp_directory_path() / ("vsd-sysctl-vlan-" + std::to_string(::getpid()));
  fs::create_directories(root / "net/ipv4/conf/eth0.100");
  std::ofstream(root / "net/ipv4/conf/eth0.100/rp_filter") << "1\n";
  {
    SysctlGuard g(root.string());
    bool changed = false;
    std::string error;
    ASSERT_TRUE(g.ensure("net.ipv4.conf.eth0/100.rp_filter", "2", &changed, &error)) << error;
    EXPECT_TRUE(changed);
    EXPECT_EQ(slurp(root / "net/ipv4/conf/eth0.100/rp_filter"), "2");
  }
  EXPECT_EQ(slurp(root / "net/ipv4/conf/eth0.100/rp_filter"), "1");
  fs::remove_all(root);
}

// An earlier vsd was killed with ip_forward changed (0 -> 1): its state
// file says 0. This vsd finds 1, needs 1, and must still put back 0.
TEST(SysctlGuard, AdoptedOriginalIsWhatGetsRestored) {
  fs::path root = fs::temp_directory_path() / ("vsd-sysctl-adopt-" + std::to_string(::getpid()));
  fs::create_directories(root / "net/ipv4");
  std::ofstream(root / "net/ipv4/ip_forward") << "1\n";
  std::ofstream(root / "net/ipv4/tcp_syncookies") << "1\n";
  {
    SysctlGuard g(root.string());
    g.adopt("net.ipv4.ip_forward", "0");
    g.adopt("net.ipv4.tcp_syncookies", "0");  // no longer needed by this run: restored too
    bool changed = true;
    std::string err;
    ASSERT_TRUE(g.ensure("net.ipv4.ip_forward", "1", &changed, &err)) << err;
    EXPECT_FALSE(changed);
    using Saved = std::vector<std::pair<std::string, std::string>>;
    EXPECT_EQ(g.saved(), (Saved{{"net.ipv4.ip_forward", "0"}, {"net.ipv4.tcp_syncookies", "0"}}));
  }
  EXPECT_EQ(slurp(root / "net/ipv4/ip_forward"), "0");
  EXPECT_EQ(slurp(root / "net/ipv4/tcp_syncookies"), "0");
  fs::remove_all(root);
}

}  // namespace
}  // namespace vsd
