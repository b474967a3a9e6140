// One vsd per node: two would replace each other's nft tables and fight
// over the same sysctls. The lock is a listening abstract unix socket
// named "vsd" (per network namespace, like vsd's tables and sysctls;
// released by the kernel when the process ends, also on kill -9, so there
// is no stale lock file to remove). A second instance connects to it and
// learns the holder's pid from SO_PEERCRED for its error message.
#pragma once

#include <string>

namespace vsd {

class InstanceLock {
 public:
  InstanceLock() = default;
  ~InstanceLock();
  InstanceLock(const InstanceLock&) = delete;
  InstanceLock& operator=(const InstanceLock&) = delete;

  // False with *error ("another vsd (pid N) runs on this node ...").
  bool acquire(std::string* error, const std::string& name = "vsd");

 private:
  int fd_ = -1;
};

}  // namespace vsd
