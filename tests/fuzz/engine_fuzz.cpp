// appliance/core/: Engine::process over a snapshot with every kind of
// service (NAT, ops UDP, persistent port 0, fwmark, DR, TUN, IPv6, the
// kernel fast path's marks), driven by a script of operations: packets
// (raw bytes, or built from tables of the snapshot's addresses so the
// fuzzer reaches connections quickly), a fake clock advanced by the input,
// expiry, the kernel's flow reports and resyncs, snapshot swaps, and the
// real server's decapsulation. Besides ASan/UBSan it checks:
//  - a packet the engine rewrote still parses; what it transmits parses and
//    lies in its buffer;
//  - the connection count never exceeds the table, and after each batch the
//    per-real-server ActiveConn / InActConn / PersistConn equal the entries
//    in the table (no counter drifts or wraps below zero).
//
// Input: a sequence of operations, each an opcode byte and its arguments.
#include <netinet/in.h>

#include <map>
#include <memory>
#include <string>

#include "appliance/core/decapsulator.hpp"
#include "appliance/core/engine.hpp"
#include "appliance/core/kernel_flow.hpp"
#include "appliance/core/kernel_marks.hpp"
#include "forwarders/tun_rewriter.hpp"
#include "fuzz_common.hpp"
#include "packet_builder.hpp"
#include "core/spec_builder.hpp"

