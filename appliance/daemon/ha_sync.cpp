#include "appliance/daemon/ha_sync.hpp"

#include <spdlog/spdlog.h>

#include <system_error>

namespace vsd {

namespace {

constexpr auto kTick = std::chrono::milliseconds(100);
constexpr std::uint32_t kRefreshTicks = 100;  // the whole table every 10 s
constexpr int kFullCopyTicks = 10;            // ... and in 1 s for a new backup
constexpr std::uint32_t kStep = 4096;         // entries walked per engine lock

boost::asio::ip::address asio_address(const IpAddress& a) {
  if (a.is_v4()) {
    boost::asio::ip::address_v4::bytes_type b;
    std::copy(a.v4_bytes(), a.v4_bytes() + 4, b.begin());
    return boost::asio::ip::address_v4(b);
  }
  boost::asio::ip::address_v6::bytes_type b;
  std::copy(a.bytes.begin(), a.bytes.end(), b.begin());
  return boost::asio::ip::address_v6(b);
}

}  // namespace

HaSync::HaSync(boost::asio::io_context& io, EngineAccess with_engine, const IpAddress& self,
               const IpAddress& peer, std::uint16_t port, std::uint8_t sync_id, Fingerprint fingerprint)
    : io_(io),
      with_engine_(std::move(with_engine)),
      fingerprint_(std::move(fingerprint)),
      peer_addr_(peer),
      peer_(asio_address(peer), port),
      sync_id_(sync_id),
      socket_(io),
      rx_(65536),
      tx_(kSyncHeaderSize + kSyncMaxEntries * kSyncEntrySize),
      outbox_(kSyncMaxEntries * 64) {
  const boost::asio::ip::udp::endpoint local(asio_address(self), port);
  boost::system::error_code ec;
  socket_.open(local.protocol(), ec);
  if (!ec) socket_.set_option(boost::asio::socket_base::reuse_address(true), ec);
  if (!ec) socket_.bind(local, ec);
  if (ec)
    throw std::system_error(ec.value(), std::generic_category(),
                            "cannot bind the pair's sync socket to " + self.to_string() + " port " +
                                std::to_string(port) + " (is [ha] directors right for this node?)");
  arm_receive();
}

HaSync::~HaSync() {
  boost::system::error_code ec;
  timer_.cancel();
  socket_.close(ec);
}

void HaSync::start_master() {
  if (master_) return;
  master_ = true;
  with_engine_([](Engine& e) { e.set_sync_master(true); });
  cursor_ = 0;
  if (!ticking_) arm_tick();
}

void HaSync::stop_master() {
  if (!master_) return;
  master_ = false;
  with_engine_([](Engine& e) { e.set_sync_master(false); });
}

void HaSync::start_backup() {
  backup_ = true;
  if (fingerprint_) decisions_ = fingerprint_();
  send({});  // hello: the master sends its whole table
}

void HaSync::stop_backup() { backup_ = false; }

void HaSync::arm_tick() {
  ticking_ = true;
  timer_.expires_after(kTick);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    if (!master_) {
      ticking_ = false;
      return;
    }
    tick();
    arm_tick();
  });
}

void HaSync::tick() {
  if (fingerprint_) decisions_ = fingerprint_();
  // What changed, then a slice of the whole table: one engine lock each.
  std::size_t n = 0;
  with_engine_([&](Engine& e) { n = e.take_sync(outbox_); });
  for (std::size_t i = 0; i < n; i += kSyncMaxEntries)
    send({outbox_.data() + i, std::min(kSyncMaxEntries, n - i)});
  // This tick's slice of the table, in steps of at most kStep entries per
  // engine lock (the data path waits while it is held), into a buffer
  // reserved once (no allocation under the lock).
  std::uint32_t cap = 0;
  with_engine_([&](Engine& e) { cap = e.connections().capacity(); });
  std::uint32_t left =
      std::max<std::uint32_t>(1, full_copy_ticks_ > 0 ? cap / kFullCopyTicks + 1 : cap / kRefreshTicks + 1);
  if (full_copy_ticks_ > 0) --full_copy_ticks_;
  batch_.reserve(kStep);
  while (left > 0) {
    const std::uint32_t step = std::min(left, kStep);
    batch_.clear();
    with_engine_([&](Engine& e) { cursor_ = e.sync_walk(cursor_, step, batch_); });
    left -= step;
    for (std::size_t i = 0; i < batch_.size(); i += kSyncMaxEntries)
      send({batch_.data() + i, std::min(kSyncMaxEntries, batch_.size() - i)});
  }
}

