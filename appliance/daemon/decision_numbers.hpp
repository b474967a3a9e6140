// The kernel fast path names each (virtual service, real server) pair by a
// number: the decision a flow's mark carries, kept by the kernel in
// conntrack marks and flow tables for as long as the flow lives. So a pair
// keeps its number across reloads and vsadm edits, and across a restart of
// vsd (a file under /run/vsd): a restarted vsd reads the kernel's flows
// with the numbers they were decided under. A number is not given to
// another pair while free ones remain.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "appliance/config/config.hpp"

namespace vsd {

// "TCP 192.0.2.10:80 -> 203.0.113.11:8000": a pair's key (the sorry server
// is a real server of its service like any other).
std::string decision_key(const ServiceConfig& s, const Endpoint& real);
// Every real server of `s` with its port filled in as the data path uses
// it, the sorry server last.
std::vector<Endpoint> decision_reals(const ServiceConfig& s);

class DecisionNumbers {
 public:
  explicit DecisionNumbers(std::uint32_t capacity) : capacity_(capacity) {}

  // Gives every pair of `config` a number (keeping those it has); false
  // when the numbers run out (*missing: how many pairs got none).
  bool assign(const Config& config, std::size_t* missing = nullptr);
  std::optional<std::uint32_t> number(const std::string& key) const;
  std::uint32_t capacity() const { return capacity_; }
  // A digest (FNV-1a, 64 bits) of the numbers of `config`'s pairs, in the
  // configuration's order: two directors with equal fingerprints carry a
  // NAT flow's conntrack mark to the same real server. Never 0 (the sync
  // datagram's "none").
  std::uint64_t fingerprint(const Config& config) const;

  // One "NUMBER KEY" line per pair, as written to the state file.
  std::string to_text() const;
  // Reads to_text()'s lines; malformed lines and numbers out of range are
  // skipped (the next assign() numbers those pairs afresh).
  void from_text(const std::string& text);
  // The state file: read (absent: nothing), write atomically (rename).
  void load(const std::string& path);
  bool save(const std::string& path, std::string* error) const;

 private:
  std::uint32_t capacity_;
  std::map<std::string, std::uint32_t> numbers_;
};

}  // namespace vsd
