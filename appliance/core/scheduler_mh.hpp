#pragma once

#include <vector>

#include "appliance/core/scheduler_common.hpp"

namespace vsd {

// mh: Maglev hashing (ip_vs_mh.c; Eisenbud et al., NSDI 2016): a consistent
// hash of the client IP (with mh-port, IP and source port). Adding or
// removing one of N servers moves about 1/N of the clients, unlike sh where
// any change reshuffles nearly all of them.
//
// Each server walks its own permutation of the table slots (offset and skip
// hashed from its address:port, so every director with the same server list
// builds the same table) and claims the next free slot when its turn comes.
// Turns are weighted: in pass k a server of weight w takes a turn when
// floor(k*w/wmax) grows, so slots end up proportional to weight to within
// one pass, for any weights. (IPVS gives each server w/gcd consecutive turns
// and shifts large weights down to fit, which is coarser.) Servers of weight
// 0 get no slots: a snapshot has no "last weight" to keep them in place.
//
// Table size: 65521, the largest prime below 2^16, instead of IPVS's default
// 4093. Slots hold a 16-bit index (128 KiB a service); the Maglev paper wants
// the table much larger than the server count, and 65521 keeps the slot
// counts within ~1% of the weights up to several hundred servers while 4093
// already drifts by ~2.5% at 100. Tests pass smaller primes.
//
// A hashed server that is unavailable (overloaded) gets -1, unless
// mh-fallback: then the client is rehashed with salt 1, 2, ... until an
// available server comes up, which spreads its clients over the others by
// weight.
class MaglevHashScheduler final : public Scheduler {
 public:
  static constexpr std::uint32_t kDefaultTableSize = 65521;
  static constexpr std::uint16_t kEmpty = 0xffff;  // also caps the list at 65535 servers

  // table_size is rounded up to a prime, which makes every skip a full cycle.
  MaglevHashScheduler(std::span<const DestView> dests, bool fallback, bool use_port,
                      std::uint32_t table_size = kDefaultTableSize);
  std::string_view name() const override { return "mh"; }
  int schedule(std::span<const DestView> dests, const PacketView& pkt) override;

  std::span<const std::uint16_t> table() const { return table_; }

 private:
  std::size_t slot_of(const IpAddress& addr, std::uint16_t port, std::uint32_t salt) const;
  bool any_owner_available(std::span<const DestView> dests) const;

  std::vector<std::uint16_t> table_;   // dest index per slot
  std::vector<std::uint16_t> owners_;  // the dests that hold at least one slot
  bool fallback_;
  bool use_port_;
};

}  // namespace vsd
