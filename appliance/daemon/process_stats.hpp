// The process_* metrics every Prometheus client library exports (names and
// meaning as client_golang's process collector), read from /proc/self.
// Parsing is pure and tested; read_process_stats() does the reading.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace vsd {

struct ProcessStats {
  double start_time_seconds = 0;   // since the Unix epoch
  double cpu_seconds = 0;          // user + system
  std::uint64_t resident_memory_bytes = 0;
  std::uint64_t virtual_memory_bytes = 0;
  std::uint64_t open_fds = 0;
  std::uint64_t max_fds = 0;       // RLIMIT_NOFILE soft limit
  std::uint64_t threads = 0;
};

// /proc/self/stat with the clock ticks per second, the page size and the
// boot time (btime of /proc/stat): start time, CPU, memory, threads. False
// on a line it cannot read (a ')' in the name is fine: the last one ends it).
bool parse_proc_self_stat(std::string_view stat, long ticks_per_second, long page_size,
                          double boot_time, ProcessStats* out);
// "btime N" of /proc/stat.
std::optional<double> parse_boot_time(std::string_view proc_stat);

// Everything, from /proc/self and getrlimit; fields it cannot read stay 0.
ProcessStats read_process_stats();

}  // namespace vsd
