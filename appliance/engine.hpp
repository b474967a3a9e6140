// The packet engine: for each queued packet decide (which real server) and
// rewrite (how the packet changes). Pure code: no syscalls, no heap
// allocation per packet; driven by the NFQUEUE adapter, tested with fakes.
//
// Verdicts (documented in README "Packet verdicts"):
//   malformed (truncated, bad IHL/length, IPv4/IPv6 fragment) -> drop
//   unsupported protocol / ICMP                                -> accept untouched
//   client -> VIP, known connection                             -> NAT, accept
//   real server -> client, known connection                     -> reverse NAT, accept
//   new TCP SYN or UDP datagram to a service                    -> schedule, NAT, accept
//     (persistent service: the client's template picks the server while it lives;
//      ops UDP service: scheduled per datagram, no entry kept)
//   real server -> client on an ops service, no entry          -> reverse NAT, accept
//   TCP non-SYN to a service without a connection               -> drop
//   no available real server (all quiesced)                     -> drop
//   connection table full                                       -> drop (+ rate-limited log)
//   packet from a real server's port without a connection       -> accept untouched
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <memory>

#include "appliance/clock.hpp"
#include "appliance/conn_table.hpp"
#include "appliance/dest_state.hpp"
#include "appliance/service_table.hpp"
#include "forwarders/nat_rewriter.hpp"
#include "forwarders/packet_view.hpp"

namespace vsd {

enum class Verdict : std::uint8_t { accept, drop };

struct PacketResult {
  Verdict verdict = Verdict::accept;
  bool modified = false;  // the packet bytes changed: hand them back to the kernel
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
  PacketResult process(std::uint8_t* data, std::size_t len, ChecksumState cs,
                       std::uint32_t mark = 0);
  // Runs the timer wheel (also called by a periodic timer when idle).
  std::size_t expire_connections();

  const EngineCounters& counters() const { return counters_; }
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
  PacketResult ops_reply(const OpsReply& r, PacketView& pkt, ChecksumState cs);
  // The real server for a new connection of a persistent service: the one
  // the client's template names, else a scheduled one with a new template.
  const DestView* persistent_dest(const ServiceView& svc, const PacketView& pkt,
                                  std::uint32_t now, bool reused_port, ConnEntry** tmpl);
  void set_state(ConnEntry& e, TcpState s, std::uint32_t now);
  void forget(ConnEntry& e);  // connection counters down, before removal
  void adopt_snapshot(std::shared_ptr<const ServiceSnapshot> latest);
  void flush_removed_dests();
  void refused_table_full(std::uint32_t now);

  const Clock& clock_;
  ConnTable conns_;
  std::atomic<std::shared_ptr<const ServiceSnapshot>> published_;
  std::shared_ptr<const ServiceSnapshot> current_;  // data-path thread's copy
  EngineCounters counters_;
  std::atomic<std::uint32_t> conn_count_{0};
  std::uint32_t last_full_log_ = 0;
  std::uint64_t full_since_log_ = 0;
};

}  // namespace vsd
