// Runs a test body in a child process inside a fresh network namespace
// (unshare(CLONE_NEWNET)), so interfaces and nftables tables it creates
// vanish with it and never touch the host. The body reports through its
// return value (0 = pass) and stderr; gtest assertions are not used in the
// child.
#pragma once

#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <functional>

namespace vsd::test {

inline constexpr int kNetnsUnavailable = 77;  // the child could not unshare: skip

// The body's exit code, kNetnsUnavailable when there is no root / no
// namespace support, or 128 + signal when the child died.
inline int run_in_private_netns(const std::function<int()>& body) {
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0) _exit(kNetnsUnavailable);
    const int rc = body();
    std::fflush(nullptr);
    _exit(rc);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

// A shell command in the child; false (and the command on stderr) when it fails.
inline bool sh(const char* command) {
  const int rc = std::system(command);
  if (rc != 0) std::fprintf(stderr, "command failed (%d): %s\n", rc, command);
  return rc == 0;
}

}  // namespace vsd::test
