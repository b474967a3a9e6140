#include "appliance/core/sync_message.hpp"

#include <cstring>

namespace vsd {

namespace {

constexpr std::uint8_t kMagic[4] = {'V', 'S', 'D', 'S'};
constexpr std::uint8_t kVersion = 1;

struct Writer {
  std::uint8_t* p;
  void u8(std::uint8_t v) { *p++ = v; }
  void u16(std::uint16_t v) {
    u8(static_cast<std::uint8_t>(v >> 8));
    u8(static_cast<std::uint8_t>(v));
  }
  void u32(std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v >> 16));
    u16(static_cast<std::uint16_t>(v));
  }
  void addr(const IpAddress& a) {
    std::memcpy(p, a.bytes.data(), 16);
    p += 16;
  }
};

struct Reader {
  const std::uint8_t* p;
  std::uint8_t u8() { return *p++; }
  std::uint16_t u16() {
    const std::uint16_t hi = u8();
    return static_cast<std::uint16_t>(hi << 8 | u8());
  }
  std::uint32_t u32() {
    const std::uint32_t hi = u16();
    return hi << 16 | u16();
  }
  IpAddress addr() {
    IpAddress a = IpAddress::v6(p);
    p += 16;
    return a;
  }
};

}  // namespace

std::size_t encode_sync(std::span<std::uint8_t> out, std::uint8_t sync_id, std::span<const SyncEntry> entries,
                        std::uint64_t decisions) {
  Writer w{out.data()};
  for (std::uint8_t m : kMagic) w.u8(m);
  w.u8(kVersion);
  w.u8(sync_id);
  w.u16(static_cast<std::uint16_t>(entries.size()));
  w.u32(static_cast<std::uint32_t>(decisions >> 32));
  w.u32(static_cast<std::uint32_t>(decisions));
  for (const auto& e : entries) {
    w.u8(e.proto);
    w.u32(e.fwmark);
    w.addr(e.caddr);
    w.addr(e.vaddr);
    w.addr(e.daddr);
    w.u16(e.cport);
    w.u16(e.vport);
    w.u16(e.dport);
    w.u8(e.state);
    w.u8(e.is_template ? 1 : 0);
    w.u32(e.timeout_s);
  }
  return static_cast<std::size_t>(w.p - out.data());
}

SyncDecode decode_sync(std::span<const std::uint8_t> d) {
  SyncDecode r;
  if (d.size() < kSyncHeaderSize) {
    r.error = "shorter than a header (" + std::to_string(d.size()) + " bytes)";
    return r;
  }
  if (std::memcmp(d.data(), kMagic, 4) != 0) {
    r.error = "not a vsd sync message (no \"VSDS\")";
    return r;
  }
  Reader h{d.data() + 4};
  const std::uint8_t version = h.u8();
  if (version != kVersion) {
    r.error = "version " + std::to_string(version) + " (this vsd speaks 1): are both directors the same vsd?";
    return r;
  }
  r.sync_id = h.u8();
  const std::size_t count = h.u16();
  r.decisions = static_cast<std::uint64_t>(h.u32()) << 32;
  r.decisions |= h.u32();
  if (d.size() != kSyncHeaderSize + count * kSyncEntrySize) {
    r.error = "says " + std::to_string(count) + " entries but holds " + std::to_string(d.size()) + " bytes";
    return r;
  }
  Reader e{d.data() + kSyncHeaderSize};
  r.entries.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    SyncEntry s;
    s.proto = e.u8();
    s.fwmark = e.u32();
    s.caddr = e.addr();
    s.vaddr = e.addr();
    s.daddr = e.addr();
    s.cport = e.u16();
    s.vport = e.u16();
    s.dport = e.u16();
    s.state = e.u8();
    const std::uint8_t flags = e.u8();
    s.timeout_s = e.u32();
    if (flags > 1) {
      r.error = "entry " + std::to_string(i) + " has unknown flags " + std::to_string(flags);
      r.entries.clear();
      return r;
    }
    s.is_template = flags == 1;
    r.entries.push_back(s);
  }
  r.ok = true;
  return r;
}

}  // namespace vsd
