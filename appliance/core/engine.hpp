// The packet engine: for each queued packet decide (which real server) and
// rewrite (how the packet changes). Pure code: no syscalls, no heap
// allocation per packet; driven by the NFQUEUE adapter, tested with fakes.
//
// Verdicts (documented in README "Packet verdicts"):
//   malformed (truncated, bad IHL/length, IPv4/IPv6 fragment) -> drop
//   unsupported protocol                                       -> accept untouched
//   client -> VIP, known connection, NAT real server            -> NAT, accept
//   client -> VIP, known connection, TUN real server            -> drop; send it IP-in-IP
//     (too big with DF: send the client ICMP frag needed / packet too big instead)
//   client -> VIP, known connection, DR real server             -> drop; send it to the
//     real server's MAC (unknown MAC / no tunnel source yet: drop, counted no_route)
//   ICMP error about a connection, from the real server's side   -> NAT: translated, accept
//   ICMP error about a connection, from the client's side        -> to its real server, as
//     the connection's packets go (NAT rewritten, TUN encapsulated, DR to the MAC)
//   other ICMP                                                   -> accept untouched
//   real server -> client, known connection                     -> reverse NAT, accept
//   new TCP SYN or UDP datagram to a service                    -> schedule, NAT, accept
//     (persistent service: the client's template picks the server while it lives;
//      ops UDP service: scheduled per datagram, no entry kept)
//   real server -> client on an ops service, no entry          -> reverse NAT, accept
//   TCP non-SYN to a service without a connection               -> drop
//   no available real server (all quiesced)                     -> drop
//   connection table full                                       -> drop (+ rate-limited log);
//     with drop_entry the oldest embryonic entry is evicted instead (defence.hpp)
//   new flow of a service at its table_share, nothing to evict  -> drop
//   new flow picked by drop_packet (under pressure)             -> drop
//   packet from a real server's port without a connection       -> accept untouched
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <span>

#include "appliance/clock.hpp"
#include "appliance/core/conn_table.hpp"
#include "appliance/core/dest_state.hpp"
#include "appliance/core/kernel_flow.hpp"
#include "appliance/core/service_snapshot.hpp"
#include "appliance/core/sync_message.hpp"
#include "forwarders/nat_rewriter.hpp"
#include "forwarders/packet_view.hpp"

