// process_* from /proc/self/stat, as client_golang computes them.
#include "appliance/daemon/process_stats.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

namespace vsd {
namespace {

// proc(5): pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt
// majflt cmajflt utime stime cutime cstime priority nice threads
// itrealvalue starttime vsize rss ...
const char* kStat =
    "4242 (vsd (x) y) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 5 0 123400 "
    "104857600 2560 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";

TEST(ProcessStats, ParsesProcSelfStat) {
  ProcessStats p;
  ASSERT_TRUE(parse_proc_self_stat(kStat, 100, 4096, 1700000000, &p));
  EXPECT_DOUBLE_EQ(p.cpu_seconds, 3.0);                       // (250 + 50) / 100
  EXPECT_DOUBLE_EQ(p.start_time_seconds, 1700000000 + 1234);  // btime + 123400 / 100
  EXPECT_EQ(p.virtual_memory_bytes, 104857600u);
  EXPECT_EQ(p.resident_memory_bytes, 2560u * 4096u);
  EXPECT_EQ(p.threads, 5u);
}

TEST(ProcessStats, RefusesWhatItCannotRead) {
  ProcessStats p;
  EXPECT_FALSE(parse_proc_self_stat("4242 (vsd) S 1 2 3", 100, 4096, 0, &p));
  EXPECT_FALSE(parse_proc_self_stat("garbage", 100, 4096, 0, &p));
  EXPECT_FALSE(parse_proc_self_stat(kStat, 0, 4096, 0, &p));
}

TEST(ProcessStats, BootTime) {
  EXPECT_EQ(parse_boot_time("cpu  1 2 3\nintr 5\nbtime 1700000000\nprocesses 9\n"), 1700000000.0);
  EXPECT_FALSE(parse_boot_time("cpu 1\n").has_value());
}

TEST(ProcessStats, ReadsThisProcess) {
  const ProcessStats p = read_process_stats();
  EXPECT_GT(p.resident_memory_bytes, 0u);
  EXPECT_GT(p.start_time_seconds, 1.0e9);
  EXPECT_GE(p.open_fds, 3u);  // stdin, stdout, stderr
  EXPECT_GE(p.threads, 1u);
}

}  // namespace
}  // namespace vsd