namespace vsd {
namespace {

constexpr std::uint32_t kMaxConnections = 48;
constexpr std::uint32_t kRs1 = 0x00010000, kRs2 = 0x00020000, kDr = 0x00030000, kP1 = 0x00040000,
                        kP2 = 0x00050000;

DestEgress dr_egress(bool known) {
  DestEgress e;
  e.ifindex = 2;
  e.mtu = 1500;
  e.mac = {0x02, 0, 0, 0, 0, 0x21};
  e.mac_known = known;
  return e;
}
DestEgress tun_egress(const char* source, std::uint32_t mtu) {
  DestEgress e;
  e.tunnel_source = *IpAddress::parse(source);
  e.mtu = mtu;
  return e;
}

// Two snapshots to swap between: B drops and reweighs real servers, turns
// the fast path off and the expire_* flags on.
SnapshotSpec spec(bool b) {
  using test::service;
  std::vector<ServiceSpec> s;
  auto nat = service("192.0.2.10:80").scheduler(b ? "wlc" : "rr").real("203.0.113.11:8000").kernel(kRs1);
  if (!b) nat.real("203.0.113.12:8000", 2).thresholds(3, 1).kernel(kRs2);
  s.push_back(nat);
  s.push_back(service("192.0.2.10:53").udp().ops().scheduler("rr").real("203.0.113.11:53")
                  .real("203.0.113.12:53", b ? 0 : 1));
  s.push_back(service("192.0.2.20:0").scheduler("sh").persistent(300, 24)
                  .real("203.0.113.31", 1).kernel(kP1).real("203.0.113.32", b ? 0 : 1).kernel(kP2));
  s.push_back(test::fwmark_service(7).scheduler("wlc").persistent(60).real("203.0.113.41").real("203.0.113.42"));
  s.push_back(service("198.51.100.10:80").scheduler("rr")
                  .real("198.51.100.21", 1, ForwardMethod::dr).egress(dr_egress(true)).kernel(kDr)
                  .real("198.51.100.22", 1, ForwardMethod::dr).egress(dr_egress(b)));
  s.push_back(service("192.0.2.30:80").scheduler("lc")
                  .real("203.0.113.51", 1, ForwardMethod::tun).egress(tun_egress("192.0.2.1", b ? 576 : 1400)));
  s.push_back(service("[2001:db8::10]:443").scheduler(b ? "dh" : "sh").flags(b ? std::vector<std::string>{} : std::vector<std::string>{"sh-port"}).persistent(b ? 0 : 120, 64)
                  .real("[2001:db8:7::31]", 1, ForwardMethod::tun).egress(tun_egress("2001:db8:62::2", 1400))
                  .real("[2001:db8:5::11]:8443", 3));
  s.push_back(service("[2001:db8::10]:53").udp().scheduler(b ? "lblcr" : "lblc").real("[2001:db8:5::11]:53")
                  .real("[2001:db8:5::12]:53"));
  s.push_back(service("192.0.2.40:80").scheduler("twos").real("203.0.113.61:80").real("203.0.113.62:80", 5));
  if (!b) s.push_back(service("192.0.2.50:25").scheduler("sed").real("203.0.113.71:25"));
  SnapshotSpec sp = test::snapshot(std::move(s));
  if (!b) sp.marks = *MarkLayout::from_mask(0xffff0000);
  sp.expire_nodest_conn = b;
  sp.expire_quiescent_template = b;
  if (b) sp.timeouts.set_tcp_established(30);
  return sp;
}

const SnapshotSpec& spec_a() {
  static const SnapshotSpec s = spec(false);
  return s;
}
const SnapshotSpec& spec_b() {
  static const SnapshotSpec s = spec(true);
  return s;
}

// Addresses the built packets use: clients, VIPs, real servers.
const char* const kClients4[] = {"198.51.100.2", "198.51.100.3", "198.51.100.200", "203.0.113.11"};
const char* const kClients6[] = {"2001:db8:1::2", "2001:db8:1::3", "2001:db8:5::11"};
struct Target {
  const char* addr;
  std::uint16_t port;
};
const Target kTargets4[] = {{"192.0.2.10", 80}, {"192.0.2.10", 53}, {"192.0.2.20", 443},
                            {"192.0.2.20", 8080}, {"198.51.100.10", 80}, {"192.0.2.30", 80},
                            {"192.0.2.40", 80}, {"192.0.2.50", 25}, {"203.0.113.11", 8000},
                            {"203.0.113.12", 53}, {"203.0.113.31", 443}, {"203.0.113.41", 22}};
const Target kTargets6[] = {{"2001:db8::10", 443}, {"2001:db8::10", 53}, {"2001:db8:5::11", 8443},
                            {"2001:db8:5::12", 53}};

struct Reader {
  const std::uint8_t* p;
  std::size_t n;
  bool empty() const { return n == 0; }
  std::uint8_t u8() {
    if (!n) return 0;
    --n;
    return *p++;
  }
  std::uint16_t u16() { return static_cast<std::uint16_t>(u8() << 8 | u8()); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(u16()) << 16 | u16(); }
  std::vector<std::uint8_t> bytes(std::size_t want) {
    const std::size_t k = want < n ? want : n;
    std::vector<std::uint8_t> v(p, p + k);
    p += k;
    n -= k;
    return v;
  }
};

struct Harness {
  FakeClock clock;
  Engine engine{kMaxConnections, clock};
  const SnapshotSpec& a = spec_a();
  const SnapshotSpec& b = spec_b();
  bool on_b = false;
  MarkLayout marks = *MarkLayout::from_mask(0xffff0000);
  Decapsulator decap{{*IpAddress::parse("192.0.2.10"), *IpAddress::parse("2001:db8::10")}};

  Harness() { publish(); }
  void publish() {
    engine.publish(build_snapshot(on_b ? b : a, engine.published().get(), &clock));
    engine.begin_batch();
  }

  std::uint32_t mark(std::uint8_t sel, Reader& in) {
    static const std::uint32_t d[] = {kRs1, kRs2, kDr, kP1, kP2, 0x0fff0000};
    switch (sel % 8) {
      case 0: return 0;
      case 1: return 7;  // the fwmark service
      case 2: return marks.queue;
      case 3: return marks.queue | marks.direct | marks.pending | kDr;
      case 4: return marks.queue | marks.direct | kDr;
      case 5: return marks.queue | d[(sel >> 3) % 6];
      case 6: return in.u32();
      default: return 7 | marks.queue;
    }
  }