namespace vsd {

enum class Verdict : std::uint8_t { accept, drop };

// A packet vsd sends out itself (the queued one is then dropped): DR frames
// to a real server's MAC, TUN packets, and the ICMP errors vsd answers.
enum class Transmit : std::uint8_t {
  none,
  ip,     // a whole IP packet for the kernel to route (raw socket) toward tx_dst
  frame,  // an IP packet for interface tx_ifindex to the MAC tx_mac (packet socket)
};

struct PacketResult {
  PacketResult() = default;
  PacketResult(Verdict v, bool m) : verdict(v), modified(m) {}
  Verdict verdict = Verdict::accept;
  bool modified = false;  // the packet bytes changed: hand them back to the kernel
  std::uint32_t mark = 0;  // the packet's mark from now on (the queued one's unless decided)
  // The fast path's bits for the mark (decision, flags): the kernel
  // carries the flow from here; 0 = the mark stays as it came.
  std::uint32_t kernel_bits = 0;
  Transmit transmit = Transmit::none;
  // What to send, valid until the next process() call with the same
  // buffer: the queued packet's own bytes (frame) or the transmit buffer (ip).
  const std::uint8_t* tx_data = nullptr;
  std::size_t tx_len = 0;
  bool tx_v6 = false;
  IpAddress tx_dst;  // ip: where to; frame: the real server (for the logs)
  int tx_ifindex = 0;
  std::array<std::uint8_t, 6> tx_mac{};
};

struct EngineCounters {
  static constexpr std::size_t kParseStatuses = kParseStatusCount;
  Counter packets;
  std::array<Counter, kParseStatuses> malformed;  // by ParseStatus (ok unused)
  Counter unsupported;          // protocols vsd does not balance (accepted)
  Counter no_connection;        // TCP non-SYN to a VIP without an entry (dropped)
  Counter no_destination;       // service with no available real server (dropped)
  Counter table_full;           // new flow refused: max_connections reached (dropped)
  Counter key_collision;        // new flow whose reply key is taken (dropped)
  Counter reply_no_connection;  // from a real server port, no entry (accepted)
  Counter not_for_us;           // matched no service and no connection (accepted)
  Counter conns_created, conns_expired;
  Counter templates_created;    // persistence templates made
  Counter ops_datagrams;        // one-packet-scheduled datagrams
  Counter nodest_flushed;       // entries of removed real servers dropped (expire_nodest_conn)
  Counter tunneled;             // packets sent IP-in-IP to a real server (TUN)
  Counter direct_routed;        // packets sent to a real server's MAC (DR)
  Counter tun_too_big;          // TUN: too big with DF, answered with ICMP (dropped)
  Counter dr_too_big;           // DR: over the real server's route MTU (dropped; DF: ICMP answer)
  Counter tun_ttl_expired;      // TUN: inner TTL ran out, answered with ICMP (dropped)
  Counter tun_failed;           // TUN: not encapsulable (bad inner, MTU under the minimum)
  Counter no_route;             // TUN: no outer source yet / DR: MAC not resolved (dropped)
  Counter icmp_translated;      // ICMP errors about a connection, passed to its other side
  Counter icmp_passed;          // other ICMP (accepted untouched)
  Counter icmp_rate_limited;    // ICMP answers vsd did not build: over 1000/s (burst 50)
  Counter kernel_decided;       // packets answered with a decision for the kernel fast path
  Counter kernel_adopted;       // flows learnt from the kernel (restart, event loss, sync)
  Counter sloppy_adopted;       // sloppy_tcp: mid-stream TCP flows given a connection
  Counter sync_queued;          // pair master: entries queued for the backup
  Counter sync_overflow;        // pair master: entries the full outbox could not take
  Counter sync_applied;         // pair backup: entries taken from the master
  Counter sync_refused;         // pair backup: entries naming a service or server this node lacks
  // Flood defences (defence.hpp):
  Counter drop_entry;           // embryonic entries evicted (drop_entry)
  Counter drop_packet;          // new flows dropped by drop_packet (dropped)
  Counter share_full;           // new flow of a service at its table_share, nothing to evict (dropped)
  Counter secure_tcp_expired;   // embryonic entries that ended on secure_tcp's short timeout
};

class Engine {
 public:
  Engine(std::uint32_t max_connections, const Clock& clock);

  // Control plane: publish a new services snapshot (atomic swap).
  void publish(std::shared_ptr<const ServiceSnapshot> snapshot);
  std::shared_ptr<const ServiceSnapshot> published() const { return published_.load(); }

  // Data path. begin_batch() picks up the latest snapshot and runs expiry;
  // call it once per receive batch.
  void begin_batch();
  // `mark` is the packet's firewall mark (fwmark services), 0 = none.
  // `tx` is where a packet vsd sends itself is built (TUN, ICMP answers):
  // each data thread has its own, of kTxBufSize bytes; empty = the
  // engine's own (single-threaded callers, tests).
  PacketResult process(std::uint8_t* data, std::size_t len, ChecksumState cs,
                       std::uint32_t mark = 0, std::span<std::uint8_t> tx = {});
  static constexpr std::size_t kTxBufSize = 0x10000 + 64;
  // Runs the timer wheel (also called by a periodic timer when idle).
  std::size_t expire_connections();

  // The kernel fast path's flows, as the kernel reports them (conntrack
  // events, dumps, the DR/TUN flow tables): states follow, flows vsd does
  // not know (a restart, lost events, a peer's sync) are adopted with their
  // persistence template, and gone ones leave the table.
  void kernel_flow(KernelFlowEvent event, const KernelFlow& flow);
  // A full dump: begin, then the dump (the data path may go on meanwhile:
  // flows it decides count as seen), kernel_flow(seen) for every flow, end.
  // The end drops the NAT flows neither decided since nor dumped; returns
  // how many.
  void kernel_resync_begin();
  std::size_t kernel_resync_end();

