// The data path's threads: one per NFQUEUE socket (`[director] queues`),
// each with its own io_context, receive buffers and transmit buffer, all
// sharing one engine. The kernel spreads flows over the queues; the engine
// (connection table, schedulers, counters) is one, so both directions of a
// flow meet one entry whichever queue the kernel hashed them to, and every
// scheduler sees every connection. It is guarded by one mutex, taken per
// packet for the decision only: receiving, verdicts and sends run in
// parallel. With the kernel fast path only a flow's first packet comes up,
// so the mutex is taken per new connection.
#pragma once

#include "appliance/asio.hpp"
#include <atomic>
#include <future>
#include <memory>
#include <mutex>
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
  void stop();  // joins the threads

  // Runs fn with the engine to itself (listings that read the connection
  // table, zeroing counters), on the calling thread.
  template <class Fn>
  auto with_engine(Fn&& fn) -> decltype(fn()) {
    std::lock_guard lock(engine_mutex_);
    return fn();
  }
  // Runs fn on queue i's own thread and waits for it (socket settings that
  // must not race that thread's receives).
  template <class Fn>
  auto run_on_queue_thread(std::size_t i, Fn&& fn) -> decltype(fn());

  const std::vector<std::unique_ptr<nfq::QueueSocket>>& queues() const { return queues_; }
  // Queue i's thread's heartbeat: bumped after every wakeup (a batch, or
  // the 1 s timer when idle); a counter that stops moving is a wedged
  // thread (watchdog.hpp).
  std::uint64_t heartbeat(std::size_t i) const;

 private:
  struct Lane;  // one queue and its thread
  void arm(Lane& lane);
  void on_readable(Lane& lane);
  void arm_timer(Lane& lane);

  Engine& engine_;
  std::mutex engine_mutex_;
  nfq::Transmitter& tx_;
  std::vector<std::unique_ptr<nfq::QueueSocket>> queues_;
  std::vector<std::unique_ptr<Lane>> lanes_;
};

struct DataPlane::Lane {
  Lane(nfq::QueueSocket& q);
  nfq::QueueSocket& queue;
  boost::asio::io_context io;
  boost::asio::posix::stream_descriptor fd;
  boost::asio::steady_timer timer;
  std::unique_ptr<std::uint8_t[]> tx_buf{new std::uint8_t[Engine::kTxBufSize]};
  std::thread thread;
  // Written by this lane's thread only: a relaxed load and store, no
  // read-modify-write, no syscall.
  std::atomic<std::uint64_t> heartbeat{0};
  void beat() { heartbeat.store(heartbeat.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }
};

template <class Fn>
auto DataPlane::run_on_queue_thread(std::size_t i, Fn&& fn) -> decltype(fn()) {
  std::packaged_task<decltype(fn())()> task(std::forward<Fn>(fn));
  auto fut = task.get_future();
  boost::asio::post(lanes_.at(i)->io, [&task] { task(); });
  return fut.get();
}

}  // namespace vsd
