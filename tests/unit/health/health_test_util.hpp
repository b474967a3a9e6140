// Bounded waits for the health tests: every test drives its own io_context
// until a condition holds or a deadline passes, never longer.
#pragma once

#include <chrono>
#include <memory>
#include <optional>

#include "appliance/asio.hpp"
#include "appliance/health/probe.hpp"

namespace vsd::health::testing {

template <class Predicate>
bool run_until(boost::asio::io_context& io, Predicate done,
               std::chrono::milliseconds limit = std::chrono::milliseconds(2000)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < end) {
    io.run_for(std::chrono::milliseconds(2));
    if (io.stopped()) io.restart();
  }
  return done();
}

inline void run_for(boost::asio::io_context& io, std::chrono::milliseconds d) {
  run_until(io, [] { return false; }, d);
}

// Runs one probe to its verdict; nullopt when it never reported (a bug).
inline std::optional<ProbeResult> run_probe(boost::asio::io_context& io, const std::shared_ptr<Probe>& probe,
                                            std::chrono::milliseconds timeout) {
  std::optional<ProbeResult> result;
  probe->start(timeout, [&](ProbeResult r) { result = std::move(r); });
  run_until(io, [&] { return result.has_value(); }, timeout + std::chrono::milliseconds(2000));
  return result;
}

}  // namespace vsd::health::testing
