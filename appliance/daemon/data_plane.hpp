// The data path's thread: one io_context that waits on every NFQUEUE
// socket, hands each receive batch to the engine and flushes the verdicts.
// All queues share this thread and therefore one connection table, so both
// directions of a NAT flow meet the same entry whichever queue the kernel's
// hash picked for them.
#pragma once

#include "appliance/asio.hpp"
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "appliance/core/engine.hpp"
#include "nfq/queue_socket.hpp"
#include "nfq/transmitter.hpp"

namespace vsd {

class DataPlane {
 public:
  // `tx` sends what the engine forwards itself (DR, TUN, ICMP answers).
  DataPlane(Engine& engine, std::vector<std::unique_ptr<nfq::QueueSocket>> queues,
            nfq::Transmitter& tx);
  ~DataPlane();

  void start();
  void stop();  // joins the thread

  // Runs fn on the data-path thread and waits for it (for listings that
  // read the connection table).
  template <class Fn>
  auto run_on_data_thread(Fn&& fn) -> decltype(fn());

  const std::vector<std::unique_ptr<nfq::QueueSocket>>& queues() const { return queues_; }

 private:
  void arm(std::size_t i);
  void on_readable(std::size_t i);
  void arm_timer();

  Engine& engine_;
  nfq::Transmitter& tx_;
  std::vector<std::unique_ptr<nfq::QueueSocket>> queues_;
  boost::asio::io_context io_;
  std::vector<std::unique_ptr<boost::asio::posix::stream_descriptor>> fds_;
  boost::asio::steady_timer timer_;
  std::thread thread_;
};

template <class Fn>
auto DataPlane::run_on_data_thread(Fn&& fn) -> decltype(fn()) {
  std::packaged_task<decltype(fn())()> task(std::forward<Fn>(fn));
  auto fut = task.get_future();
  boost::asio::post(io_, [&task] { task(); });
  return fut.get();
}

}  // namespace vsd
