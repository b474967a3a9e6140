// The up/down decision for one real server, apart from any I/O: results go
// in, transitions come out, time comes from an injected clock. Semantics:
//  - without alpha the server starts up (keepalived's default) and goes down
//    after `fall` consecutive failures;
//  - with alpha it starts down and the first passing check brings it up
//    (keepalived's alpha); after that, `rise` consecutive passes are needed;
//  - a down server comes up after `rise` consecutive passes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "appliance/clock.hpp"

namespace vsd::health {

struct Transition {
  bool up = false;
  std::string reason;
};

class HealthState {
 public:
  HealthState(const Clock& clock, std::uint32_t rise, std::uint32_t fall, bool alpha);

  // Records one check result; returns the transition it causes, if any.
  std::optional<Transition> record(bool ok, std::string_view reason);

  // New rise/fall after a reload; the current state and counters stay.
  void reconfigure(std::uint32_t rise, std::uint32_t fall);

  bool up() const { return up_; }
  bool has_run() const { return checks_ > 0; }
  std::uint64_t since_ms() const { return since_ms_; }  // last transition (or creation)
  // When the last down -> up transition happened; unset while down and when
  // the server has been up since it was added (slow start only follows a recovery).
  std::optional<std::uint64_t> recovered_ms() const { return recovered_ms_; }
  std::uint32_t consecutive_passes() const { return passes_; }
  std::uint32_t consecutive_failures() const { return failures_; }
  std::uint64_t checks() const { return checks_; }
  std::uint64_t failed_checks() const { return failed_checks_; }
  std::optional<std::uint64_t> last_check_ms() const { return last_check_ms_; }
  const std::string& last_reason() const { return last_reason_; }

 private:
  const Clock& clock_;
  std::uint32_t rise_, fall_;
  bool up_;
  bool awaiting_first_pass_;  // alpha: down until the first pass
  std::uint32_t passes_ = 0, failures_ = 0;
  std::uint64_t checks_ = 0, failed_checks_ = 0;
  std::uint64_t since_ms_;
  std::optional<std::uint64_t> recovered_ms_;
  std::optional<std::uint64_t> last_check_ms_;
  std::string last_reason_;
};

}  // namespace vsd::health
