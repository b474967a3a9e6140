#include "appliance/health/probe_misc.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cerrno>
#include <csignal>
#include <filesystem>
#include <fstream>

#include "appliance/health/probes.hpp"
#include "health_test_util.hpp"

namespace vsd::health {
namespace {

using namespace std::chrono_literals;
using testing::run_probe;

// True once `pid` is neither running nor waiting to be reaped by us.
bool reaped_by_us(pid_t pid) { return ::waitpid(pid, nullptr, WNOHANG) == -1 && errno == ECHILD; }

// A process that is gone or a zombie (someone else's to reap) is dead.
bool dead(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z';
}

std::shared_ptr<MiscProbe> misc(boost::asio::io_context& io, const std::string& command) {
  return std::make_shared<MiscProbe>(io, command, ChildProcess::Env{});
}

TEST(MiscProbe, ExitZeroPassesExitOneFails) {
  boost::asio::io_context io;
  auto p = misc(io, "exit 0");
  auto r = run_probe(io, p, 2000ms);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok);
  EXPECT_EQ(r->reason, "exit code 0");
  EXPECT_TRUE(reaped_by_us(p->pid()));

  p = misc(io, "exit 1");
  r = run_probe(io, p, 2000ms);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->reason, "exit code 1");
  EXPECT_TRUE(reaped_by_us(p->pid()));
}

TEST(MiscProbe, SleepIsKilledAtTheTimeoutAndReaped) {
  boost::asio::io_context io;
  auto p = misc(io, "sleep 30");
  const auto start = std::chrono::steady_clock::now();
  auto r = run_probe(io, p, 200ms);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->reason, "timed out after 200 ms; process group killed (killed by signal 9 (Killed))");
  EXPECT_GE(took, 190ms);
  EXPECT_LT(took, 1000ms);
  ASSERT_GT(p->pid(), 0);
  EXPECT_TRUE(reaped_by_us(p->pid()));  // reported only after the reap: no zombie
  EXPECT_TRUE(dead(p->pid()));
}

TEST(MiscProbe, TheWholeProcessGroupIsKilled) {
  boost::asio::io_context io;
  auto file = std::filesystem::temp_directory_path() / ("vsd-health-grandchild-" + std::to_string(::getpid()));
  // The shell waits on a background grandchild: killing only the shell would leave it.
  auto p = misc(io, "sleep 30 & echo $! > " + file.string() + "; wait");
  auto r = run_probe(io, p, 300ms);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  std::ifstream in(file);
  pid_t grandchild = 0;
  in >> grandchild;
  std::filesystem::remove(file);
  ASSERT_GT(grandchild, 0);
  bool gone = testing::run_until(io, [&] { return dead(grandchild); }, 1000ms);
  EXPECT_TRUE(gone) << "grandchild " << grandchild << " survived";
  if (!gone) ::kill(grandchild, SIGKILL);
}

TEST(MiscProbe, SeesTheProbedAddress) {
  boost::asio::io_context io;
  ProbeContext context(io);
  CheckConfig check;
  check.type = CheckType::misc;
  check.command = "test \"$VSD_ADDRESS:$VSD_PORT\" = 203.0.113.11:8000";
  auto r = run_probe(io, make_probe(context, check, *Endpoint::parse("203.0.113.11:8000")), 2000ms);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << r->reason;
}

TEST(MiscProbe, AbandonKillsAndStillReaps) {
  boost::asio::io_context io;
  auto p = misc(io, "sleep 30");
  bool reported = false;
  p->start(5000ms, [&](ProbeResult) { reported = true; });
  testing::run_for(io, 20ms);
  const pid_t pid = p->pid();
  ASSERT_GT(pid, 0);
  p->abandon();
  p.reset();
  EXPECT_TRUE(testing::run_until(io, [&] { return reaped_by_us(pid); }, 1000ms));
  EXPECT_FALSE(reported);
}

TEST(MiscProbe, AnIoContextDestroyedUnrunStillReaps) {
  pid_t pid = 0;
  {
    boost::asio::io_context io;
    auto p = misc(io, "sleep 30");
    p->start(5000ms, [](ProbeResult) {});
    pid = p->pid();
  }  // the pending wait is destroyed: the child is killed and reaped on the spot
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(reaped_by_us(pid));
}

TEST(ChildProcess, ArgumentsAndEnvironment) {
  boost::asio::io_context io;
  std::string error;
  auto c = ChildProcess::shell(io, "test \"$1/$2/$X\" = a/b/c", {"sh", "a", "b"}, {{"X", "c"}}, &error);
  ASSERT_TRUE(c) << error;
  std::optional<ExitStatus> status;
  c->async_wait([&](ExitStatus s) { status = s; });
  ASSERT_TRUE(testing::run_until(io, [&] { return status.has_value(); }));
  EXPECT_TRUE(status->exited);
  EXPECT_EQ(status->code, 0);

  EXPECT_FALSE(ChildProcess::spawn(io, {"/nonexistent/program"}, {}, &error));
  EXPECT_EQ(error, "cannot run /nonexistent/program: No such file or directory");
}

}  // namespace
}  // namespace vsd::health
