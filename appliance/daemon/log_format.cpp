#include "appliance/daemon/log_format.hpp"

#include <spdlog/pattern_formatter.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>

namespace vsd {

namespace {

// %* in the pattern: "<N>".
class PriorityFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    const char prefix[3] = {'<', static_cast<char>('0' + journal_priority(msg.level)), '>'};
    dest.append(prefix, prefix + 3);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return spdlog::details::make_unique<PriorityFlag>();
  }
};

constexpr const char* kTerminalPattern = "%Y-%m-%d %H:%M:%S.%e vsd[%P] %l: %v";
constexpr const char* kJournalPattern = "%*vsd[%P] %l: %v";

}  // namespace

int journal_priority(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::critical: return 2;  // LOG_CRIT
    case spdlog::level::err: return 3;       // LOG_ERR
    case spdlog::level::warn: return 4;      // LOG_WARNING
    case spdlog::level::info: return 6;      // LOG_INFO
    default: return 7;                       // LOG_DEBUG: debug, trace
  }
}

bool journal_stream_matches(const char* journal_stream, dev_t dev, ino_t ino) {
  if (!journal_stream || !*journal_stream) return false;
  std::uintmax_t d = 0, i = 0;
  char tail = 0;
  if (std::sscanf(journal_stream, "%" SCNuMAX ":%" SCNuMAX "%c", &d, &i, &tail) != 2) return false;
  return d == static_cast<std::uintmax_t>(dev) && i == static_cast<std::uintmax_t>(ino);
}

bool stderr_is_journal() {
  struct stat st {};
  if (fstat(STDERR_FILENO, &st) != 0) return false;
  return journal_stream_matches(std::getenv("JOURNAL_STREAM"), st.st_dev, st.st_ino);
}

std::unique_ptr<spdlog::formatter> make_log_formatter(bool journal) {
  auto f = std::make_unique<spdlog::pattern_formatter>();
  if (journal)
    f->add_flag<PriorityFlag>('*').set_pattern(kJournalPattern);
  else
    f->set_pattern(kTerminalPattern);
  return f;
}

}  // namespace vsd