void HaSync::send(std::span<const SyncEntry> entries) {
  const std::size_t len = encode_sync(tx_, sync_id_, entries, decisions_);
  boost::system::error_code ec;
  socket_.send_to(boost::asio::buffer(tx_.data(), len), peer_, 0, ec);
  if (ec) {
    if (stats_.send_errors++ == 0)
      spdlog::warn("HA sync: cannot send to the peer {}: {}; the backup's copy ages until it works "
                   "(check the link between the directors)",
                   peer_addr_.to_string(), ec.message());
    return;
  }
  ++stats_.sent_datagrams;
  stats_.sent_entries += entries.size();
}

void HaSync::check_fingerprint(std::uint64_t theirs) {
  if (!theirs || !fingerprint_) return;
  const std::uint64_t ours = fingerprint_();
  if (theirs == ours) {
    if (mismatch_)
      spdlog::info("HA sync: the peer {} now numbers its (service, real server) pairs as this director does",
                   peer_addr_.to_string());
    mismatch_ = 0;
    return;
  }
  ++stats_.decision_mismatches;
  if (theirs == mismatch_) return;
  mismatch_ = theirs;
  spdlog::error("HA sync: the peer {} numbers its (service, real server) pairs differently (decision "
                "fingerprint {:016x}, here {:016x}): NAT flows carry those numbers in their conntrack "
                "marks, so a takeover would send them to other real servers. Give both directors the "
                "same configuration and reload both; changes made with vsadm on one director alone, "
                "or a pair that was edited apart, cause this (restarting both with the same file and "
                "no state file beside the control socket, e.g. /run/vsd/vsd.decisions, renumbers them alike)",
                peer_addr_.to_string(), theirs, ours);
}

void HaSync::arm_receive() {
  socket_.async_receive_from(boost::asio::buffer(rx_), from_,
                             [this](boost::system::error_code ec, std::size_t n) {
                               if (ec == boost::asio::error::operation_aborted) return;
                               if (!ec) on_datagram(n);
                               arm_receive();
                             });
}

void HaSync::on_datagram(std::size_t n) {
  auto d = decode_sync({rx_.data(), n});
  const bool from_peer = from_.address() == peer_.address() && from_.port() == peer_.port();
  if (!from_peer || !d.ok || d.sync_id != sync_id_) {
    if (stats_.foreign_datagrams++ == 0)
      spdlog::warn("HA sync: dropped a datagram from {}:{} ({}); only the peer {} with sync id {} "
                   "is heard; further ones are counted",
                   from_.address().to_string(), from_.port(),
                   !from_peer ? "not the peer" : !d.ok ? d.error : "sync id " + std::to_string(d.sync_id),
                   peer_addr_.to_string(), sync_id_);
    return;
  }
  ++stats_.received_datagrams;
  check_fingerprint(d.decisions);
  if (d.entries.empty()) {  // a backup's hello
    if (master_) {
      ++stats_.full_copies;
      full_copy_ticks_ = kFullCopyTicks;
      cursor_ = 0;
      spdlog::info("HA sync: the backup {} asked for the whole table; sending it", peer_addr_.to_string());
    }
    return;
  }
  if (!backup_) return;
  std::uint64_t refused = 0;
  with_engine_([&](Engine& e) {
    for (const auto& s : d.entries)
      if (!e.sync_apply(s)) ++refused;
  });
  stats_.received_entries += d.entries.size();
  if (refused && stats_.refused_entries == 0)
    spdlog::warn("HA sync: the master sent {} entr(ies) for services or real servers this director "
                 "does not have; are both directors' configurations the same?",
                 refused);
  stats_.refused_entries += refused;
}

}  // namespace vsd
