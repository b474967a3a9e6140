#include "appliance/health/child_process.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <set>

extern char** environ;

namespace vsd::health {

std::string ExitStatus::describe() const {
  if (unknown) return "exit status unknown (reaped elsewhere: is SIGCHLD ignored?)";
  if (exited) return "exit code " + std::to_string(code);
  const char* name = ::strsignal(signal);
  return "killed by signal " + std::to_string(signal) + (name ? std::string(" (") + name + ")" : "");
}

ChildProcess::ChildProcess(boost::asio::io_context& io, pid_t pid) : pid_(pid), poll_timer_(io) {
  // pidfd_open(2) (Linux 5.3): readable once the child has exited.
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd >= 0) {
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    pidfd_.emplace(io, fd);
  }
}

ChildProcess::~ChildProcess() {
  if (reaped_) return;
  ::kill(-pid_, SIGKILL);
  int status;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

namespace {

bool all_digits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

// The child of fork() in a threaded daemon: only system calls until execve.
// The ids change by raw system calls (glibc's setuid family would try to
// change every thread of the parent's image); errors go back through
// `report` as an errno.
[[noreturn]] void exec_as(const Credentials& who, char* const* argv, char* const* envp, int report) {
  auto fail = [report](int stage) {
    int e[2] = {stage, errno};
    [[maybe_unused]] auto n = ::write(report, e, sizeof e);
    ::_exit(127);
  };
  ::setpgid(0, 0);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);  // KILL/STOP refuse: fine
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  int null = ::open("/dev/null", O_RDWR);
  if (null < 0) fail(0);
  ::dup2(null, 0);
  ::dup2(null, 1);
  ::dup2(null, 2);
  if (report > 3) ::close_range(3, static_cast<unsigned>(report) - 1, 0);
  ::close_range(static_cast<unsigned>(report) + 1, ~0u, 0);
  if (::syscall(SYS_setgroups, who.groups.size(), who.groups.data()) != 0) fail(1);
  if (::syscall(SYS_setresgid, who.gid, who.gid, who.gid) != 0) fail(2);
  if (::syscall(SYS_setresuid, who.uid, who.uid, who.uid) != 0) fail(3);
  ::execve(argv[0], argv, envp);
  fail(4);
  ::_exit(127);
}

}  // namespace

std::optional<Credentials> resolve(const RunAs& as, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<Credentials> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  Credentials c;
  std::vector<char> buf(16384);
  struct passwd pw {}, *pwp = nullptr;
  ::getpwnam_r(as.user.c_str(), &pw, buf.data(), buf.size(), &pwp);
  std::string name = as.user;
  if (pwp) {
    c.uid = pwp->pw_uid;
    c.gid = pwp->pw_gid;
    name = pwp->pw_name;
  } else if (all_digits(as.user)) {
    c.uid = static_cast<uid_t>(std::stoul(as.user));
    c.gid = c.uid;
  } else {
    return fail("no user \"" + as.user + "\" on this node");
  }
  if (!as.group.empty()) {
    struct group gr {}, *grp = nullptr;
    std::vector<char> gbuf(16384);
    ::getgrnam_r(as.group.c_str(), &gr, gbuf.data(), gbuf.size(), &grp);
    if (grp)
      c.gid = grp->gr_gid;
    else if (all_digits(as.group))
      c.gid = static_cast<gid_t>(std::stoul(as.group));
    else
      return fail("no group \"" + as.group + "\" on this node");
  }
  if (pwp) {
    int n = 64;
    c.groups.resize(static_cast<std::size_t>(n));
    if (::getgrouplist(name.c_str(), c.gid, c.groups.data(), &n) < 0) {
      c.groups.resize(static_cast<std::size_t>(n));
      ::getgrouplist(name.c_str(), c.gid, c.groups.data(), &n);
    }
    c.groups.resize(static_cast<std::size_t>(std::max(n, 0)));
  } else {
    c.groups = {c.gid};
  }
  return c;
}

