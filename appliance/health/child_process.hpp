// A child process watched by the io_context: spawned in its own process
// group (so a timeout kills the whole group, grandchildren included), waited
// for through a pidfd (or, on kernels without pidfd_open, by polling
// waitpid), and always reaped. No thread, no SIGCHLD handler.
#pragma once

#include <sys/types.h>

#include <csignal>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "appliance/asio.hpp"
#include "appliance/health/check_config.hpp"

namespace vsd::health {

// A user and group as the kernel knows them: what RunAs names, looked up.
struct Credentials {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups (the user's, from /etc/group)
};
// nullopt with `error` set when the user or group does not exist.
std::optional<Credentials> resolve(const RunAs& as, std::string* error);

struct ExitStatus {
  bool exited = false;  // normal exit with `code`
  int code = 0;
  int signal = 0;       // killed by this signal
  bool unknown = false; // reaped by someone else (SIGCHLD ignored)
  std::string describe() const;  // "exit code 1", "killed by signal 9 (Killed)"
};

class ChildProcess : public std::enable_shared_from_this<ChildProcess> {
 public:
  using Env = std::vector<std::pair<std::string, std::string>>;

  // Runs argv (argv[0] is the program path) with the daemon's environment
  // plus `env`; stdin, stdout and stderr are /dev/null, other descriptors
  // are closed, the signal mask and dispositions are reset. With `as`, the
  // child takes that user's uid, gid (the group's when given) and
  // supplementary groups before it execs (vsd must be root for that).
  // nullptr with `error` set when it cannot start.
  static std::shared_ptr<ChildProcess> spawn(boost::asio::io_context& io, const std::vector<std::string>& argv,
                                             const Env& env, std::string* error,
                                             const std::optional<RunAs>& as = std::nullopt);

  // Convenience: /bin/sh -c script [arg0 args...].
  static std::shared_ptr<ChildProcess> shell(boost::asio::io_context& io, const std::string& script,
                                             const std::vector<std::string>& args, const Env& env,
                                             std::string* error, const std::optional<RunAs>& as = std::nullopt);

  // Kills and reaps a child still running (blocking briefly: SIGKILL is final).
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // `on_exit` runs once, from the io_context, after the child is reaped.
  void async_wait(std::function<void(ExitStatus)> on_exit);
  // Signals the child's whole process group; a no-op once reaped (its pid,
  // and so the group id, may then belong to someone else).
  void kill_group(int signal = SIGKILL);

  pid_t pid() const { return pid_; }
  bool reaped() const { return reaped_; }

 private:
  ChildProcess(boost::asio::io_context& io, pid_t pid);
  void watch();
  bool try_reap();

  pid_t pid_;
  bool reaped_ = false;
  ExitStatus status_;
  std::optional<boost::asio::posix::stream_descriptor> pidfd_;
  boost::asio::steady_timer poll_timer_;
  std::chrono::milliseconds poll_every_{1};
  std::function<void(ExitStatus)> on_exit_;
};

}  // namespace vsd::health
