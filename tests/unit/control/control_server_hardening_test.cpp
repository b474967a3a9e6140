// The control socket under hostile conditions: its file mode whatever the
// umask, the directory it lives in left alone, peers that are not root
// refused (SO_PEERCRED), silent and slow clients dropped, and accept
// failures (EMFILE) backed off instead of spinning the control thread.
// Tests that switch users run only as root (as in CI) and skip otherwise.
#include "appliance/control/client.hpp"
#include "appliance/control/server.hpp"
#include "control/server_loop.hpp"
#include "temp_dir.hpp"

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace vsd {
namespace {

using test::Loop;
using test::TempDir;

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr uid_t kNobody = 65534;
constexpr gid_t kNogroup = 65534;

struct LogLines {
  std::mutex mu;
  std::vector<std::string> lines;
  std::function<void(const std::string&)> sink() {
    return [this](const std::string& l) {
      std::lock_guard lock(mu);
      lines.push_back(l);
    };
  }
  std::vector<std::string> get() {
    std::lock_guard lock(mu);
    return lines;
  }
};

ControlServer::Handler echo_handler(std::atomic<int>* calls = nullptr) {
  return [calls](const nlohmann::json& req) -> nlohmann::json {
    if (calls) ++*calls;
    return {{"ok", true}, {"cmd", req.value("cmd", "")}};
  };
}

mode_t mode_of(const std::string& p) {
  struct stat st{};
  if (::lstat(p.c_str(), &st) != 0) return 0;
  return st.st_mode;
}

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  return out;
}

sockaddr_un address_of(const std::string& path) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  return sa;
}

// A raw client: connect, optionally send, read until EOF or error (bounded
// by a receive timeout). Returns what came back.
struct RawResult {
  int connect_errno = 0;
  std::string reply;
  bool ended = false;  // EOF or connection reset, not the receive timeout
};

int raw_connect(const std::string& path, int* err) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un sa = address_of(path);
  *err = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 ? 0 : errno;
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

void read_all(int fd, RawResult& r) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      r.reply.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    r.ended = n == 0 || errno == ECONNRESET;
    return;
  }
}

