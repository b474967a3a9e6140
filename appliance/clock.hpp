// Time for the data path comes from an injected clock, so timeouts and
// rates are tested without sleeping.
#pragma once

#include <chrono>
#include <cstdint>

namespace vsd {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::uint64_t now_ms() const = 0;  // monotonic milliseconds
  std::uint32_t now_s() const { return static_cast<std::uint32_t>(now_ms() / 1000); }
};

class SteadyClock final : public Clock {
 public:
  std::uint64_t now_ms() const override {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::steady_clock::now().time_since_epoch())
                                          .count());
  }
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::uint64_t start_ms = 1'000'000) : now_(start_ms) {}
  std::uint64_t now_ms() const override { return now_; }
  void advance_ms(std::uint64_t ms) { now_ += ms; }
  void advance_s(std::uint64_t s) { now_ += s * 1000; }

 private:
  std::uint64_t now_;
};

}  // namespace vsd