  void check(const PacketResult& r, const std::uint8_t* data, std::size_t len) {
    if (r.modified) {
      std::vector<std::uint8_t> again(data, data + len);
      PacketView v;
      FUZZ_CHECK(parse_packet(again.data(), again.size(), v) == ParseStatus::ok, "a rewritten packet does not parse");
    }
    if (r.transmit != Transmit::none) {
      FUZZ_CHECK(r.tx_data && r.tx_len > 0, "empty transmit");
      if (r.transmit == Transmit::frame)
        FUZZ_CHECK(r.tx_data >= data && r.tx_data + r.tx_len <= data + len, "a frame outside the packet");
      else
        FUZZ_CHECK(r.tx_len <= Engine::kTxBufSize, "transmit longer than the buffer");
      std::vector<std::uint8_t> tx(r.tx_data, r.tx_data + r.tx_len);
      PacketView v;
      const ParseStatus st = parse_packet(tx.data(), tx.size(), v);
      if (st == ParseStatus::unsupported_protocol && (v.l4proto == 4 || v.l4proto == 41)) {
        DecapResult d = tun_decapsulate(tx);  // TUN: the inner packet must come out whole
        FUZZ_CHECK(d.status == DecapStatus::ok, "a TUN packet that does not decapsulate: %s", to_string(d.status));
      } else {
        FUZZ_CHECK(st == ParseStatus::ok, "a transmitted packet does not parse: %s", to_string(st));
      }
      FUZZ_CHECK(v.v6() == r.tx_v6, "transmit family");
    }
    FUZZ_CHECK(engine.connection_count() <= kMaxConnections, "more connections than the table holds: %u",
               engine.connection_count());
  }

  void process(std::vector<std::uint8_t> pkt, ChecksumState cs, std::uint32_t m) {
    PacketResult r = engine.process(pkt.data(), pkt.size(), cs, m);
    check(r, pkt.data(), pkt.size());
  }

  void built_packet(Reader& in) {
    const std::uint8_t kind = in.u8();
    const bool v6 = kind & 1;
    const std::uint8_t ci = in.u8(), ti = in.u8();
    std::string client = v6 ? kClients6[ci % std::size(kClients6)] : kClients4[ci % std::size(kClients4)];
    const Target& t = v6 ? kTargets6[ti % std::size(kTargets6)] : kTargets4[ti % std::size(kTargets4)];
    std::uint16_t cport = static_cast<std::uint16_t>(40000 + (in.u8() % 8));
    test::PacketSpec spec;
    spec.from(client, cport).to(t.addr, t.port);
    if (kind & 2) spec.udp();
    spec.flags(in.u8());
    spec.data(std::string(in.u8() % 32, 'x'));
    if (kind & 4) {  // the reply direction
      std::swap(spec.src, spec.dst);
      std::swap(spec.sport, spec.dport);
    }
    std::vector<std::uint8_t> pkt = spec.build();
    ChecksumState cs = ChecksumState::complete;
    if (kind & 8) {
      test::make_checksum_partial(pkt);
      cs = ChecksumState::not_ready;
    }
    if (kind & 16) {  // an ICMP error quoting it, from a router or an end
      const std::string from = v6 ? "2001:db8:9::1" : "192.0.2.254";
      static const std::uint8_t types4[] = {3, 11, 12, 4, 0, 8};
      static const std::uint8_t types6[] = {1, 2, 3, 4, 128, 135};
      const std::uint8_t ty = v6 ? types6[in.u8() % 6] : types4[in.u8() % 6];
      const std::string to = (kind & 4) ? spec.dst : spec.src;
      pkt = test::icmp_error_packet(from, (kind & 32) ? t.addr : to, ty, in.u8() % 5, in.u16(),
                                    test::head(pkt, 8 + in.u8() % 64));
    }
    if (kind & 64) pkt.resize(pkt.size() - (in.u8() % (pkt.size() + 1)));  // cut short
    process(std::move(pkt), cs, mark(in.u8(), in));
  }