// Runs one request as another user in a forked child. The child does only
// system calls (the parent has threads); everything is prepared before.
RawResult request_as(uid_t uid, gid_t gid, std::vector<gid_t> groups, const std::string& path) {
  const std::string request = "{\"cmd\":\"status\"}\n";
  const sockaddr_un sa = address_of(path);
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(pipe_fds[0]);
    if (::setgroups(groups.size(), groups.data()) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0)
      ::_exit(3);
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    int err = ::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0 ? 0 : errno;
    if (::write(pipe_fds[1], &err, sizeof err) != sizeof err) ::_exit(4);
    if (err == 0) {
      timeval tv{5, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      if (::write(fd, request.data(), request.size()) < 0) ::_exit(5);
      char buf[4096];
      ssize_t n;
      while ((n = ::read(fd, buf, sizeof buf)) > 0)
        if (::write(pipe_fds[1], buf, static_cast<std::size_t>(n)) != n) ::_exit(6);
    }
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  RawResult r;
  if (::read(pipe_fds[0], &r.connect_errno, sizeof r.connect_errno) != sizeof r.connect_errno)
    r.connect_errno = -1;
  read_all(pipe_fds[0], r);
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  return r;
}

TEST(ControlServerHardening, SocketIs0600UnderUmask0AndA1777DirectoryIsLeftAlone) {
  TempDir tmp;
  ASSERT_EQ(::chmod(tmp.path.c_str(), 01777), 0);
  const std::string path = tmp.path + "/vsd.sock";
  int watch = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  ASSERT_GE(watch, 0);
  ASSERT_GE(::inotify_add_watch(watch, tmp.path.c_str(), IN_CREATE | IN_MOVED_TO), 0);

  Loop loop;
  LogLines log;
  ControlServerOptions opts;
  opts.log = log.sink();
  mode_t old_umask = ::umask(0);
  std::optional<ControlServer> server;
  server.emplace(loop.io, path, echo_handler(), opts);
  ::umask(old_umask);
  loop.start();

  EXPECT_TRUE(S_ISSOCK(mode_of(path)));
  EXPECT_EQ(mode_of(path) & 07777, 0600u);
  EXPECT_EQ(mode_of(tmp.path) & 07777, 01777u) << "the sticky bit and the mode stay as they were";
  EXPECT_EQ(names_in(tmp.path), std::vector<std::string>{"vsd.sock"}) << "no private directory left";

  // The socket never appeared at its path by bind: only by rename, with
  // its final mode already set.
  alignas(inotify_event) char buf[4096];
  ssize_t n = ::read(watch, buf, sizeof buf);
  ASSERT_GT(n, 0);
  bool created_in_place = false, moved_in = false;
  for (char* p = buf; p < buf + n;) {
    auto* ev = reinterpret_cast<inotify_event*>(p);
    std::string name = ev->len ? ev->name : "";
    if (name == "vsd.sock" && (ev->mask & IN_CREATE)) created_in_place = true;
    if (name == "vsd.sock" && (ev->mask & IN_MOVED_TO)) moved_in = true;
    p += sizeof(inotify_event) + ev->len;
  }
  ::close(watch);
  EXPECT_FALSE(created_in_place);
  EXPECT_TRUE(moved_in);

  EXPECT_EQ(control_request(path, {{"cmd", "status"}}).value("ok", false), true);
  EXPECT_TRUE(log.get().empty()) << "a sticky directory is fine";
  server.reset();
  EXPECT_EQ(mode_of(path), 0u) << "removed on stop";
  EXPECT_EQ(mode_of(tmp.path) & 07777, 01777u);
}

TEST(ControlServerHardening, MissingDirectoriesAreCreated0755AndExistingOnesKeepTheirMode) {
  TempDir tmp;
  ASSERT_EQ(::chmod(tmp.path.c_str(), 0711), 0);
  Loop loop;
  mode_t old_umask = ::umask(077);
  {
    ControlServer server(loop.io, tmp.path + "/run/vsd/vsd.sock", echo_handler());
    EXPECT_EQ(mode_of(tmp.path + "/run") & 07777, 0755u);
    EXPECT_EQ(mode_of(tmp.path + "/run/vsd") & 07777, 0755u);
    EXPECT_EQ(mode_of(tmp.path + "/run/vsd/vsd.sock") & 07777, 0600u);
  }
  ::umask(old_umask);
  EXPECT_EQ(mode_of(tmp.path) & 07777, 0711u);
}

TEST(ControlServerHardening, AWorldWritableDirectoryWithoutStickyBitIsWarnedAboutNotChanged) {
  TempDir tmp;
  ASSERT_EQ(::chmod(tmp.path.c_str(), 0777), 0);
  Loop loop;
  LogLines log;
  ControlServerOptions opts;
  opts.log = log.sink();
  ControlServer server(loop.io, tmp.path + "/vsd.sock", echo_handler(), opts);
  auto lines = log.get();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("(mode 0777) is writable by others"), std::string::npos) << lines[0];
  EXPECT_EQ(mode_of(tmp.path) & 07777, 0777u);
}

