#include "appliance/daemon/decision_numbers.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace vsd {

std::string decision_key(const ServiceConfig& s, const Endpoint& real) {
  return service_label(s) + " -> " + real.to_string();
}

std::vector<Endpoint> decision_reals(const ServiceConfig& s) {
  std::vector<Endpoint> out;
  auto with_port = [&](Endpoint e) {
    if (e.port == 0) e.port = s.address.port;
    return e;
  };
  for (const auto& r : s.reals) out.push_back(with_port(r.address));
  if (s.sorry_server) out.push_back(with_port(*s.sorry_server));
  return out;
}

std::uint64_t DecisionNumbers::fingerprint(const Config& config) const {
  std::uint64_t h = 14695981039346656037ULL;
  auto mix = [&h](const std::string& s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
  };
  for (const auto& s : config.services)
    for (const auto& real : decision_reals(s)) {
      const std::string key = decision_key(s, real);
      auto n = number(key);
      mix(key + "=" + (n ? std::to_string(*n) : "-") + "\n");
    }
  return h ? h : 1;
}

bool DecisionNumbers::assign(const Config& config, std::size_t* missing) {
  std::set<std::uint32_t> used;
  for (const auto& [key, n] : numbers_) used.insert(n);
  std::uint32_t next = 1;
  std::size_t without = 0;
  for (const auto& s : config.services)
    for (const auto& real : decision_reals(s)) {
      const std::string key = decision_key(s, real);
      if (numbers_.count(key)) continue;
      while (next <= capacity_ && used.count(next)) ++next;
      if (next > capacity_) {
        // Out of numbers: forget pairs that are no longer configured (their
        // flows have most likely ended) and look again.
        std::set<std::string> live;
        for (const auto& s2 : config.services)
          for (const auto& r2 : decision_reals(s2)) live.insert(decision_key(s2, r2));
        bool freed = false;
        for (auto it = numbers_.begin(); it != numbers_.end();) {
          if (live.count(it->first)) {
            ++it;
            continue;
          }
          used.erase(it->second);
          it = numbers_.erase(it);
          freed = true;
        }
        next = 1;
        while (next <= capacity_ && used.count(next)) ++next;
        if (!freed || next > capacity_) {
          ++without;
          continue;
        }
      }
      numbers_[key] = next;
      used.insert(next);
    }
  if (missing) *missing = without;
  return without == 0;
}

std::optional<std::uint32_t> DecisionNumbers::number(const std::string& key) const {
  auto it = numbers_.find(key);
  if (it == numbers_.end()) return std::nullopt;
  return it->second;
}

std::string DecisionNumbers::to_text() const {
  std::string out;
  for (const auto& [key, n] : numbers_) out += std::to_string(n) + " " + key + "\n";
  return out;
}

void DecisionNumbers::from_text(const std::string& text) {
  numbers_.clear();
  std::set<std::uint32_t> used;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const auto space = line.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 >= line.size()) continue;
    char* end = nullptr;
    const unsigned long n = std::strtoul(line.c_str(), &end, 10);
    if (end != line.c_str() + space || n == 0 || n > capacity_ || used.count(static_cast<std::uint32_t>(n)))
      continue;
    used.insert(static_cast<std::uint32_t>(n));
    numbers_[line.substr(space + 1)] = static_cast<std::uint32_t>(n);
  }
}

void DecisionNumbers::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return;
  std::stringstream ss;
  ss << in.rdbuf();
  from_text(ss.str());
}

bool DecisionNumbers::save(const std::string& path, std::string* error) const {
  // The directory of the control socket: the daemon may get here first.
  std::error_code ec;
  const auto dir = std::filesystem::path(path).parent_path();
  if (!dir.empty() && !std::filesystem::exists(dir, ec)) std::filesystem::create_directories(dir, ec);
  const std::string tmp = path + ".new";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << to_text();
    out.flush();
    if (!out) {
      *error = "cannot write " + tmp + ": " + std::strerror(errno);
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    *error = "cannot rename " + tmp + " to " + path + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace vsd
