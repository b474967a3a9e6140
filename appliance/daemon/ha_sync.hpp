// The daemon's half of a director pair's sync (README "A director pair";
// the engine's half is core/engine_sync.cpp, the datagrams
// core/sync_message.hpp): a UDP socket on this director's address on the
// link between the two, and the two roles of IPVS's sync daemon, which
// keepalived's notify switches (vsadm --start-daemon master|backup):
//  - master: every 100 ms the entries the engine queued go to the peer, and
//    a slice of the whole table, so that the backup's copies are refreshed
//    (the whole table every 10 s) and a backup that just started gets
//    everything (it says hello: an empty datagram; the master then walks
//    the table in one second);
//  - backup: datagrams from the peer's address and port, of this pair's
//    sync id, are entered in the engine; anything else is counted and
//    dropped.
// Every datagram carries the sender's decision fingerprint
// (DecisionNumbers::fingerprint); a receiver whose own differs logs an
// error once: the pair's NAT flows would change real servers on takeover.
// Runs on the control thread; reaches the engine through `with_engine`.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "appliance/asio.hpp"
#include "appliance/core/engine.hpp"
#include "appliance/core/sync_message.hpp"

namespace vsd {

struct HaSyncStats {
  std::uint64_t sent_entries = 0, sent_datagrams = 0, send_errors = 0;
  std::uint64_t received_entries = 0, received_datagrams = 0, refused_entries = 0;
  std::uint64_t foreign_datagrams = 0;  // not from the peer, another sync id, or not one
  std::uint64_t full_copies = 0;        // backups' hellos answered
  std::uint64_t decision_mismatches = 0;  // datagrams whose decision fingerprint is not ours
};

class HaSync {
 public:
  using EngineAccess = std::function<void(const std::function<void(Engine&)>&)>;
  // This director's decision fingerprint now (0: none).
  using Fingerprint = std::function<std::uint64_t()>;

  // Binds self:port now; throws std::system_error naming the address.
  HaSync(boost::asio::io_context& io, EngineAccess with_engine, const IpAddress& self,
         const IpAddress& peer, std::uint16_t port, std::uint8_t sync_id, Fingerprint fingerprint = nullptr);
  ~HaSync();

  void start_master();
  void stop_master();
  void start_backup();  // also says hello to the peer
  void stop_backup();
  bool master() const { return master_; }
  bool backup() const { return backup_; }
  const HaSyncStats& stats() const { return stats_; }
  const IpAddress& peer() const { return peer_addr_; }
  std::uint8_t sync_id() const { return sync_id_; }

 private:
  void arm_tick();
  void tick();
  void arm_receive();
  void on_datagram(std::size_t n);
  void send(std::span<const SyncEntry> entries);
  void check_fingerprint(std::uint64_t theirs);

  boost::asio::io_context& io_;
  EngineAccess with_engine_;
  Fingerprint fingerprint_;
  std::uint64_t decisions_ = 0;  // ours, as sent (refreshed every tick and hello)
  std::uint64_t mismatch_ = 0;   // the peer's fingerprint last logged as differing; 0: they agree
  IpAddress peer_addr_;
  boost::asio::ip::udp::endpoint peer_;
  std::uint8_t sync_id_;
  boost::asio::ip::udp::socket socket_;
  boost::asio::steady_timer timer_{io_};
  boost::asio::ip::udp::endpoint from_;
  std::vector<std::uint8_t> rx_, tx_;
  std::vector<SyncEntry> batch_;
  std::vector<SyncEntry> outbox_;  // what take_sync hands over each tick, allocated once
  bool master_ = false, backup_ = false, ticking_ = false;
  std::uint32_t cursor_ = 0;
  int full_copy_ticks_ = 0;  // >0: walking the table fast for a new backup
  HaSyncStats stats_;
};

}  // namespace vsd
