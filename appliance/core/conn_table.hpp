// The connection table: every entry is found from both directions, as in
// IPVS — by the client side (client -> VIP) and by the real-server side
// (RIP -> client, the NAT replies). Fixed capacity, allocated once: no heap
// allocation per packet or per connection. Expiry by a hashed timer wheel
// with lazy re-arming, driven by the caller's clock (seconds).
//
// Hashing is keyed: open addressing with linear probing is only as good as
// the spread of its keys, and a client who can compute where its tuples
// land can pile thousands of them into one probe run (one IPv6 /64 gives
// 2^64 source addresses to choose from), after which each of its packets
// walks the whole run. ConnTable hashes with SipHash-1-3 under a 128-bit
// key drawn from getrandom(2) when the table is made: a different one in
// every process, never shown. IPVS keys its connection hash with a random
// secret for the same reason. BasicConnTable takes the hash as a parameter
// so that the benchmark can set the old unkeyed function beside it.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <type_traits>
#include <vector>

#include "appliance/core/dest_state.hpp"
#include "appliance/core/huge_page_allocator.hpp"
#include "appliance/core/siphash.hpp"
#include "appliance/core/tcp_state.hpp"
#include "net/ip_address.hpp"

namespace vsd {

struct ConnEntry {
  IpAddress caddr;  // client
  IpAddress vaddr;  // virtual address (VIP)
  IpAddress daddr;  // real server (destination)
  std::uint16_t cport = 0, vport = 0, dport = 0;
  std::uint8_t proto = 0;
  TcpState state = TcpState::none;
  std::uint8_t fwd = 0;      // ForwardMethod of the real server
  std::uint8_t flags = 0;    // kActive while counted in ActiveConn
  std::uint16_t wheel_slot = 0;  // timer-wheel slot the entry is linked in
  std::uint32_t expires = 0; // clock seconds
  std::uint32_t timeout = 0; // seconds, the current state's timeout (for listings)
  std::uint32_t wheel_next = 0, wheel_prev = 0;
  // Persistence (IPVS "control" connections): a connection made under a
  // template holds the template's index here (kNoControl otherwise); a
  // template holds how many connections it controls — it does not expire
  // while that is above zero, as in IPVS.
  std::uint32_t control = kNoControl;
  // Embryonic entries (drop_entry may evict them) are in their service's
  // list, oldest first: table indices, kListEnd at the ends. An entry is
  // put in when its connection is made and taken out for good when TCP
  // reaches ESTABLISHED or UDP shows a reply (NAT) or a second datagram
  // (DR/TUN); never a template. kNoLink: in no list (not a bit of `flags`,
  // whose eight are taken, and no byte of padding is left).
  std::uint32_t embryo_prev = kNoLink, embryo_next = kNoLink;
  std::shared_ptr<DestState> dest;

  static constexpr std::uint8_t kActive = 0x01;     // counted in ActiveConn
  static constexpr std::uint8_t kTemplate = 0x02;   // a persistence template
  static constexpr std::uint8_t kClientKeyOnly = 0x04;  // no real-server-side key
  static constexpr std::uint8_t kUnhashed = 0x08;   // found by no key (invalidated template)
  // The kernel carries the flow after its first packet (fast path); with
  // kKernelHeld its end comes from the kernel alone (conntrack's DESTROY),
  // not from vsd's timer (NAT: vsd sees none of its later packets).
  static constexpr std::uint8_t kKernel = 0x10;
  static constexpr std::uint8_t kKernelHeld = 0x20;
  static constexpr std::uint8_t kKernelSeen = 0x40;  // found by the running resync
  // Copied from the pair's master (sync): it ends by its own timer until
  // this node's kernel reports the flow.
  static constexpr std::uint8_t kSynced = 0x80;
  static constexpr std::uint32_t kNoControl = 0xffffffffu;
  static constexpr std::uint32_t kNoLink = 0xffffffffu;
  static constexpr std::uint32_t kListEnd = 0xfffffffeu;
  bool is_template() const { return flags & kTemplate; }
  bool embryonic() const { return embryo_prev != kNoLink; }
};

// A connection's key as the hash reads it: both addresses as two words
// each, then protocol and both ports in one.
struct ConnTupleWords {
  std::uint64_t w[5];
};

// The table's hash: SipHash-1-3 of the tuple's 40 bytes under a secret key:
// 9 SipRounds, about what the unkeyed multiply chain it replaced cost, and
// small beside the cache misses of a large table (bench/README.md).
struct KeyedTupleHash {
  SipKey key;
  std::uint64_t operator()(const ConnTupleWords& t) const { return siphash_words<1, 3>(key, t.w); }
};

enum class ConnSide : std::uint8_t { client, server };
struct ConnHit {
  ConnEntry* entry = nullptr;
  ConnSide side = ConnSide::client;
};

// Hash: a copyable functor ConnTupleWords -> std::uint64_t (only the low bits
// pick the slot). Use ConnTable; other hashes are for the benchmark.
template <class Hash>
class BasicConnTable {
 public:
  using Side = ConnSide;
  using Hit = ConnHit;