TEST(ControlServerHardening, AFileThatIsNotASocketIsNeitherRemovedNorReplaced) {
  TempDir tmp;
  const std::string path = tmp.path + "/vsd.sock";
  { std::ofstream(path) << "precious\n"; }
  Loop loop;
  try {
    ControlServer server(loop.io, path, echo_handler());
    FAIL() << "a regular file at the socket's path must be refused";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("not a socket"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(S_ISREG(mode_of(path)));
  EXPECT_EQ(names_in(tmp.path), std::vector<std::string>{"vsd.sock"});
}

TEST(ControlServerHardening, AStaleSocketIsReplacedALiveOneIsNot) {
  TempDir tmp;
  const std::string path = tmp.path + "/vsd.sock";
  {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un sa = address_of(path);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    ::close(fd);  // a crashed vsd's socket: the file stays, nobody listens
  }
  Loop loop;
  ControlServer server(loop.io, path, echo_handler());
  loop.start();
  EXPECT_EQ(control_request(path, {{"cmd", "x"}}).value("ok", false), true);
  EXPECT_THROW(ControlServer(loop.io, path, echo_handler()), std::runtime_error);
  EXPECT_EQ(control_request(path, {{"cmd", "x"}}).value("ok", false), true) << "still the first";
}

TEST(ControlServerHardening, ANonRootPeerIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to switch to uid 65534";
  TempDir tmp;
  ASSERT_EQ(::chmod(tmp.path.c_str(), 01777), 0);
  const std::string path = tmp.path + "/vsd.sock";
  Loop loop;
  LogLines log;
  std::atomic<int> calls{0};
  ControlServerOptions opts;
  opts.log = log.sink();
  ControlServer server(loop.io, path, echo_handler(&calls), opts);
  loop.start();

  // First line of defence: the file's mode.
  RawResult denied = request_as(kNobody, kNogroup, {}, path);
  EXPECT_EQ(denied.connect_errno, EACCES);

  // Second: with the file opened up (as an operator might by mistake),
  // SO_PEERCRED still refuses, with one JSON line.
  ASSERT_EQ(::chmod(path.c_str(), 0666), 0);
  RawResult refused = request_as(kNobody, kNogroup, {}, path);
  ASSERT_EQ(refused.connect_errno, 0);
  EXPECT_TRUE(refused.ended);
  ASSERT_FALSE(refused.reply.empty());
  EXPECT_EQ(refused.reply.back(), '\n');
  EXPECT_EQ(refused.reply.find('\n'), refused.reply.size() - 1) << "one line";
  auto reply = nlohmann::json::parse(refused.reply);
  EXPECT_EQ(reply.value("ok", true), false);
  EXPECT_NE(reply.value("error", "").find("permission denied"), std::string::npos) << reply;
  EXPECT_EQ(calls.load(), 0) << "the handler never saw the request";
  auto lines = log.get();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("refused uid 65534"), std::string::npos) << lines[0];

  // Root still is served.
  EXPECT_EQ(control_request(path, {{"cmd", "status"}}).value("ok", false), true);
  EXPECT_EQ(calls.load(), 1);
}

TEST(ControlServerHardening, AnAllowedGroupIsServedByPrimaryOrSupplementaryGroup) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to switch users";
  constexpr gid_t kAdmins = 4242;  // a group made up for the test
  TempDir tmp;
  ASSERT_EQ(::chmod(tmp.path.c_str(), 0755), 0);
  const std::string path = tmp.path + "/vsd.sock";
  Loop loop;
  ControlServerOptions opts;
  opts.allowed_gid = kAdmins;
  opts.log = [](const std::string&) {};
  ControlServer server(loop.io, path, echo_handler(), opts);
  loop.start();

  struct stat st{};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  EXPECT_EQ(st.st_gid, kAdmins);

  auto ok = [](const RawResult& r) {
    return r.connect_errno == 0 && !r.reply.empty() &&
           nlohmann::json::parse(r.reply, nullptr, false).value("ok", false);
  };
  EXPECT_TRUE(ok(request_as(kNobody, kNogroup, {kAdmins}, path))) << "supplementary group";
  EXPECT_TRUE(ok(request_as(kNobody, kAdmins, {}, path))) << "primary group";
  EXPECT_EQ(request_as(kNobody, kNogroup, {}, path).connect_errno, EACCES) << "not in the group";
}

TEST(ControlServerHardening, ASilentClientIsDroppedAfterTheRequestTimeout) {
  TempDir tmp;
  const std::string path = tmp.path + "/vsd.sock";
  Loop loop;
  ControlServerOptions opts;
  opts.request_timeout = 200ms;
  opts.session_timeout = 1s;
  ControlServer server(loop.io, path, echo_handler(), opts);
  loop.start();

  for (const char* sent : {"", "{\"cmd\": \"sta"}) {  // nothing; half a line, then silence
    auto start = std::chrono::steady_clock::now();
    int err = 0;
    int fd = raw_connect(path, &err);
    ASSERT_EQ(err, 0);
    ASSERT_EQ(::write(fd, sent, std::strlen(sent)), static_cast<ssize_t>(std::strlen(sent)));
    RawResult r;
    read_all(fd, r);
    ::close(fd);
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_TRUE(r.ended) << "closed by the server, not by our 5 s receive timeout";
    EXPECT_GE(took, 150ms);
    EXPECT_LT(took, 2s);
    auto reply = nlohmann::json::parse(r.reply, nullptr, false);
    EXPECT_EQ(reply.value("ok", true), false) << r.reply;
    EXPECT_NE(reply.value("error", "").find("not received within 0.2 s"), std::string::npos) << r.reply;
  }
  EXPECT_EQ(control_request(path, {{"cmd", "status"}}).value("ok", false), true) << "still serving";
}

