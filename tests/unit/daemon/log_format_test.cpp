// vsd's log lines: the readable format on a terminal and in files (what the
// integration tests grep), the sd-daemon priority prefix under journald,
// and the JOURNAL_STREAM test that picks one.
#include "appliance/daemon/log_format.hpp"

#include <gtest/gtest.h>
#include <spdlog/details/log_msg.h>
#include <unistd.h>

#include <cctype>
#include <string>

namespace vsd {
namespace {

std::string format(bool journal, spdlog::level::level_enum level, const char* text) {
  auto f = make_log_formatter(journal);
  spdlog::details::log_msg msg("vsd", level, text);
  spdlog::memory_buf_t out;
  f->format(msg, out);
  return std::string(out.data(), out.size());
}

TEST(LogFormat, PrioritiesAreSdDaemons) {
  EXPECT_EQ(journal_priority(spdlog::level::critical), 2);
  EXPECT_EQ(journal_priority(spdlog::level::err), 3);
  EXPECT_EQ(journal_priority(spdlog::level::warn), 4);
  EXPECT_EQ(journal_priority(spdlog::level::info), 6);
  EXPECT_EQ(journal_priority(spdlog::level::debug), 7);
  EXPECT_EQ(journal_priority(spdlog::level::trace), 7);
}

TEST(LogFormat, TerminalLinesKeepTodaysFormat) {
  const std::string pid = std::to_string(getpid());
  const std::string line = format(false, spdlog::level::info, "ready");
  // "YYYY-MM-DD HH:MM:SS.mmm vsd[PID] info: ready\n", checked by shape
  // (std::regex trips g++ 12's -Wmaybe-uninitialized in the sanitizer build).
  const std::string shape = "dddd-dd-dd dd:dd:dd.ddd ";
  ASSERT_GT(line.size(), shape.size()) << line;
  for (std::size_t i = 0; i < shape.size(); ++i)
    EXPECT_EQ(shape[i] == 'd', std::isdigit(static_cast<unsigned char>(line[i])) != 0) << line;
  EXPECT_EQ(line.substr(shape.size()), "vsd[" + pid + "] info: ready\n") << line;
  // What the integration tests grep for.
  EXPECT_NE(line.find(" info: ready\n"), std::string::npos);
  EXPECT_EQ(line.find('<'), std::string::npos);
  EXPECT_NE(format(false, spdlog::level::warn, "x").find(" warning: x\n"), std::string::npos);
}

TEST(LogFormat, JournalLinesStartWithThePriority) {
  const std::string pid = std::to_string(getpid());
  EXPECT_EQ(format(true, spdlog::level::info, "ready"), "<6>vsd[" + pid + "] info: ready\n");
  EXPECT_EQ(format(true, spdlog::level::warn, "health: x is down"),
            "<4>vsd[" + pid + "] warning: health: x is down\n");
  EXPECT_EQ(format(true, spdlog::level::err, "e"), "<3>vsd[" + pid + "] error: e\n");
  EXPECT_EQ(format(true, spdlog::level::critical, "c"), "<2>vsd[" + pid + "] critical: c\n");
  EXPECT_EQ(format(true, spdlog::level::debug, "d"), "<7>vsd[" + pid + "] debug: d\n");
}

TEST(LogFormat, JournalStreamMustNameTheFile) {
  EXPECT_TRUE(journal_stream_matches("8:123456", 8, 123456));
  EXPECT_FALSE(journal_stream_matches("8:123456", 8, 123457));
  EXPECT_FALSE(journal_stream_matches("9:123456", 8, 123456));
  EXPECT_FALSE(journal_stream_matches(nullptr, 8, 123456));
  EXPECT_FALSE(journal_stream_matches("", 8, 123456));
  EXPECT_FALSE(journal_stream_matches("8", 8, 123456));
  EXPECT_FALSE(journal_stream_matches("8:123456x", 8, 123456));
  EXPECT_FALSE(journal_stream_matches("a:b", 8, 123456));
}

TEST(LogFormat, StderrIsTheJournalOnlyWhenJournalStreamSaysSo) {
  const char* saved = getenv("JOURNAL_STREAM");
  const std::string keep = saved ? saved : "";
  unsetenv("JOURNAL_STREAM");
  EXPECT_FALSE(stderr_is_journal());
  struct stat st {};
  ASSERT_EQ(fstat(STDERR_FILENO, &st), 0);
  setenv("JOURNAL_STREAM", (std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino)).c_str(), 1);
  EXPECT_TRUE(stderr_is_journal());
  // A child whose stderr was redirected keeps the variable, not the file.
  setenv("JOURNAL_STREAM", (std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1)).c_str(), 1);
  EXPECT_FALSE(stderr_is_journal());
  if (saved)
    setenv("JOURNAL_STREAM", keep.c_str(), 1);
  else
    unsetenv("JOURNAL_STREAM");
}

}  // namespace
}  // namespace vsd