  BasicConnTable(std::uint32_t capacity, Hash hash);

  // Looks a packet's 5-tuple up (src/dst as the packet carries them).
  Hit find(std::uint8_t proto, const IpAddress& src, std::uint16_t sport, const IpAddress& dst,
           std::uint16_t dport) const;

  // Adds a connection (addresses, ports, proto, fwd, state, flags, dest
  // from `init`) expiring at `expires`. Returns nullptr when the table is
  // full or a key is already taken. With kClientKeyOnly in init.flags only
  // the client-side key is hashed (templates: no packet comes back to them,
  // and two services' templates may share the real-server side).
  ConnEntry* insert(const ConnEntry& init, std::uint32_t expires);

  // Makes an entry unfindable but keeps it until it expires (an invalidated
  // persistence template that still controls connections).
  void unhash(ConnEntry& e);

  ConnEntry& at(std::uint32_t index) { return entries_[index]; }
  const ConnEntry& at(std::uint32_t index) const { return entries_[index]; }
  std::uint32_t index_of(const ConnEntry& e) const {
    return static_cast<std::uint32_t>(&e - entries_.data());
  }

  // Sets the expiry time; O(1). A later time re-arms lazily (the entry is
  // moved when its old slot comes up: the common case, every packet); an
  // earlier one (a shorter state timeout, e.g. after a FIN) moves it now.
  void set_expiry(ConnEntry& e, std::uint32_t expires) {
    if (expires < e.expires && e.wheel_prev != kDetached) {
      std::uint32_t idx = index_of(e);
      wheel_unlink(idx);
      wheel_link(idx, expires);
    }
    e.expires = expires;
  }

  // Removes an entry now (without calling an expiry callback).
  void erase(ConnEntry& e);

  // Expires every entry whose time has come by `now`; on_expire(entry) runs
  // just before each removal. An on_expire returning bool may return false
  // to keep the entry (after moving e.expires on). Returns how many expired.
  template <class F>
  std::size_t expire(std::uint32_t now, F&& on_expire);

  template <class F>
  void for_each(F&& f) const {
    for (const auto& e : entries_)
      if (e.wheel_prev != kFree) f(e);
  }
  template <class F>
  void for_each_mutable(F&& f) {
    for (auto& e : entries_)
      if (e.wheel_prev != kFree) f(e);
  }

  // The table in bounded steps, for listings that must not hold the data
  // path for the whole table: visits the live entries among the `max_slots`
  // entry slots from `cursor` on (f(entry) for each, in slot order) and
  // returns where the next step starts: capacity() once the walk is done.
  // A walk starts at 0; max_slots 0 counts as 1.
  //
  // The table may change between steps (the caller releases its lock).
  // The cursor is a position in the entry array, and entries never move in
  // it: backward-shift deletion moves the hash slots, which hold entry
  // numbers, never an entry. So, unlike a walk over the hash (IPVS's
  // /proc/net/ip_vs_conn, where entries may be missed or seen twice):
  //  - an entry that lives for the whole walk is visited exactly once,
  //    however many others are added, removed or shifted meanwhile;
  //  - no slot is visited twice, so no entry is seen twice (a connection
  //    that ends and starts again during the walk is two entries, and both
  //    may be seen);
  //  - an entry added during the walk is seen only if its slot is still
  //    ahead of the cursor; one removed during the walk only if its slot
  //    was visited before it went.
  // Each entry is seen as it is at the step that visits it.
  template <class F>
  std::uint32_t for_each_from(std::uint32_t cursor, std::uint32_t max_slots, F&& f) const {
    const std::uint32_t cap = capacity();
    if (cursor >= cap) return cap;
    const std::uint32_t end = cap - cursor > max_slots ? cursor + (max_slots ? max_slots : 1) : cap;
    for (std::uint32_t i = cursor; i < end; ++i)
      if (entries_[i].wheel_prev != kFree) f(entries_[i]);
    return end;
  }