  void kernel_flow(Reader& in) {
    const std::uint8_t sel = in.u8();
    KernelFlow f;
    const bool v6 = sel & 1;
    f.l4proto = (sel & 2) ? IPPROTO_UDP : IPPROTO_TCP;
    f.client = *IpAddress::parse(v6 ? kClients6[in.u8() % std::size(kClients6)] : kClients4[in.u8() % std::size(kClients4)]);
    const Target& t = v6 ? kTargets6[in.u8() % std::size(kTargets6)] : kTargets4[in.u8() % std::size(kTargets4)];
    f.vip = *IpAddress::parse(t.addr);
    f.cport = static_cast<std::uint16_t>(40000 + (in.u8() % 8));
    f.vport = t.port;
    f.mark = mark(in.u8(), in) & ~marks.queue;
    f.state = ipvs_state(static_cast<ConntrackTcpState>(in.u8() % 10));
    if (sel & 4) f.state = static_cast<TcpState>(in.u8() % kTcpStateCount);
    f.expires_s = (sel & 8) ? in.u16() : 0;
    engine.kernel_flow(static_cast<KernelFlowEvent>((sel >> 4) % 3), f);
  }

  // ActiveConn + InActConn and PersistConn of every real server against
  // the entries of the table.
  void check_counters() {
    struct Count {
      std::uint64_t active = 0, inactive = 0, templates = 0;
    };
    std::map<const DestState*, Count> seen;
    std::uint32_t entries = 0;
    engine.connections().for_each([&](const ConnEntry& e) {
      ++entries;
      if (!e.dest) return;
      Count& c = seen[e.dest.get()];
      if (e.is_template()) ++c.templates;
      else if (e.flags & ConnEntry::kActive) ++c.active;
      else ++c.inactive;
    });
    FUZZ_CHECK(engine.connection_count() == entries, "connection count %u, table holds %u",
               engine.connection_count(), entries);
    for (const auto& s : engine.published()->services)
      for (const auto& d : s.dests) seen.try_emplace(d.state.get());
    for (const auto& [d, c] : seen) {
      FUZZ_CHECK(d->active_conns.get() == c.active, "ActiveConn %llu, entries %llu",
                 (unsigned long long)d->active_conns.get(), (unsigned long long)c.active);
      FUZZ_CHECK(d->inactive_conns.get() == c.inactive, "InActConn %llu, entries %llu",
                 (unsigned long long)d->inactive_conns.get(), (unsigned long long)c.inactive);
      FUZZ_CHECK(d->persistent_conns.get() == c.templates, "PersistConn %llu, templates %llu",
                 (unsigned long long)d->persistent_conns.get(), (unsigned long long)c.templates);
    }
  }

  void run(Reader in) {
    int ops = 0;
    while (!in.empty() && ops++ < 256) {
      switch (in.u8() % 12) {
        case 0: {  // raw bytes as a packet
          const std::uint8_t f = in.u8();
          const std::uint16_t len = in.u16() % 1600;
          std::vector<std::uint8_t> pkt = in.bytes(len);
          process(std::move(pkt), (f & 1) ? ChecksumState::not_ready : ChecksumState::complete, mark(f >> 1, in));
          break;
        }
        case 1:
        case 2:
        case 3: built_packet(in); break;
        case 4: clock.advance_ms(static_cast<std::uint64_t>(in.u8()) * in.u8() * 100); break;
        case 5: engine.begin_batch(); check_counters(); break;
        case 6: engine.expire_connections(); break;
        case 7: kernel_flow(in); break;
        case 8:
          if (in.u8() & 1) engine.kernel_resync_begin();
          else engine.kernel_resync_end();
          break;
        case 9: on_b = !on_b; publish(); break;
        case 10: {  // the real server's decapsulation
          std::vector<std::uint8_t> pkt = in.bytes(in.u16() % 1600);
          Decapsulator::Result r = decap.process(pkt.data(), pkt.size());
          if (r.accept) {
            FUZZ_CHECK(r.len <= pkt.size(), "decapsulated packet longer than the outer one");
            PacketView v;
            std::vector<std::uint8_t> inner(pkt.begin(), pkt.begin() + static_cast<long>(r.len));
            FUZZ_CHECK(parse_packet(inner.data(), inner.size(), v) != ParseStatus::truncated_ip,
                       "an accepted inner packet is truncated");
          }
          break;
        }
        default: clock.advance_s(in.u16()); break;
      }
    }
    engine.begin_batch();
    check_counters();
  }
};

}  // namespace
}  // namespace vsd

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vsd::Harness h;
  h.run(vsd::Reader{data, size});
  return 0;
}