std::shared_ptr<ChildProcess> ChildProcess::spawn(boost::asio::io_context& io, const std::vector<std::string>& argv,
                                                  const Env& env, std::string* error, const std::optional<RunAs>& as) {
  // Everything the child needs is prepared before the spawn.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::set<std::string> overridden;
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) {
    overridden.insert(k);
    env_strings.push_back(k + "=" + v);
  }
  std::vector<char*> envp;
  for (char** e = environ; e && *e; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (eq && overridden.count(std::string(*e, static_cast<std::size_t>(eq - *e)))) continue;
    envp.push_back(*e);
  }
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  // Another user: posix_spawn has no attribute for ids, so fork and change
  // them in the child. The same user as vsd's needs no change.
  std::optional<Credentials> who;
  if (as) {
    who = resolve(*as, error);
    if (!who) return nullptr;
    if (who->uid == ::geteuid() && who->gid == ::getegid() && who->uid == 0 && as->group.empty()) who.reset();
  }
  if (who) {
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0) {
      if (error) *error = std::string("cannot run " + argv[0] + ": pipe: ") + std::strerror(errno);
      return nullptr;
    }
    const pid_t pid = ::fork();
    if (pid == 0) exec_as(*who, args.data(), envp.data(), report[1]);
    ::close(report[1]);
    if (pid < 0) {
      const int e = errno;
      ::close(report[0]);
      if (error) *error = "cannot run " + argv[0] + ": fork: " + std::strerror(e);
      return nullptr;
    }
    int got[2] = {0, 0};
    ssize_t n;
    do {
      n = ::read(report[0], got, sizeof got);
    } while (n < 0 && errno == EINTR);
    ::close(report[0]);
    if (n == static_cast<ssize_t>(sizeof got)) {  // the child failed before exec; reap it
      int status;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      static const char* const stage[] = {"opening /dev/null", "setgroups", "setgid", "setuid", "exec"};
      if (error)
        *error = "cannot run " + argv[0] + " as " + as->to_string() + ": " + stage[std::clamp(got[0], 0, 4)] +
                 ": " + std::strerror(got[1]) + (got[0] >= 1 && got[0] <= 3 ? " (vsd must run as root to change users)" : "");
      return nullptr;
    }
    return std::shared_ptr<ChildProcess>(new ChildProcess(io, pid));
  }

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);  // the daemon's sockets stay ours
  // Own process group (pgid = pid) so a timeout can kill the whole tree;
  // default signal handling whatever the daemon blocks or ignores.
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, args[0], &actions, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    if (error) *error = "cannot run " + argv[0] + ": " + std::strerror(rc);
    return nullptr;
  }
  return std::shared_ptr<ChildProcess>(new ChildProcess(io, pid));
}

std::shared_ptr<ChildProcess> ChildProcess::shell(boost::asio::io_context& io, const std::string& script,
                                                  const std::vector<std::string>& args, const Env& env,
                                                  std::string* error, const std::optional<RunAs>& as) {
  std::vector<std::string> argv = {"/bin/sh", "-c", script};
  argv.insert(argv.end(), args.begin(), args.end());
  return spawn(io, argv, env, error, as);
}

void ChildProcess::kill_group(int signal) {
  if (!reaped_) ::kill(-pid_, signal);
}

bool ChildProcess::try_reap() {
  if (reaped_) return true;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return false;
  reaped_ = true;
  if (r < 0) {
    status_.unknown = true;
  } else if (WIFEXITED(status)) {
    status_.exited = true;
    status_.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    status_.signal = WTERMSIG(status);
  }
  return true;
}

void ChildProcess::async_wait(std::function<void(ExitStatus)> on_exit) {
  on_exit_ = std::move(on_exit);
  watch();
}

void ChildProcess::watch() {
  auto deliver = [](const std::shared_ptr<ChildProcess>& self) {
    if (self->pidfd_) {
      boost::system::error_code ignored;
      self->pidfd_->close(ignored);
    }
    if (auto f = std::move(self->on_exit_)) f(self->status_);
  };
  if (pidfd_) {
    pidfd_->async_wait(boost::asio::posix::descriptor_base::wait_read,
                       [self = shared_from_this(), deliver](const boost::system::error_code& ec) {
                         if (ec == boost::asio::error::operation_aborted && self->reaped_) return;
                         if (self->try_reap()) return deliver(self);
                         if (ec) self->pidfd_.reset();  // a broken pidfd: fall back to polling
                         self->watch();
                       });
    return;
  }
  // No pidfd: poll, backing off from 1 ms to 50 ms.
  poll_timer_.expires_after(poll_every_);
  poll_every_ = std::min(poll_every_ * 2, std::chrono::milliseconds(50));
  poll_timer_.async_wait([self = shared_from_this(), deliver](const boost::system::error_code&) {
    if (self->try_reap())
      deliver(self);
    else
      self->watch();
  });
}

}  // namespace vsd::health