  std::uint32_t size() const { return size_; }
  std::uint32_t capacity() const { return static_cast<std::uint32_t>(entries_.size()); }
  // Bytes the table holds per connection: the entry plus its two hash slots.
  std::size_t bytes_per_entry() const {
    return sizeof(ConnEntry) + slots_.size() * sizeof(std::uint32_t) / entries_.size();
  }
  // What a table of `capacity` allocates (entries and hash slots), before
  // it is made: vsd checks it against the node's memory at start.
  static std::uint64_t bytes_for(std::uint32_t capacity) {
    return std::uint64_t{capacity} * sizeof(ConnEntry) +
           std::bit_ceil(std::uint64_t{capacity} * 4) * sizeof(std::uint32_t);
  }

 private:
  static constexpr std::uint32_t kEmpty = 0xffffffffu;
  static constexpr std::uint32_t kNil = 0xffffffffu;
  static constexpr std::uint32_t kFree = 0xfffffffeu;      // wheel_prev of a free entry
  static constexpr std::uint32_t kDetached = 0xfffffffdu;  // wheel_prev while expiring
  static constexpr std::uint32_t kWheelSlots = 4096;   // one-second slots

  std::uint64_t hash(std::uint8_t proto, const IpAddress& a, std::uint16_t ap, const IpAddress& b,
                     std::uint16_t bp) const {
    ConnTupleWords t;
    std::memcpy(&t.w[0], a.bytes.data(), 16);
    std::memcpy(&t.w[2], b.bytes.data(), 16);
    t.w[4] = (std::uint64_t{proto} << 32) | (std::uint64_t{ap} << 16) | bp;
    return hash_(t);
  }
  bool key_matches(std::uint32_t slot_value, std::uint8_t proto, const IpAddress& src,
                   std::uint16_t sport, const IpAddress& dst, std::uint16_t dport) const;
  std::uint64_t slot_hash(std::uint32_t slot_value) const;
  bool hash_insert(std::uint32_t slot_value);
  void hash_remove(std::uint32_t slot_value);
  void wheel_link(std::uint32_t idx, std::uint32_t when);
  void wheel_unlink(std::uint32_t idx);
  void unhash_keys(std::uint32_t idx);

