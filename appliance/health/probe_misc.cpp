#include "appliance/health/probe_misc.hpp"

namespace vsd::health {

MiscProbe::MiscProbe(boost::asio::io_context& io, std::string command, ChildProcess::Env env, bool dynamic,
                     std::optional<RunAs> user)
    : Probe(io), command_(std::move(command)), env_(std::move(env)), dynamic_(dynamic), user_(std::move(user)) {}

MiscProbe::~MiscProbe() { stop_io(); }

void MiscProbe::begin() {
  std::string error;
  auto child = ChildProcess::shell(io_, command_, {}, env_, &error, user_);
  if (!child) return finish(false, error);
  pid_ = child->pid();
  child_ = child;
  child->async_wait([self = self<MiscProbe>()](ExitStatus status) { self->exited(status); });
}

void MiscProbe::exited(const ExitStatus& status) {
  if (timed_out_)
    finish(false, "timed out after " + std::to_string(timeout_.count()) + " ms; process group killed (" +
                      status.describe() + ")");
  else if (status.exited && status.code == 0)
    finish(true, "exit code 0");
  else if (dynamic_ && status.exited && status.code >= 2)
    finish(ProbeResult{true, "exit code " + std::to_string(status.code) + ": weight " + std::to_string(status.code - 2),
                       static_cast<std::uint32_t>(status.code - 2), std::nullopt});
  else
    finish(false, status.describe());
}

void MiscProbe::on_timeout() {
  // The verdict waits for the reap, which SIGKILL makes prompt.
  timed_out_ = true;
  stop_io();
}

void MiscProbe::stop_io() {
  if (auto child = child_.lock()) child->kill_group();
}

}  // namespace vsd::health