TEST(ControlServerHardening, AClientThatDoesNotReadItsReplyIsClosedButVsdsOwnTimeIsNotCounted) {
  TempDir tmp;
  const std::string path = tmp.path + "/vsd.sock";
  Loop loop;
  ControlServerOptions opts;
  opts.request_timeout = 200ms;
  opts.session_timeout = 300ms;
  const std::string big(8 << 20, 'x');
  ControlServer server(loop.io, path, [&big](const nlohmann::json& req) -> nlohmann::json {
    if (req.value("cmd", "") == "slow") {
      std::this_thread::sleep_for(500ms);  // longer than the session timeout
      return {{"ok", true}};
    }
    return {{"ok", true}, {"blob", big}};
  }, opts);
  loop.start();

  // The handler's 500 ms are vsd's, not the client's: the reply comes.
  EXPECT_EQ(control_request(path, {{"cmd", "slow"}}).value("ok", false), true);

  // 8 MB the client never reads: the server gives up after 300 ms and
  // closes; what was in the socket buffer is all the client ever gets.
  int err = 0;
  int fd = raw_connect(path, &err);
  ASSERT_EQ(err, 0);
  const char req[] = "{\"cmd\":\"big\"}\n";
  ASSERT_EQ(::write(fd, req, sizeof req - 1), static_cast<ssize_t>(sizeof req - 1));
  std::this_thread::sleep_for(1s);
  RawResult r;
  read_all(fd, r);
  ::close(fd);
  EXPECT_TRUE(r.ended);
  EXPECT_GT(r.reply.size(), 0u);
  EXPECT_LT(r.reply.size(), big.size()) << "the write was abandoned";
}

// EMFILE: the pending connection keeps the listening socket readable, so
// an accept loop that retries at once spins a core. In a child with its
// descriptors used up, one second of the loop must cost next to no CPU, the
// failure is logged once, and the connection is served once descriptors
// are free again.
TEST(ControlServerHardening, AcceptFailuresBackOffInsteadOfSpinning) {
  TempDir tmp;
  const std::string path = tmp.path + "/vsd.sock";
  int ready[2], go[2], result[2];
  ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(go, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(result, O_CLOEXEC), 0);
  struct Result {
    long cpu_us = -1;
    int log_lines = 0;
    bool first_is_emfile = false;
    bool second_is_recovery = false;
    int served = 0;
  };
  pid_t pid = ::fork();
  if (pid == 0) {
    Result res;
    try {
      boost::asio::io_context io;
      std::vector<std::string> lines;
      ControlServerOptions opts;
      opts.log = [&lines](const std::string& l) { lines.push_back(l); };
      int served = 0;
      ControlServer server(io, path, [&served](const nlohmann::json&) -> nlohmann::json {
        ++served;
        return {{"ok", true}};
      }, opts);
      rlimit lim{256, 256};
      ::setrlimit(RLIMIT_NOFILE, &lim);
      std::vector<int> filler;
      for (int fd; (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) filler.push_back(fd);
      char c = 1;
      if (::write(ready[1], &c, 1) != 1 || ::read(go[0], &c, 1) != 1) ::_exit(2);
      timespec a{}, b{};
      ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
      io.run_for(1s);
      ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
      res.cpu_us = (b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000;
      for (int fd : filler) ::close(fd);
      io.restart();
      auto deadline = std::chrono::steady_clock::now() + 3s;
      while (served == 0 && std::chrono::steady_clock::now() < deadline) io.run_one_for(100ms);
      io.run_for(100ms);  // the reply's write
      res.log_lines = static_cast<int>(lines.size());
      res.first_is_emfile = !lines.empty() && lines[0].find("Too many open files") != std::string::npos &&
                            lines[0].find("retrying every 100 ms") != std::string::npos;
      res.second_is_recovery = lines.size() > 1 && lines[1].find("accepting connections again") != std::string::npos;
      res.served = served;
    } catch (...) {
      ::_exit(3);
    }
    if (::write(result[1], &res, sizeof res) != sizeof res) ::_exit(4);
    ::_exit(0);
  }
  ::close(ready[1]);
  ::close(go[0]);
  ::close(result[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  int err = 0;
  int fd = raw_connect(path, &err);  // completes in the listen backlog
  ASSERT_EQ(err, 0);
  const char req[] = "{\"cmd\":\"status\"}\n";
  ASSERT_EQ(::write(fd, req, sizeof req - 1), static_cast<ssize_t>(sizeof req - 1));
  ASSERT_EQ(::write(go[1], &c, 1), 1);
  RawResult r;
  read_all(fd, r);
  ::close(fd);
  Result res;
  ASSERT_EQ(::read(result[0], &res, sizeof res), static_cast<ssize_t>(sizeof res));
  int status = 0;
  ::waitpid(pid, &status, 0);
  for (int f : {ready[0], go[1], result[0]}) ::close(f);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

  EXPECT_LT(res.cpu_us, 100000) << "1 s of accept failures cost " << res.cpu_us << " us of CPU";
  EXPECT_EQ(res.log_lines, 2);
  EXPECT_TRUE(res.first_is_emfile);
  EXPECT_TRUE(res.second_is_recovery);
  EXPECT_EQ(res.served, 1);
  EXPECT_EQ(nlohmann::json::parse(r.reply, nullptr, false).value("ok", false), true) << r.reply;
}

}  // namespace
}  // namespace vsd
