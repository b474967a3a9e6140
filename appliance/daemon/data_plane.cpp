#include "appliance/daemon/data_plane.hpp"

#include <linux/netfilter.h>
#include <pthread.h>
#include <unistd.h>

#include <string>

namespace vsd {

namespace asio = boost::asio;

DataPlane::Lane::Lane(nfq::QueueSocket& q)
    : queue(q), fd(io, ::dup(q.fd())), timer(io) {}

DataPlane::DataPlane(Engine& engine, std::vector<std::unique_ptr<nfq::QueueSocket>> queues,
                     nfq::Transmitter& tx)
    : engine_(engine), tx_(tx), queues_(std::move(queues)) {
  for (auto& q : queues_) lanes_.push_back(std::make_unique<Lane>(*q));
}

DataPlane::~DataPlane() { stop(); }

void DataPlane::start() {
  for (auto& lane : lanes_) {
    arm(*lane);
    arm_timer(*lane);
    Lane* l = lane.get();
    lane->thread = std::thread([l] { l->io.run(); });
    // "vsd-queue-3" in top -H, ps -L and /proc/PID/task/*/comm.
    pthread_setname_np(lane->thread.native_handle(),
                       ("vsd-queue-" + std::to_string(lane->queue.queue_num())).substr(0, 15).c_str());
  }
}

std::uint64_t DataPlane::heartbeat(std::size_t i) const {
  return lanes_.at(i)->heartbeat.load(std::memory_order_relaxed);
}

void DataPlane::stop() {
  for (auto& lane : lanes_) {
    if (!lane->thread.joinable()) continue;
    lane->io.stop();
    lane->thread.join();
  }
}

void DataPlane::arm(Lane& lane) {
  lane.fd.async_wait(asio::posix::descriptor::wait_read, [this, &lane](boost::system::error_code ec) {
    if (ec) return;
    on_readable(lane);
    arm(lane);
  });
}

void DataPlane::on_readable(Lane& lane) {
  const std::span<std::uint8_t> tx_buf(lane.tx_buf.get(), Engine::kTxBufSize);
  // Drain a bounded number of batches, then yield to the timer.
  for (int round = 0; round < 16; ++round) {
    with_engine([this] {
      engine_.begin_batch();
      return 0;
    });
    std::size_t n = lane.queue.poll([&](nfq::QueuedPacket& p) {
      PacketResult r;
      {
        std::lock_guard lock(engine_mutex_);
        r = engine_.process(p.data, p.len,
                            p.checksum_not_ready ? ChecksumState::not_ready : ChecksumState::complete,
                            p.mark, tx_buf);
      }
      // Sent before this lane's next packet: the bytes are its own buffer
      // or the queued packet itself.
      if (r.transmit == Transmit::ip)
        tx_.send_ip(r.tx_data, r.tx_len, r.tx_dst, r.tx_v6);
      else if (r.transmit == Transmit::frame)
        tx_.send_frame(r.tx_ifindex, r.tx_mac, r.tx_v6, r.tx_data, r.tx_len, r.tx_dst);
      return nfq::Decision{r.verdict == Verdict::accept ? static_cast<std::uint32_t>(NF_ACCEPT)
                                                        : static_cast<std::uint32_t>(NF_DROP),
                           r.modified, r.mark};
    });
    if (n == 0) break;
  }
  lane.beat();
}

void DataPlane::arm_timer(Lane& lane) {
  lane.timer.expires_after(std::chrono::seconds(1));
  lane.timer.async_wait([this, &lane](boost::system::error_code ec) {
    if (ec) return;
    // Also picks up a new snapshot and expires connections while idle.
    with_engine([this] {
      engine_.begin_batch();
      return 0;
    });
    lane.beat();
    arm_timer(lane);
  });
}

}  // namespace vsd
