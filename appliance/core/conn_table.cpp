#include "appliance/core/conn_table.hpp"

#include <bit>
#include <cstring>

namespace vsd {
namespace {

std::uint64_t load64(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  h *= 0xff51afd7ed558ccdULL;
  return h ^ (h >> 33);
}

}  // namespace

ConnTable::ConnTable(std::uint32_t capacity, std::uint64_t hash_seed) : seed_(hash_seed) {
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

std::uint64_t ConnTable::hash(std::uint8_t proto, const IpAddress& a, std::uint16_t ap,
                              const IpAddress& b, std::uint16_t bp) const {
  std::uint64_t h = seed_;
  h = mix(h, load64(a.bytes.data()));
  h = mix(h, load64(a.bytes.data() + 8));
  h = mix(h, load64(b.bytes.data()));
  h = mix(h, load64(b.bytes.data() + 8));
  h = mix(h, (std::uint64_t{proto} << 32) | (std::uint64_t{ap} << 16) | bp);
  return h;
}

std::uint64_t ConnTable::slot_hash(std::uint32_t v) const {
  const ConnEntry& e = entries_[v >> 1];
  if ((v & 1) == 0) return hash(e.proto, e.caddr, e.cport, e.vaddr, e.vport);
  return hash(e.proto, e.daddr, e.dport, e.caddr, e.cport);
}

bool ConnTable::key_matches(std::uint32_t v, std::uint8_t proto, const IpAddress& src,
                            std::uint16_t sport, const IpAddress& dst,
                            std::uint16_t dport) const {
  const ConnEntry& e = entries_[v >> 1];
  if (e.proto != proto) return false;
  if ((v & 1) == 0)
    return e.cport == sport && e.vport == dport && e.caddr == src && e.vaddr == dst;
  return e.dport == sport && e.cport == dport && e.daddr == src && e.caddr == dst;
}

ConnTable::Hit ConnTable::find(std::uint8_t proto, const IpAddress& src, std::uint16_t sport,
                               const IpAddress& dst, std::uint16_t dport) const {
  std::uint32_t i = static_cast<std::uint32_t>(hash(proto, src, sport, dst, dport)) & slot_mask_;
  for (;;) {
    std::uint32_t v = slots_[i];
    if (v == kEmpty) return {};
    if (key_matches(v, proto, src, sport, dst, dport))
      return {const_cast<ConnEntry*>(&entries_[v >> 1]), (v & 1) ? Side::server : Side::client};
    i = (i + 1) & slot_mask_;
  }
}

bool ConnTable::hash_insert(std::uint32_t v) {
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
void ConnTable::hash_remove(std::uint32_t v) {
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

void ConnTable::wheel_link(std::uint32_t idx, std::uint32_t when) {
  std::uint32_t slot = when % kWheelSlots;
  ConnEntry& e = entries_[idx];
  e.wheel_slot = static_cast<std::uint16_t>(slot);
  e.wheel_prev = kNil;
  e.wheel_next = wheel_[slot];
  if (e.wheel_next != kNil) entries_[e.wheel_next].wheel_prev = idx;
  wheel_[slot] = idx;
}

void ConnTable::wheel_unlink(std::uint32_t idx) {
  ConnEntry& e = entries_[idx];
  if (e.wheel_prev == kDetached) return;
  if (e.wheel_prev == kNil) {
    wheel_[e.wheel_slot] = e.wheel_next;
  } else {
    entries_[e.wheel_prev].wheel_next = e.wheel_next;
  }
  if (e.wheel_next != kNil) entries_[e.wheel_next].wheel_prev = e.wheel_prev;
}

ConnEntry* ConnTable::insert(const ConnEntry& init, std::uint32_t expires) {
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

void ConnTable::unhash_keys(std::uint32_t idx) {
  ConnEntry& e = entries_[idx];
  if (e.flags & ConnEntry::kUnhashed) return;
  hash_remove(idx * 2);
  if (!(e.flags & ConnEntry::kClientKeyOnly)) hash_remove(idx * 2 + 1);
  e.flags |= ConnEntry::kUnhashed;
}

void ConnTable::unhash(ConnEntry& e) {
  if (e.wheel_prev == kFree) return;
  unhash_keys(index_of(e));
}

void ConnTable::erase(ConnEntry& e) {
  std::uint32_t idx = index_of(e);
  if (e.wheel_prev == kFree) return;
  wheel_unlink(idx);
  unhash_keys(idx);
  e.dest.reset();
  e.flags = 0;
  e.control = ConnEntry::kNoControl;
  e.wheel_prev = kFree;
  e.wheel_next = free_head_;
  free_head_ = idx;
  --size_;
}

}  // namespace vsd
