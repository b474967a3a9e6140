#include "arp/arp_hiding.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "private_netns.hpp"

namespace vsd::arp {
namespace {

IpAddress ip(const char* s) { return *IpAddress::parse(s); }

std::vector<SysctlSetting> sysctls(std::vector<std::string> names) {
  std::vector<SysctlSetting> out;
  std::string error;
  EXPECT_TRUE(arp_hiding_sysctls(names, &out, &error)) << error;
  return out;
}

std::string dump(const std::vector<SysctlSetting>& s) {
  std::string text;
  for (const auto& e : s) text += e.key + "=" + e.value + " @" + e.proc_path + "\n";
  return text;
}

TEST(ArpHiding, SysctlsForAllAndLo) {
  EXPECT_EQ(dump(sysctls({})),
            "net.ipv4.conf.all.arp_ignore=1 @net/ipv4/conf/all/arp_ignore\n"
            "net.ipv4.conf.all.arp_announce=2 @net/ipv4/conf/all/arp_announce\n"
            "net.ipv4.conf.lo.arp_ignore=1 @net/ipv4/conf/lo/arp_ignore\n"
            "net.ipv4.conf.lo.arp_announce=2 @net/ipv4/conf/lo/arp_announce\n");
}

TEST(ArpHiding, SysctlsForNamedInterfacesOnceEach) {
  auto s = sysctls({"eth0", "lo", "eth0.100", "eth0", "all"});
  ASSERT_EQ(s.size(), 8u);
  EXPECT_EQ(s[4].key, "net.ipv4.conf.eth0.arp_ignore");
  EXPECT_EQ(s[5].key, "net.ipv4.conf.eth0.arp_announce");
  // A VLAN interface: sysctl(8) writes its '.' as '/', /proc/sys keeps it.
  EXPECT_EQ(s[6].key, "net.ipv4.conf.eth0/100.arp_ignore");
  EXPECT_EQ(s[6].proc_path, "net/ipv4/conf/eth0.100/arp_ignore");
  EXPECT_EQ(s[7].value, "2");
}

TEST(ArpHiding, RejectsInvalidInterfaceNames) {
  for (const char* bad : {"", ".", "..", "a/b", "eth0:1", "has space", "tab\tname",
                          "sixteen-chars-xx"}) {
    std::vector<SysctlSetting> out;
    std::string error;
    EXPECT_FALSE(arp_hiding_sysctls({"eth0", bad}, &out, &error)) << bad;
    EXPECT_NE(error.find(std::string("\"") + bad + "\""), std::string::npos) << error;
    EXPECT_FALSE(valid_interface_name(bad)) << bad;
  }
  EXPECT_TRUE(valid_interface_name("fifteen-chars-x"));
  EXPECT_TRUE(valid_interface_name("eth0.100"));
}

TEST(ArpHiding, RulesetText) {
  const std::string want =
      "# vsd real-server ARP hiding (VS-DR / VS-TUN): the VIPs live on lo here.\n"
      "# VIP 2001:db8::10: IPv6, no ARP; Linux answers no neighbour solicitation for it on lo\n"
      "table arp vsd_rs\n"
      "delete table arp vsd_rs\n"
      "table arp vsd_rs {\n"
      "\tchain input {\n"
      "\t\ttype filter hook input priority filter; policy accept;\n"
      "\t\t# VIP 192.0.2.10: the director answers who-has for it, this host stays silent\n"
      "\t\tarp operation request arp daddr ip 192.0.2.10 drop comment \"vsd: VIP 192.0.2.10 "
      "belongs to the director\"\n"
      "\t\t# VIP 192.0.2.11: the director answers who-has for it, this host stays silent\n"
      "\t\tarp operation request arp daddr ip 192.0.2.11 drop comment \"vsd: VIP 192.0.2.11 "
      "belongs to the director\"\n"
      "\t}\n"
      "\tchain output {\n"
      "\t\ttype filter hook output priority filter; policy accept;\n"
      "\t\t# VIP 192.0.2.10: never the sender address of this host's ARP\n"
      "\t\tarp saddr ip 192.0.2.10 drop comment \"vsd: do not announce VIP 192.0.2.10\"\n"
      "\t\t# VIP 192.0.2.11: never the sender address of this host's ARP\n"
      "\t\tarp saddr ip 192.0.2.11 drop comment \"vsd: do not announce VIP 192.0.2.11\"\n"
      "\t}\n"
      "}\n";
  EXPECT_EQ(arp_hiding_ruleset({ip("192.0.2.10"), ip("2001:db8::10"), ip("192.0.2.11")}), want);
  EXPECT_EQ(arp_hiding_teardown(), "table arp vsd_rs\ndelete table arp vsd_rs\n");
}

// nft accepts the text, applying it twice leaves one table, and teardown
// works whether or not the table exists. In a private network namespace.
TEST(ArpHiding, NftAcceptsRulesetInPrivateNetns) {
  if (std::system("nft --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "nft not installed";
  const std::string rules = arp_hiding_ruleset({ip("192.0.2.10"), ip("203.0.113.7")});
  const std::string teardown = arp_hiding_teardown();
  int rc = test::run_in_private_netns([&] {
    auto apply = [](const std::string& text) {
      FILE* p = popen("nft -f -", "w");
      if (!p) return false;
      std::fwrite(text.data(), 1, text.size(), p);
      return pclose(p) == 0;
    };
    if (!apply(rules) || !apply(rules)) return 1;
    FILE* p = popen("nft list table arp vsd_rs", "r");
    if (!p) return 2;
    std::string listing;
    char buf[512];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) listing.append(buf, n);
    if (pclose(p) != 0) return 3;
    for (const char* needle :
         {"arp operation request arp daddr ip 192.0.2.10 drop", "arp saddr ip 203.0.113.7 drop",
          "comment \"vsd: do not announce VIP 192.0.2.10\""}) {
      if (listing.find(needle) == std::string::npos) {
        std::fprintf(stderr, "missing \"%s\" in:\n%s", needle, listing.c_str());
        return 4;
      }
    }
    if (listing.find("table arp vsd_rs") != listing.rfind("table arp vsd_rs")) return 5;
    if (!apply(teardown) || !apply(teardown)) return 6;
    if (std::system("nft list table arp vsd_rs >/dev/null 2>&1") == 0) return 7;
    return 0;
  });
  if (rc == test::kNetnsUnavailable) GTEST_SKIP() << "needs root and unshare(CLONE_NEWNET)";
  EXPECT_EQ(rc, 0);
}

}  // namespace
}  // namespace vsd::arp