  // A director pair's sync (engine_sync.cpp, sync_message.hpp). The
  // master queues every entry made or changed in a bounded outbox (no
  // allocation per packet) that the daemon takes; and walks the table in
  // slices to send it whole (the backup's refresh, a new backup's copy).
  // The backup enters what the master sends.
  void set_sync_master(bool on);
  std::size_t take_sync(std::span<SyncEntry> out);
  // Entries from index `cursor`, `count` indexes at most, appended to
  // `out`; returns the next cursor (0 when the walk wrapped). The same
  // cursor as the connection listing's (ConnTable::for_each_from).
  std::uint32_t sync_walk(std::uint32_t cursor, std::uint32_t count, std::vector<SyncEntry>& out);
  bool sync_apply(const SyncEntry& entry);  // false: refused (counted)

  const EngineCounters& counters() const { return counters_; }
  // The flood defences in force (updated by begin_batch()).
  const DefenceLevel& defence() const { return defence_; }
  const ConnTable& connections() const { return conns_; }
  std::uint32_t connection_count() const { return conn_count_.load(std::memory_order_relaxed); }

  // Called (rate-limited by the engine) when a new flow is refused because
  // the table is full; set by the daemon to log.
  std::function<void(std::uint64_t refused_since_last)> on_table_full;

 private:
  PacketResult from_client(ConnEntry& e, PacketView& pkt, ChecksumState cs, std::uint32_t now);
  PacketResult from_server(ConnEntry& e, PacketView& pkt, ChecksumState cs, std::uint32_t now);
  PacketResult new_flow(const ServiceView& svc, PacketView& pkt, ChecksumState cs,
                        std::uint32_t now, bool reused_port);
  // A connection entry to `d` (counters, template control, overload);
  // nullptr when the table is full or a key is taken (counted).
  ConnEntry* add_connection(const ServiceView& svc, const DestView& d, std::uint8_t proto,
                            const IpAddress& client,
                            std::uint16_t cport, const IpAddress& vip, std::uint16_t vport,
                            std::uint16_t dport, ConnEntry* tmpl, std::uint32_t now);
  // The fast path: follow the state of a flow the kernel carries and
  // answer with its decision.
  PacketResult kernel_carries(ConnEntry& e, const PacketView& pkt, std::uint32_t now);
  std::uint32_t kernel_bits(const ConnEntry& e) const;
  ConnEntry* adopt(const KernelFlow& f, std::uint32_t now);
  // A persistence template for the client (network) `caddr` of `svc`.
  ConnEntry* new_template(const ServiceView& svc, std::uint8_t proto, const IpAddress& caddr,
                          const IpAddress& vaddr, std::uint16_t vport, const DestView& d,
                          std::uint32_t now);
  // The real server whose decision mark `mark` carries, and its service.
  const DestView* kernel_dest(std::uint32_t mark, const ServiceView** svc) const;
  PacketResult ops_reply(const OpsReply& r, PacketView& pkt, ChecksumState cs);
  // The packet toward real server `rip` by its forwarding method: NAT
  // rewrites the destination, TUN encapsulates, DR sends it to the MAC.
  PacketResult to_real_server(ForwardMethod fwd, const DestState* dest, const IpAddress& rip,
                              std::uint16_t rport, PacketView& pkt, ChecksumState cs);
  PacketResult tunnel(const DestEgress& eg, const IpAddress& rip, PacketView& pkt,
                      ChecksumState cs);
  PacketResult direct_route(const DestEgress& eg, const IpAddress& rip, PacketView& pkt, ChecksumState cs);
  PacketResult classify(std::uint8_t* data, std::size_t len, ChecksumState cs, std::uint32_t mark);
  PacketResult icmp(PacketView& pkt);
  PacketResult send_ip(std::size_t len, const IpAddress& dst, bool v6);
  // The real server for a new connection of a persistent service: the one
  // the client's template names, else a scheduled one with a new template.
  const DestView* persistent_dest(const ServiceView& svc, const PacketView& pkt,
                                  std::uint32_t now, bool reused_port, ConnEntry** tmpl);
  void set_state(ConnEntry& e, TcpState s, std::uint32_t now);
  void forget(ConnEntry& e);  // connection counters down, before removal
  void remove(ConnEntry& e);  // forget, erase, and the count follows
  // --- flood defences (defence.hpp) ---
  // Room for one more entry of `svc`: its table_share and the table, by
  // evicting embryonic entries under drop_entry; false (counted, logged)
  // when there is none. `keep`: a template the new entry will use.
  bool make_room(const ServiceView& svc, const ConnEntry* keep, std::uint32_t now, bool count_refusal = true);
  // Evicts the oldest embryonic entry of `st` (idle at least `min_idle`
  // seconds), and its template when it controlled nothing else.
  bool evict_embryonic(ServiceState& st, const ConnEntry* keep, std::uint32_t now,
                       std::uint32_t min_idle = 0);
  // The service of the snapshot with the most embryonic entries, or null.
  ServiceState* most_embryonic() const;
  void embryo_link(ConnEntry& e);
  void embryo_unlink(ConnEntry& e);  // and no longer embryonic
  bool drop_new_flow();              // drop_packet's pick
  void defend(std::uint32_t now);    // level, sweep, log: from begin_batch()
  void report_defence(std::uint32_t now);  // the log line when the level changed (10 s apart)
  void log_defence(const std::string& line, bool warning) const;
  void adopt_snapshot(std::shared_ptr<const ServiceSnapshot> latest);
  void follow_published();  // adopt the latest published snapshot, if new
  void flush_removed_dests();
  void refused_table_full(std::uint32_t now);
  void sync_note(const ConnEntry& e, std::uint32_t now);  // the master's outbox
  void sync_gone(const ConnEntry& e);                     // an ended entry, for the backup
  SyncEntry sync_entry_of(const ConnEntry& e, std::uint32_t now) const;

