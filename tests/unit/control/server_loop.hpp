// The control server's io_context on its own thread, for the tests that
// talk to it over a real socket; stopped and joined at the end.
#pragma once

#include <thread>

#include "appliance/asio.hpp"

namespace vsd::test {

struct Loop {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard{io.get_executor()};
  std::thread thread;
  void start() {
    thread = std::thread([this] { io.run(); });
  }
  ~Loop() {
    guard.reset();
    io.stop();
    if (thread.joinable()) thread.join();
  }
};

}  // namespace vsd::test
