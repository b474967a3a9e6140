// What vsd tells systemd, read from a fake notify socket: the test binds a
// unix datagram socket and points NOTIFY_SOCKET at it, as systemd does for
// a Type=notify service, so libsystemd's sd_notify sends there. No systemd
// is needed. Also the watchdog: WATCHDOG=1 while the heartbeat moves, none
// once it stops, back when it moves again.
#include "appliance/daemon/sd_notify.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "appliance/daemon/watchdog.hpp"

namespace vsd {
namespace {

using namespace std::chrono_literals;

// systemd's end of the notify socket.
class FakeNotifySocket {
 public:
  FakeNotifySocket() {
    char dir[] = "/tmp/vsd-notify-XXXXXX";
    if (!mkdtemp(dir)) return;
    dir_ = dir;
    path_ = dir_ + "/notify";
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    path_.copy(sa.sun_path, sizeof sa.sun_path - 1);
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return;
    setenv("NOTIFY_SOCKET", path_.c_str(), 1);
    ok_ = true;
  }
  ~FakeNotifySocket() {
    unsetenv("NOTIFY_SOCKET");
    if (fd_ >= 0) close(fd_);
    if (!path_.empty()) unlink(path_.c_str());
    if (!dir_.empty()) rmdir(dir_.c_str());
  }
  bool ok() const { return ok_; }

  // The next datagram, or nullopt when none comes within `wait`.
  std::optional<std::string> receive(std::chrono::milliseconds wait = 1000ms) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(wait.count())) != 1) return std::nullopt;
    char buf[4096];
    const ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n < 0) return std::nullopt;
    return std::string(buf, static_cast<std::size_t>(n));
  }
  // Every datagram waiting now.
  std::vector<std::string> drain() {
    std::vector<std::string> out;
    while (auto m = receive(0ms)) out.push_back(*m);
    return out;
  }

 private:
  std::string dir_, path_;
  int fd_ = -1;
  bool ok_ = false;
};

std::size_t count(const std::vector<std::string>& messages, const std::string& m) {
  std::size_t n = 0;
  for (const auto& s : messages) n += s == m;
  return n;
}

TEST(SdNotify, NothingIsSentOutsideSystemd) {
  unsetenv("NOTIFY_SOCKET");
  EXPECT_FALSE(sd::notify("READY=1"));
  sd::ready("x");  // and nothing breaks
}

TEST(SdNotify, StatesAsSystemdReadsThem) {
  FakeNotifySocket s;
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(sd::notify("STATUS=raw"));
  EXPECT_EQ(s.receive(), "STATUS=raw");

  sd::ready("director: 1 services, 2 real servers, NFQUEUE 0..0");
  EXPECT_EQ(s.receive(), "READY=1\nSTATUS=director: 1 services, 2 real servers, NFQUEUE 0..0");

  // RELOADING=1 carries CLOCK_MONOTONIC in microseconds (systemd >= 253
  // wants it to tell this reload from an older one).
  timespec before{};
  clock_gettime(CLOCK_MONOTONIC, &before);
  sd::reloading("reloading /etc/vsd/vsd.toml");
  auto m = s.receive();
  ASSERT_TRUE(m);
  const std::string head = "RELOADING=1\nMONOTONIC_USEC=";
  ASSERT_EQ(m->rfind(head, 0), 0u) << *m;
  const auto nl = m->find('\n', head.size());
  ASSERT_NE(nl, std::string::npos) << *m;
  const unsigned long long usec = std::stoull(m->substr(head.size(), nl - head.size()));
  const unsigned long long before_usec =
      static_cast<unsigned long long>(before.tv_sec) * 1000000ull + static_cast<unsigned long long>(before.tv_nsec) / 1000ull;
  EXPECT_GE(usec, before_usec);
  EXPECT_LT(usec, before_usec + 10'000'000ull);
  EXPECT_EQ(m->substr(nl), "\nSTATUS=reloading /etc/vsd/vsd.toml");

  sd::stopping("stopping");
  EXPECT_EQ(s.receive(), "STOPPING=1\nSTATUS=stopping");
  sd::status("stalled: data thread of NFQUEUE 3 made no progress for 3 s");
  EXPECT_EQ(s.receive(), "STATUS=stalled: data thread of NFQUEUE 3 made no progress for 3 s");
  sd::watchdog_ping();
  EXPECT_EQ(s.receive(), "WATCHDOG=1");
  EXPECT_TRUE(s.drain().empty());
}

TEST(SdNotify, WatchdogIntervalFromTheEnvironment) {
  unsetenv("WATCHDOG_USEC");
  unsetenv("WATCHDOG_PID");
  EXPECT_EQ(sd::watchdog_interval(), 0us);
  setenv("WATCHDOG_USEC", "2000000", 1);
  EXPECT_EQ(sd::watchdog_interval(), 2s);
  // WATCHDOG_PID names the process the watchdog is for: another one (a
  // health-check child that inherited the variables) is not watched.
  setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
  EXPECT_EQ(sd::watchdog_interval(), 2s);
  setenv("WATCHDOG_PID", std::to_string(getpid() + 1).c_str(), 1);
  EXPECT_EQ(sd::watchdog_interval(), 0us);
  unsetenv("WATCHDOG_USEC");
  unsetenv("WATCHDOG_PID");
}

// Runs io for `d` (timers fire on this thread).
void run_for(boost::asio::io_context& io, std::chrono::milliseconds d) {
  io.restart();
  io.run_for(d);
}

TEST(SdNotify, WatchdogPingsOnlyWhileTheHeartbeatMoves) {
  FakeNotifySocket s;
  ASSERT_TRUE(s.ok());
  boost::asio::io_context io;
  bool alive = true;
  std::uint64_t beat = 0;
  // WatchdogSec=200ms: a tick every 100 ms; stale after 300 ms without a beat.
  Watchdog w(
      io, 200ms,
      [&](std::vector<std::uint64_t>& out) {
        if (alive) ++beat;  // what a running data thread does meanwhile
        out.push_back(beat);
      },
      [](std::size_t) { return std::string("NFQUEUE 4"); }, 300ms);
  w.start();
  run_for(io, 600ms);
  auto got = s.drain();
  EXPECT_GE(count(got, "WATCHDOG=1"), 3u) << "pings while alive";
  EXPECT_TRUE(w.healthy());

  // The data thread wedges: once stale, a STATUS= says so and no more pings.
  alive = false;
  for (int i = 0; i < 40 && w.healthy(); ++i) run_for(io, 50ms);
  ASSERT_FALSE(w.healthy());
  got = s.drain();
  bool stalled = false;
  for (const auto& m : got) stalled |= m.rfind("STATUS=stalled: data thread of NFQUEUE 4 made no progress", 0) == 0;
  EXPECT_TRUE(stalled) << "no STATUS=stalled";
  const auto pings_then = w.pings();
  run_for(io, 600ms);
  EXPECT_EQ(count(s.drain(), "WATCHDOG=1"), 0u) << "a ping while the data thread is wedged";
  EXPECT_EQ(w.pings(), pings_then);

  // It moves again: pings come back.
  alive = true;
  run_for(io, 500ms);
  EXPECT_TRUE(w.healthy());
  got = s.drain();
  EXPECT_GE(count(got, "WATCHDOG=1"), 1u) << "no ping after the recovery";
  w.stop();
}

}  // namespace
}  // namespace vsd
