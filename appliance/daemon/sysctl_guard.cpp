#include "appliance/daemon/sysctl_guard.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace vsd {

std::string sysctl_path(const std::string& root, const std::string& key) {
  std::string path = root + "/";
  for (char c : key) path += c == '.' ? '/' : (c == '/' ? '.' : c);
  return path;
}

std::string SysctlGuard::path_of(const std::string& key) const { return sysctl_path(root_, key); }

bool SysctlGuard::read(const std::string& key, std::string* value) const {
  std::ifstream in(path_of(key));
  if (!in) return false;
  std::string v;
  std::getline(in, v);
  *value = v;
  return true;
}

bool SysctlGuard::ensure(const std::string& key, const std::string& value, bool* changed,
                         std::string* error) {
  if (changed) *changed = false;
  std::string old;
  if (!read(key, &old)) {
    if (error) *error = "cannot read " + path_of(key) + ": " + std::strerror(errno);
    return false;
  }
  if (old == value) return true;
  std::ofstream out(path_of(key));
  out << value << "\n";
  out.flush();
  if (!out) {
    if (error) *error = "cannot write " + path_of(key) + ": " + std::strerror(errno);
    return false;
  }
  if (!is_saved(key)) saved_.push_back({key, old});
  if (changed) *changed = true;
  return true;
}

bool SysctlGuard::is_saved(const std::string& key) const {
  return std::any_of(saved_.begin(), saved_.end(), [&](const Saved& s) { return s.key == key; });
}

void SysctlGuard::adopt(const std::string& key, const std::string& original) {
  if (!is_saved(key)) saved_.push_back({key, original});
}

std::vector<std::pair<std::string, std::string>> SysctlGuard::saved() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& s : saved_) out.emplace_back(s.key, s.old_value);
  return out;
}

std::vector<std::string> SysctlGuard::restore_all() {
  std::vector<std::string> done;
  for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
    std::ofstream out(path_of(it->key));
    out << it->old_value << "\n";
    if (out) done.push_back(it->key + "=" + it->old_value);
  }
  saved_.clear();
  return done;
}

}  // namespace vsd
