// The connection table: every entry is found from both directions, as in
// IPVS — by the client side (client -> VIP) and by the real-server side
// (RIP -> client, the NAT replies). Fixed capacity, allocated once: no heap
// allocation per packet or per connection. Expiry by a hashed timer wheel
// with lazy re-arming, driven by the caller's clock (seconds).
#pragma once

#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

#include "appliance/core/dest_state.hpp"
#include "appliance/core/huge_page_allocator.hpp"
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
  static constexpr std::uint32_t kNoControl = 0xffffffffu;
  bool is_template() const { return flags & kTemplate; }
};

class ConnTable {
 public:
  enum class Side : std::uint8_t { client, server };
  struct Hit {
    ConnEntry* entry = nullptr;
    Side side = Side::client;
  };

  explicit ConnTable(std::uint32_t capacity, std::uint64_t hash_seed = 0x9e3779b97f4a7c15ULL);

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

  std::uint32_t size() const { return size_; }
  std::uint32_t capacity() const { return static_cast<std::uint32_t>(entries_.size()); }
  // Bytes the table holds per connection: the entry plus its two hash slots.
  std::size_t bytes_per_entry() const {
    return sizeof(ConnEntry) + slots_.size() * sizeof(std::uint32_t) / entries_.size();
  }

 private:
  static constexpr std::uint32_t kEmpty = 0xffffffffu;
  static constexpr std::uint32_t kNil = 0xffffffffu;
  static constexpr std::uint32_t kFree = 0xfffffffeu;      // wheel_prev of a free entry
  static constexpr std::uint32_t kDetached = 0xfffffffdu;  // wheel_prev while expiring
  static constexpr std::uint32_t kWheelSlots = 4096;   // one-second slots

  std::uint64_t hash(std::uint8_t proto, const IpAddress& a, std::uint16_t ap, const IpAddress& b,
                     std::uint16_t bp) const;
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
  std::uint64_t seed_;
};

template <class F>
std::size_t ConnTable::expire(std::uint32_t now, F&& on_expire) {
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
