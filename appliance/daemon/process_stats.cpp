#include "appliance/daemon/process_stats.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace vsd {

bool parse_proc_self_stat(std::string_view stat, long ticks_per_second, long page_size,
                          double boot_time, ProcessStats* out) {
  // "PID (comm) S PPID ...": fields from the state (field 3) on follow the
  // last ')'.
  const auto close = stat.rfind(')');
  if (close == std::string_view::npos || ticks_per_second <= 0) return false;
  std::vector<std::string_view> f;  // f[0] = field 3 (state)
  std::string_view rest = stat.substr(close + 1);
  while (!rest.empty()) {
    const auto b = rest.find_first_not_of(" \n");
    if (b == std::string_view::npos) break;
    rest.remove_prefix(b);
    const auto e = rest.find_first_of(" \n");
    f.push_back(rest.substr(0, e));
    if (e == std::string_view::npos) break;
    rest.remove_prefix(e);
  }
  auto field = [&f](int n, std::uint64_t* v) {  // n: proc(5)'s 1-based field number
    const std::size_t i = static_cast<std::size_t>(n - 3);
    if (i >= f.size()) return false;
    auto [p, ec] = std::from_chars(f[i].data(), f[i].data() + f[i].size(), *v);
    return ec == std::errc() && p == f[i].data() + f[i].size();
  };
  std::uint64_t utime = 0, stime = 0, threads = 0, start = 0, vsize = 0, rss = 0;
  if (!field(14, &utime) || !field(15, &stime) || !field(20, &threads) || !field(22, &start) ||
      !field(23, &vsize) || !field(24, &rss))
    return false;
  const double hz = static_cast<double>(ticks_per_second);
  out->cpu_seconds = static_cast<double>(utime + stime) / hz;
  out->threads = threads;
  out->start_time_seconds = boot_time + static_cast<double>(start) / hz;
  out->virtual_memory_bytes = vsize;
  out->resident_memory_bytes = rss * static_cast<std::uint64_t>(page_size);
  return true;
}

std::optional<double> parse_boot_time(std::string_view proc_stat) {
  std::size_t pos = 0;
  while (pos < proc_stat.size()) {
    auto end = proc_stat.find('\n', pos);
    if (end == std::string_view::npos) end = proc_stat.size();
    const std::string_view line = proc_stat.substr(pos, end - pos);
    if (line.substr(0, 6) == "btime ") {
      std::uint64_t v = 0;
      const std::string_view num = line.substr(6);
      auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
      if (ec != std::errc()) return std::nullopt;
      return static_cast<double>(v);
    }
    pos = end + 1;
  }
  return std::nullopt;
}

namespace {

std::string slurp(const char* path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

ProcessStats read_process_stats() {
  ProcessStats st;
  const auto boot = parse_boot_time(slurp("/proc/stat"));
  parse_proc_self_stat(slurp("/proc/self/stat"), sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE),
                       boot.value_or(0), &st);
  if (DIR* d = opendir("/proc/self/fd")) {
    std::uint64_t n = 0;
    while (const dirent* e = readdir(d))
      if (e->d_name[0] != '.') ++n;
    closedir(d);
    st.open_fds = n > 0 ? n - 1 : 0;  // less the one opendir itself holds
  }
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
    st.max_fds = rl.rlim_cur == RLIM_INFINITY ? 0 : static_cast<std::uint64_t>(rl.rlim_cur);
  return st;
}

}  // namespace vsd
