#include "appliance/health/notifier.hpp"

#include <deque>
#include <map>

#include "appliance/health/child_process.hpp"

namespace vsd::health {

struct Notifier::State : std::enable_shared_from_this<Notifier::State> {
  State(boost::asio::io_context& io, std::chrono::milliseconds timeout, Log log)
      : io(io), timeout(timeout), log(std::move(log)) {}

  boost::asio::io_context& io;
  std::chrono::milliseconds timeout;
  Log log;
  // Per target: the running notification first, then those waiting.
  std::map<std::string, std::deque<Notification>> queues;
  std::map<std::string, std::size_t> dropped;  // per target, since its queue last emptied

  void warn(const std::string& message) {
    if (log) log(message);
  }

  void run_front(const std::string& target) {
    auto it = queues.find(target);
    if (it == queues.end() || it->second.empty()) return;
    const Notification& n = it->second.front();
    const char* state = n.up ? "up" : "down";
    std::string error;
    auto child = ChildProcess::shell(io, n.command + " \"$@\"", {"vsd-notify", n.service, n.real, state, n.reason},
                                     {{"VSD_TARGET", n.target},
                                      {"VSD_SERVICE", n.service},
                                      {"VSD_REAL", n.real},
                                      {"VSD_STATE", state},
                                      {"VSD_REASON", n.reason}},
                                     &error, n.user);
    if (!child) {
      warn("notify for " + target + ": " + error);
      return done(target);
    }
    auto timer = std::make_shared<boost::asio::steady_timer>(io, timeout);
    timer->async_wait([weak_child = std::weak_ptr<ChildProcess>(child)](const boost::system::error_code& ec) {
      if (ec) return;
      if (auto c = weak_child.lock()) c->kill_group();
    });
    child->async_wait([weak = weak_from_this(), target, timer, command = n.command](ExitStatus status) {
      timer->cancel();
      auto self = weak.lock();
      if (!self) return;
      if (!(status.exited && status.code == 0))
        self->warn("notify command \"" + command + "\" for " + target + ": " + status.describe());
      self->done(target);
    });
  }

  void done(const std::string& target) {
    auto it = queues.find(target);
    if (it == queues.end()) return;
    it->second.pop_front();
    if (it->second.empty()) {
      queues.erase(it);
      dropped.erase(target);
    }
    else
      run_front(target);
  }
};

Notifier::Notifier(boost::asio::io_context& io, std::chrono::milliseconds timeout, Log log)
    : state_(std::make_shared<State>(io, timeout, std::move(log))) {}

Notifier::~Notifier() = default;

void Notifier::set_log(Log log) { state_->log = std::move(log); }

void Notifier::notify(Notification n) {
  if (n.command.empty()) return;
  auto& q = state_->queues[n.target];
  std::string target = n.target;
  // q.front() runs; the rest wait. Drop the oldest waiting one when full.
  if (q.size() > kMaxWaiting) {
    q.erase(q.begin() + 1);
    if (state_->dropped[target]++ == 0)
      state_->warn("notify for " + target + ": the command is slower than the transitions; " +
                   "older notifications are dropped, the latest state still runs");
  }
  q.push_back(std::move(n));
  if (q.size() == 1) state_->run_front(target);
}

std::size_t Notifier::queued() const {
  std::size_t n = 0;
  for (const auto& [target, q] : state_->queues) n += q.size();
  return n;
}

}  // namespace vsd::health
