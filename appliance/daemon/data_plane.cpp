#include "appliance/daemon/data_plane.hpp"

#include <linux/netfilter.h>
#include <unistd.h>

#include <future>

namespace vsd {

namespace asio = boost::asio;

DataPlane::DataPlane(Engine& engine, std::vector<std::unique_ptr<nfq::QueueSocket>> queues,
                     nfq::Transmitter& tx)
    : engine_(engine), tx_(tx), queues_(std::move(queues)), timer_(io_) {
  for (auto& q : queues_)
    fds_.push_back(std::make_unique<asio::posix::stream_descriptor>(io_, ::dup(q->fd())));
}

DataPlane::~DataPlane() { stop(); }

void DataPlane::start() {
  for (std::size_t i = 0; i < queues_.size(); ++i) arm(i);
  arm_timer();
  thread_ = std::thread([this] { io_.run(); });
}

void DataPlane::stop() {
  if (!thread_.joinable()) return;
  io_.stop();
  thread_.join();
}

void DataPlane::arm(std::size_t i) {
  fds_[i]->async_wait(asio::posix::descriptor::wait_read, [this, i](boost::system::error_code ec) {
    if (ec) return;
    on_readable(i);
    arm(i);
  });
}

void DataPlane::on_readable(std::size_t i) {
  // Drain a bounded number of batches, then yield to the other queues.
  for (int round = 0; round < 16; ++round) {
    engine_.begin_batch();
    std::size_t n = queues_[i]->poll([this](nfq::QueuedPacket& p) {
      auto r = engine_.process(p.data, p.len,
                               p.checksum_not_ready ? ChecksumState::not_ready
                                                    : ChecksumState::complete,
                               p.mark);
      // Sent before the next packet: the engine reuses the bytes.
      if (r.transmit == Transmit::ip)
        tx_.send_ip(r.tx_data, r.tx_len, r.tx_dst, r.tx_v6);
      else if (r.transmit == Transmit::frame)
        tx_.send_frame(r.tx_ifindex, r.tx_mac, r.tx_v6, r.tx_data, r.tx_len, r.tx_dst);
      return nfq::Decision{r.verdict == Verdict::accept ? static_cast<std::uint32_t>(NF_ACCEPT)
                                                        : static_cast<std::uint32_t>(NF_DROP),
                           r.modified};
    });
    if (n == 0) break;
  }
}

void DataPlane::arm_timer() {
  timer_.expires_after(std::chrono::seconds(1));
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    engine_.begin_batch();  // also picks up a new snapshot while idle
    arm_timer();
  });
}

}  // namespace vsd
