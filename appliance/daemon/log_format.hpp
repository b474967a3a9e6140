// vsd's log line format. On a terminal, in a file and in the tests:
//   2024-05-01 12:00:00.123 vsd[42] warning: health: ... is down
// Under systemd with stderr connected to the journal (JOURNAL_STREAM names
// stderr's device and inode, systemd.exec(5)) each line starts with the
// sd-daemon(3) priority prefix instead of the time, which journald turns
// into the entry's PRIORITY (so `journalctl -p warning` works) and strips:
//   <4>vsd[42] warning: health: ... is down
// The rest of the line stays as it is, so what greps the text (" info:
// ready$") finds it in `journalctl -o cat` too.
#pragma once

#include <spdlog/common.h>
#include <spdlog/formatter.h>
#include <sys/types.h>

#include <memory>

namespace vsd {

// sd-daemon(3) / syslog(3) priority of a level: critical 2, error 3,
// warning 4, info 6, debug and trace 7.
int journal_priority(spdlog::level::level_enum level);

// Whether JOURNAL_STREAM ("DEV:INODE", decimal) names the file (dev, ino).
bool journal_stream_matches(const char* journal_stream, dev_t dev, ino_t ino);
// For this process's stderr.
bool stderr_is_journal();

// The formatter of vsd's lines, with or without the journal prefix.
std::unique_ptr<spdlog::formatter> make_log_formatter(bool journal);

}  // namespace vsd
