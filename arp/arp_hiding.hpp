// What a VS-DR / VS-TUN real server must apply so that only the director
// answers for the VIP, which the real server holds on lo to accept the
// packets addressed to it (the classic LVS "ARP problem"):
//  - sysctls: arp_ignore=1 (answer ARP only for addresses on the interface
//    the request came in on, so never for the VIP on lo) and arp_announce=2
//    (never use the VIP as the sender address of our own ARP requests), on
//    "all" and "lo" as the LVS documentation sets them (the kernel uses the
//    larger of "all" and the interface's value), and on any interface named;
//  - an nftables arp-family table, vsd_rs, that enforces the same with
//    rules naming each VIP, for kernels or setups where the sysctls are
//    overridden.
// IPv6 VIPs need neither: Linux answers a neighbour solicitation only for an
// address on the interface it arrived on, never for one on lo.
// Pure builders: the caller applies them (SysctlGuard, `nft -f`).
#pragma once

#include <string>
#include <vector>

#include "net/ip_address.hpp"

namespace vsd::arp {

struct SysctlSetting {
  std::string key;        // sysctl(8) spelling: "net.ipv4.conf.lo.arp_ignore" (a '.' in
                          // an interface name is written '/', as sysctl(8) does)
  std::string proc_path;  // relative to /proc/sys: "net/ipv4/conf/lo/arp_ignore"
  std::string value;
};

// The interface name rules of the kernel's dev_valid_name: 1 to 15 bytes,
// not "." or "..", no '/', ':' or white space.
bool valid_interface_name(const std::string& name);

// all and lo, then `interfaces` in order (duplicates of all/lo skipped).
// False, with *error naming the bad name, when an interface name is invalid.
bool arp_hiding_sysctls(const std::vector<std::string>& interfaces,
                        std::vector<SysctlSetting>* out, std::string* error);

inline constexpr const char* kArpHidingTable = "vsd_rs";

// `nft -f` text that (re)creates table arp vsd_rs atomically: an incoming ARP
// request for a VIP is dropped, and so is any outgoing ARP packet that
// carries a VIP as sender address. Each rule and a comment line name their
// VIP; IPv6 VIPs are listed as comments only (see above). Applying it twice
// leaves one table.
std::string arp_hiding_ruleset(const std::vector<IpAddress>& vips);
// `nft -f` text that removes the table, and succeeds when it is absent.
std::string arp_hiding_teardown();

}  // namespace vsd::arp
