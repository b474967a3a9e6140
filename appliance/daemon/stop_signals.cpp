#include "appliance/daemon/stop_signals.hpp"

#include <pthread.h>
#include <signal.h>

namespace vsd {

namespace {

sigset_t stop_set() {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGHUP);
  sigaddset(&s, SIGTERM);
  sigaddset(&s, SIGINT);
  return s;
}

}  // namespace

void defer_stop_signals() {
  const sigset_t s = stop_set();
  pthread_sigmask(SIG_BLOCK, &s, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

void deliver_stop_signals() {
  const sigset_t s = stop_set();
  pthread_sigmask(SIG_UNBLOCK, &s, nullptr);
}

void default_stop_signals() {
  signal(SIGPIPE, SIG_DFL);
  deliver_stop_signals();
}

}  // namespace vsd
