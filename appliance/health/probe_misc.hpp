// keepalived MISC_CHECK: run a command (by /bin/sh -c), exit code 0 passes.
// On timeout the command's whole process group is killed, and the check
// reports only once the shell has been reaped, so no check leaves a zombie.
// The command sees VSD_ADDRESS and VSD_PORT: what it is meant to check.
#pragma once

#include <memory>
#include <string>

#include "appliance/health/child_process.hpp"
#include "appliance/health/probe.hpp"

namespace vsd::health {

class MiscProbe final : public Probe {
 public:
  // `dynamic`: keepalived's misc_dynamic (exit 0 up, 1 down, 2-255 up
  // with weight code - 2). `user`: who runs it.
  MiscProbe(boost::asio::io_context& io, std::string command, ChildProcess::Env env, bool dynamic = false,
            std::optional<RunAs> user = std::nullopt);
  ~MiscProbe() override;

  pid_t pid() const { return pid_; }  // of the shell, once started (0 before)

 private:
  void begin() override;
  void stop_io() override;
  void on_timeout() override;
  void exited(const ExitStatus& status);

  std::string command_;
  ChildProcess::Env env_;
  bool dynamic_ = false;
  std::optional<RunAs> user_;
  // Owned by its own pending wait, whose callback owns this probe: no cycle,
  // and an io_context torn down unrun still kills and reaps the child.
  std::weak_ptr<ChildProcess> child_;
  pid_t pid_ = 0;
  bool timed_out_ = false;
};

}  // namespace vsd::health
