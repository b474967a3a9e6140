// vsd's own sync between the two directors of a pair (README "A director
// pair"): IPVS's sync daemon's job for what the kernel does not hold —
// persistence templates, and the connection table's entries (DR/TUN flows,
// whose flow table is the master's alone, and NAT flows for the backup's
// listings and counts; their conntrack entries travel with conntrackd).
// The master sends datagrams of entries; the backup enters them in its
// table. Pure encoding and decoding here: the decoder takes any bytes
// (fuzzed) and says what is wrong with them.
//
// A datagram: header (16 bytes: "VSDS", version 1, sync id, entry count,
// the sender's decision fingerprint in 8 bytes: 0 = none), then `count`
// entries of kSyncEntrySize bytes, every integer in network order,
// addresses as 16 bytes (IPv4 mapped). The fingerprint
// (DecisionNumbers::fingerprint) lets the backup see that both directors
// number their (service, real server) pairs alike: NAT flows travel in
// conntrack marks holding those numbers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "net/ip_address.hpp"

namespace vsd {

struct SyncEntry {
  // The entry as the connection table keys it: for a template `proto` is
  // 0x80 | the protocol (0 for a fwmark service's) and `caddr` the masked
  // client, as the master's table holds it.
  std::uint8_t proto = 0;
  std::uint32_t fwmark = 0;  // the service's firewall mark (0: a VIP:port service)
  IpAddress caddr, vaddr, daddr;
  std::uint16_t cport = 0, vport = 0, dport = 0;
  std::uint8_t state = 0;     // TcpState
  bool is_template = false;
  std::uint32_t timeout_s = 0;  // what is left of the entry's time at the master
  bool operator==(const SyncEntry&) const = default;
};

inline constexpr std::size_t kSyncHeaderSize = 16;
inline constexpr std::size_t kSyncEntrySize = 1 + 4 + 16 * 3 + 2 * 3 + 1 + 1 + 4;  // 65
// Fits one 1500-byte frame with IPv6 and UDP headers.
inline constexpr std::size_t kSyncMaxEntries = (1500 - 48 - kSyncHeaderSize) / kSyncEntrySize;

// Writes header and entries into `out` (at least kSyncHeaderSize +
// entries.size() * kSyncEntrySize bytes); returns the size written.
std::size_t encode_sync(std::span<std::uint8_t> out, std::uint8_t sync_id, std::span<const SyncEntry> entries,
                        std::uint64_t decisions = 0);

struct SyncDecode {
  bool ok = false;
  std::string error;  // what is wrong, when !ok
  std::uint8_t sync_id = 0;
  std::uint64_t decisions = 0;  // the sender's decision fingerprint; 0: none given
  std::vector<SyncEntry> entries;
};
SyncDecode decode_sync(std::span<const std::uint8_t> datagram);

}  // namespace vsd