  const Clock& clock_;
  ConnTable conns_;
  std::atomic<std::shared_ptr<const ServiceSnapshot>> published_;
  std::shared_ptr<const ServiceSnapshot> current_;  // the data path's copy
  EngineCounters counters_;
  std::atomic<std::uint32_t> conn_count_{0};
  // Where TUN packets and ICMP answers are built: the caller's buffer for
  // this process() call, or tx_buf_.
  std::unique_ptr<std::uint8_t[]> tx_buf_;
  std::span<std::uint8_t> tx_;
  std::uint16_t ip_id_ = 0;
  // The ICMP answers vsd builds itself (TUN/DR too big, TTL), rate-limited
  // as the kernel's icmp_msgs_per_sec / icmp_msgs_burst (1000/s, 50): a
  // flood of oversized packets must not turn vsd into an ICMP amplifier.
  std::uint64_t icmp_due_ms_ = 0;  // when the bucket is empty again (GCRA)
  bool icmp_answer_allowed();
  std::uint32_t last_full_log_ = 0;
  std::uint64_t full_since_log_ = 0;
  // The pair master's outbox: a ring, allocated when the master starts.
  bool sync_master_ = false;
  std::vector<SyncEntry> sync_ring_;
  std::size_t sync_head_ = 0, sync_size_ = 0;
  // Flood defences.
  DefenceLevel defence_;
  std::int64_t drop_counter_ = 0;  // drop_packet: new flows left before the next drop
  bool defence_ticked_ = false;
  std::uint32_t defence_tick_ = 0;   // the clock second of the last sweep
  DefenceLevel defence_logged_;      // what the last defence line said
  std::uint32_t defence_log_at_ = 0;
  std::uint64_t evicted_at_log_ = 0, dropped_at_log_ = 0;
  std::uint32_t share_log_at_ = 0;
  std::uint64_t share_refused_since_log_ = 0;
};

}  // namespace vsd
