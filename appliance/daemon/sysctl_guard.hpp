// Node settings vsd needs (ip_forward for NAT, ...): each one it changes is
// logged and put back as it was when vsd exits. The /proc/sys root is a
// parameter so the logic is tested on a scratch directory without root.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace vsd {

// The file under `root` (/proc/sys) for a key in sysctl(8) spelling: '.'
// separates, '/' stands for a '.' inside a name (net.ipv4.conf.eth0/100.rp_filter
// is conf/eth0.100/rp_filter).
std::string sysctl_path(const std::string& root, const std::string& key);

class SysctlGuard {
 public:
  explicit SysctlGuard(std::string root = "/proc/sys") : root_(std::move(root)) {}
  ~SysctlGuard() { restore_all(); }
  SysctlGuard(const SysctlGuard&) = delete;
  SysctlGuard& operator=(const SysctlGuard&) = delete;

  // Sets key (dotted, "net.ipv4.ip_forward") to value. Returns false and
  // fills *error when it cannot; returns true without writing when the value
  // is already right. *changed says whether a write happened.
  bool ensure(const std::string& key, const std::string& value, bool* changed, std::string* error);
  // Reads the current value ("" and false when unreadable).
  bool read(const std::string& key, std::string* value) const;
  // Restores every changed key, newest first; returns the keys restored.
  std::vector<std::string> restore_all();
  // A key an earlier vsd changed and could not put back (its state file):
  // `original` is what restore_all() writes, whatever ensure() finds now.
  void adopt(const std::string& key, const std::string& original);
  // key -> the value restore_all() writes, oldest change first (for the
  // state file).
  std::vector<std::pair<std::string, std::string>> saved() const;

 private:
  std::string path_of(const std::string& key) const;
  bool is_saved(const std::string& key) const;
  struct Saved {
    std::string key, old_value;
  };
  std::string root_;
  std::vector<Saved> saved_;
};

}  // namespace vsd
