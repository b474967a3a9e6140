// Runs a real server's `notify` command on each transition, keepalived's
// notify_up / notify_down in one: /bin/sh -c 'COMMAND "$@"' with the
// arguments SERVICE REAL up|down REASON appended, and the same in the
// environment (VSD_TARGET, VSD_SERVICE, VSD_REAL, VSD_STATE, VSD_REASON).
// One target's notifications run one after another, in order, so a script
// never sees "up" overtake "down"; different targets run side by side.
// A command still running after the timeout has its process group killed.
// At most kMaxWaiting notifications wait per target (a flapping check and
// a slow command must not grow memory without end): beyond that the oldest
// waiting one is dropped, logged once per burst; the newest, and so the
// target's last state, is always delivered.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "appliance/asio.hpp"
#include "appliance/health/check_config.hpp"

namespace vsd::health {

struct Notification {
  std::string command;
  std::string target, service, real;
  bool up = false;
  std::string reason;
  std::optional<RunAs> user = std::nullopt;  // who runs it; unset: vsd's own user
};

class Notifier {
 public:
  static constexpr std::size_t kMaxWaiting = 8;
  using Log = std::function<void(const std::string&)>;
  explicit Notifier(boost::asio::io_context& io, std::chrono::milliseconds timeout = std::chrono::seconds(30),
                    Log log = {});
  ~Notifier();  // queued notifications are dropped; running ones finish (or are killed at their timeout)
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  void notify(Notification n);
  void set_log(Log log);
  std::size_t queued() const;  // waiting or running

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace vsd::health
