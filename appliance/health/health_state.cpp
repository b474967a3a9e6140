#include "appliance/health/health_state.hpp"

#include <algorithm>

namespace vsd::health {

namespace {

std::string in_a_row(std::uint32_t n, const char* what) {
  return n == 1 ? std::string("check ") + what : std::to_string(n) + " consecutive checks " + what;
}

}  // namespace

HealthState::HealthState(const Clock& clock, std::uint32_t rise, std::uint32_t fall, bool alpha)
    : clock_(clock),
      rise_(std::max<std::uint32_t>(rise, 1)),
      fall_(std::max<std::uint32_t>(fall, 1)),
      up_(!alpha),
      awaiting_first_pass_(alpha),
      since_ms_(clock.now_ms()) {}

void HealthState::reconfigure(std::uint32_t rise, std::uint32_t fall) {
  rise_ = std::max<std::uint32_t>(rise, 1);
  fall_ = std::max<std::uint32_t>(fall, 1);
}

std::optional<Transition> HealthState::record(bool ok, std::string_view reason) {
  const std::uint64_t now = clock_.now_ms();
  ++checks_;
  last_check_ms_ = now;
  last_reason_ = reason;
  if (ok) {
    ++passes_;
    failures_ = 0;
  } else {
    ++failed_checks_;
    ++failures_;
    passes_ = 0;
  }

  std::optional<Transition> t;
  if (!up_ && ok && (awaiting_first_pass_ || passes_ >= rise_)) {
    t = Transition{true, awaiting_first_pass_ ? "first check passed (alpha): " + std::string(reason)
                                               : in_a_row(passes_, "passed") + ": " + std::string(reason)};
    up_ = true;
    recovered_ms_ = now;
  } else if (up_ && !ok && failures_ >= fall_) {
    t = Transition{false, in_a_row(failures_, "failed") + ": " + std::string(reason)};
    up_ = false;
    recovered_ms_.reset();
  }
  if (ok) awaiting_first_pass_ = false;
  if (t) since_ms_ = now;
  return t;
}

}  // namespace vsd::health