  std::vector<ConnEntry, HugePageAllocator<ConnEntry>> entries_;
  std::vector<std::uint32_t, HugePageAllocator<std::uint32_t>> slots_;  // entry index * 2 + side, or kEmpty
  std::uint32_t slot_mask_;
  std::vector<std::uint32_t> wheel_;  // list heads per one-second slot
  std::uint32_t free_head_ = kNil;
  std::uint32_t size_ = 0;
  std::uint32_t last_tick_ = 0;
  bool ticked_ = false;
  Hash hash_;
};

// The connection table vsd uses: keyed with a random secret.
class ConnTable : public BasicConnTable<KeyedTupleHash> {
 public:
  // Draws the key from getrandom(2); throws std::runtime_error if the
  // kernel cannot give one.
  explicit ConnTable(std::uint32_t capacity);
  // A fixed key: tests and benchmarks that need the same layout every run.
  ConnTable(std::uint32_t capacity, const SipKey& key);
};

template <class Hash>
BasicConnTable<Hash>::BasicConnTable(std::uint32_t capacity, Hash hash) : hash_(hash) {
  if (capacity == 0) capacity = 1;
  entries_.resize(capacity);
  // Two keys per entry at a load factor of at most 1/2 keeps probes short.
  std::uint64_t slots = std::bit_ceil(std::uint64_t{capacity} * 4);
  slots_.assign(slots, kEmpty);
  slot_mask_ = static_cast<std::uint32_t>(slots - 1);
  wheel_.assign(kWheelSlots, kNil);
  for (std::uint32_t i = capacity; i-- > 0;) {
    entries_[i].wheel_prev = kFree;
    entries_[i].wheel_next = free_head_;
    free_head_ = i;
  }
}

template <class Hash>
std::uint64_t BasicConnTable<Hash>::slot_hash(std::uint32_t v) const {
  const ConnEntry& e = entries_[v >> 1];
  if ((v & 1) == 0) return hash(e.proto, e.caddr, e.cport, e.vaddr, e.vport);
  return hash(e.proto, e.daddr, e.dport, e.caddr, e.cport);
}

template <class Hash>
bool BasicConnTable<Hash>::key_matches(std::uint32_t v, std::uint8_t proto, const IpAddress& src,
                                       std::uint16_t sport, const IpAddress& dst,
                                       std::uint16_t dport) const {
  const ConnEntry& e = entries_[v >> 1];
  if (e.proto != proto) return false;
  if ((v & 1) == 0)
    return e.cport == sport && e.vport == dport && e.caddr == src && e.vaddr == dst;
  return e.dport == sport && e.cport == dport && e.daddr == src && e.caddr == dst;
}

template <class Hash>
ConnHit BasicConnTable<Hash>::find(std::uint8_t proto, const IpAddress& src, std::uint16_t sport,
                                   const IpAddress& dst, std::uint16_t dport) const {
  std::uint32_t i = static_cast<std::uint32_t>(hash(proto, src, sport, dst, dport)) & slot_mask_;
  for (;;) {
    std::uint32_t v = slots_[i];
    if (v == kEmpty) return {};
    if (key_matches(v, proto, src, sport, dst, dport))
      return {const_cast<ConnEntry*>(&entries_[v >> 1]),
              (v & 1) ? ConnSide::server : ConnSide::client};
    i = (i + 1) & slot_mask_;
  }
}

template <class Hash>
bool BasicConnTable<Hash>::hash_insert(std::uint32_t v) {
  std::uint32_t i = static_cast<std::uint32_t>(slot_hash(v)) & slot_mask_;
  const ConnEntry& e = entries_[v >> 1];
  for (;;) {
    std::uint32_t cur = slots_[i];
    if (cur == kEmpty) {
      slots_[i] = v;
      return true;
    }
    bool dup = (v & 1) == 0 ? key_matches(cur, e.proto, e.caddr, e.cport, e.vaddr, e.vport)
                            : key_matches(cur, e.proto, e.daddr, e.dport, e.caddr, e.cport);
    if (dup) return false;
    i = (i + 1) & slot_mask_;
  }
}

// Linear probing with backward-shift deletion: no tombstones, so lookups
// stay short however long the director runs.
template <class Hash>
void BasicConnTable<Hash>::hash_remove(std::uint32_t v) {
  std::uint32_t i = static_cast<std::uint32_t>(slot_hash(v)) & slot_mask_;
  while (slots_[i] != v) {
    if (slots_[i] == kEmpty) return;
    i = (i + 1) & slot_mask_;
  }
  std::uint32_t hole = i;
  for (std::uint32_t j = (i + 1) & slot_mask_; slots_[j] != kEmpty; j = (j + 1) & slot_mask_) {
    std::uint32_t home = static_cast<std::uint32_t>(slot_hash(slots_[j])) & slot_mask_;
    // Move j into the hole unless its home lies cyclically in (hole, j].
    bool home_after_hole = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!home_after_hole) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = kEmpty;
}

template <class Hash>
void BasicConnTable<Hash>::wheel_link(std::uint32_t idx, std::uint32_t when) {
  std::uint32_t slot = when % kWheelSlots;
  ConnEntry& e = entries_[idx];
  e.wheel_slot = static_cast<std::uint16_t>(slot);
  e.wheel_prev = kNil;
  e.wheel_next = wheel_[slot];
  if (e.wheel_next != kNil) entries_[e.wheel_next].wheel_prev = idx;
  wheel_[slot] = idx;
}

template <class Hash>
void BasicConnTable<Hash>::wheel_unlink(std::uint32_t idx) {
  ConnEntry& e = entries_[idx];
  if (e.wheel_prev == kDetached) return;
  if (e.wheel_prev == kNil) {
    wheel_[e.wheel_slot] = e.wheel_next;
  } else {
    entries_[e.wheel_prev].wheel_next = e.wheel_next;
  }
  if (e.wheel_next != kNil) entries_[e.wheel_next].wheel_prev = e.wheel_prev;
}

template <class Hash>
ConnEntry* BasicConnTable<Hash>::insert(const ConnEntry& init, std::uint32_t expires) {
  if (free_head_ == kNil) return nullptr;
  std::uint32_t idx = free_head_;
  ConnEntry& e = entries_[idx];
  std::uint32_t next_free = e.wheel_next;
  e = init;
  e.expires = expires;
  if (!hash_insert(idx * 2)) {
    e = ConnEntry{};
    e.wheel_prev = kFree;
    e.wheel_next = next_free;
    return nullptr;
  }
  if (!(e.flags & ConnEntry::kClientKeyOnly) && !hash_insert(idx * 2 + 1)) {
    hash_remove(idx * 2);
    e = ConnEntry{};
    e.wheel_prev = kFree;
    e.wheel_next = next_free;
    return nullptr;
  }
  free_head_ = next_free;
  wheel_link(idx, expires);
  ++size_;
  return &e;
}

template <class Hash>
void BasicConnTable<Hash>::unhash_keys(std::uint32_t idx) {
  ConnEntry& e = entries_[idx];
  if (e.flags & ConnEntry::kUnhashed) return;
  hash_remove(idx * 2);
  if (!(e.flags & ConnEntry::kClientKeyOnly)) hash_remove(idx * 2 + 1);
  e.flags |= ConnEntry::kUnhashed;
}

template <class Hash>
void BasicConnTable<Hash>::unhash(ConnEntry& e) {
  if (e.wheel_prev == kFree) return;
  unhash_keys(index_of(e));
}

template <class Hash>
void BasicConnTable<Hash>::erase(ConnEntry& e) {
  std::uint32_t idx = index_of(e);
  if (e.wheel_prev == kFree) return;
  wheel_unlink(idx);
  unhash_keys(idx);
  e.dest.reset();
  e.flags = 0;
  e.control = ConnEntry::kNoControl;
  e.embryo_prev = e.embryo_next = ConnEntry::kNoLink;
  e.wheel_prev = kFree;
  e.wheel_next = free_head_;
  free_head_ = idx;
  --size_;
}

template <class Hash>
template <class F>
std::size_t BasicConnTable<Hash>::expire(std::uint32_t now, F&& on_expire) {
  if (!ticked_) {
    last_tick_ = now;
    ticked_ = true;
  }
  if (now < last_tick_) return 0;
  std::uint32_t steps = now - last_tick_;
  if (steps > kWheelSlots) steps = kWheelSlots;
  std::size_t expired = 0;
  // Slot of `now` included, so an entry due now goes now.
  for (std::uint32_t i = 0; i <= steps; ++i) {
    std::uint32_t slot = (now - steps + i) % kWheelSlots;
    // Detach the list first: entries re-armed into this very slot are not
    // visited twice in one pass.
    std::uint32_t idx = wheel_[slot];
    wheel_[slot] = kNil;
    while (idx != kNil) {
      ConnEntry& e = entries_[idx];
      std::uint32_t next = e.wheel_next;
      bool remove = e.expires <= now;
      if (remove) {
        if constexpr (std::is_same_v<decltype(on_expire(e)), bool>) {
          remove = on_expire(e);
          if (!remove && e.expires <= now) e.expires = now + 1;  // kept: never due twice in a pass
        } else {
          on_expire(e);
        }
      }
      if (remove) {
        e.wheel_prev = kDetached;  // the slot list was detached above
        e.wheel_next = kNil;
        erase(e);
        ++expired;
      } else {
        wheel_link(idx, e.expires);
      }
      idx = next;
    }
  }
  last_tick_ = now;
  return expired;
}

}  // namespace vsd
