#include "appliance/health/health_monitor.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "appliance/health/probe_misc.hpp"
#include "health_test_util.hpp"
#include "test_servers.hpp"

namespace vsd::health {
namespace {

using namespace std::chrono_literals;
using testing::loopback;
using testing::run_until;

// Answers from a script: each check pops the next result.
class ScriptedProbe final : public Probe {
 public:
  ScriptedProbe(boost::asio::io_context& io, std::deque<bool>& script) : Probe(io), script_(script) {}

 private:
  void begin() override {
    bool ok = !script_.empty() && script_.front();
    if (!script_.empty()) script_.pop_front();
    finish(ok, ok ? "scripted pass" : "scripted failure");
  }
  void stop_io() override {}
  std::deque<bool>& script_;
};

struct Event {
  std::string id;
  bool up;
  std::string reason;
};

TargetSpec spec(std::string id, CheckConfig check, Endpoint real = *Endpoint::parse("203.0.113.11:8000")) {
  return {std::move(id), "tcp 192.0.2.10:80", real, std::move(check)};
}

CheckConfig fast(CheckType type = CheckType::tcp) {
  CheckConfig c;
  c.type = type;
  c.interval_ms = 20;
  c.timeout_ms = 200;
  c.rise = 2;
  c.fall = 2;
  return c;
}

TEST(HealthMonitor, ScriptedTransitions) {
  boost::asio::io_context io;
  SteadyClock clock;
  std::vector<Event> events;
  HealthMonitor monitor(io, clock, [&](const std::string& id, bool up, const std::string& reason) {
    events.push_back({id, up, reason});
  });
  std::deque<bool> script = {true, false, true, false, false, false, true, true, true};
  monitor.set_probe_factory([&](const TargetSpec&, const Endpoint&) {
    return std::make_shared<ScriptedProbe>(io, script);
  });
  monitor.upsert(spec("a", fast()));
  EXPECT_EQ(monitor.is_up("a"), true);  // starts up, no callback
  ASSERT_TRUE(run_until(io, [&] { return script.empty() && events.size() == 2; }, 2000ms));
  EXPECT_EQ(events[0].id, "a");
  EXPECT_FALSE(events[0].up);
  EXPECT_EQ(events[0].reason, "2 consecutive checks failed: scripted failure");
  EXPECT_TRUE(events[1].up);
  EXPECT_EQ(events[1].reason, "2 consecutive checks passed: scripted pass");
  auto s = monitor.status("a");
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->up);
  EXPECT_GE(s->checks, 8u);
  EXPECT_TRUE(s->recovered_ms);
}

TEST(HealthMonitor, RealTcpTargetWithAlphaAndNotify) {
  boost::asio::io_context io;
  SteadyClock clock;
  auto acceptor = std::make_unique<boost::asio::ip::tcp::acceptor>(
      io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  const auto port = acceptor->local_endpoint().port();
  auto log = std::filesystem::temp_directory_path() / ("vsd-health-notify-" + std::to_string(::getpid()));
  std::filesystem::remove(log);

  std::vector<Event> events;
  HealthMonitor monitor(io, clock, [&](const std::string& id, bool up, const std::string& reason) {
    events.push_back({id, up, reason});
  });
  CheckConfig c = fast();
  c.alpha = true;
  c.notify = "echo \"$VSD_STATE $VSD_TARGET\" >> " + log.string() + "; echo >> " + log.string();
  monitor.upsert(spec("tcp 192.0.2.10:80 -> 127.0.0.1", c, loopback(port)));
  EXPECT_EQ(monitor.is_up("tcp 192.0.2.10:80 -> 127.0.0.1"), false);  // alpha: down until a pass

  ASSERT_TRUE(run_until(io, [&] { return events.size() == 1; }, 1000ms));
  EXPECT_TRUE(events[0].up);
  EXPECT_EQ(events[0].reason, "first check passed (alpha): connected");

  acceptor.reset();  // the real server goes away
  ASSERT_TRUE(run_until(io, [&] { return events.size() == 2; }, 1000ms));
  EXPECT_FALSE(events[1].up);
  EXPECT_EQ(events[1].reason, "2 consecutive checks failed: connect: Connection refused");

  // The notify commands ran in order, with arguments and environment.
  std::string text;
  ASSERT_TRUE(run_until(io, [&] {
    std::ifstream in(log);
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
    return std::count(text.begin(), text.end(), '\n') >= 4;
  }, 1000ms)) << text;
  EXPECT_EQ(text,
            "up tcp 192.0.2.10:80 -> 127.0.0.1\n"
            "tcp 192.0.2.10:80 127.0.0.1:" + std::to_string(port) + " up first check passed (alpha): connected\n"
            "down tcp 192.0.2.10:80 -> 127.0.0.1\n"
            "tcp 192.0.2.10:80 127.0.0.1:" + std::to_string(port) +
                " down 2 consecutive checks failed: connect: Connection refused\n");
  std::filesystem::remove(log);

  auto json = monitor.status_json();
  ASSERT_EQ(json.size(), 1u);
  EXPECT_EQ(json[0]["state"], "down");
  EXPECT_EQ(json[0]["type"], "tcp");
  EXPECT_EQ(json[0]["last_reason"], "connect: Connection refused");
}

TEST(HealthMonitor, HttpTargetFollowsTheServer) {
  boost::asio::io_context io;
  SteadyClock clock;
  testing::HttpServer server(io);
  std::vector<Event> events;
  HealthMonitor monitor(io, clock, [&](const std::string& id, bool up, const std::string& reason) {
    events.push_back({id, up, reason});
  });
  CheckConfig c = fast(CheckType::http);
  c.path = "/healthz";
  monitor.upsert(spec("web", c, loopback(server.port())));
  ASSERT_TRUE(run_until(io, [&] { return server.requests >= 2; }, 1000ms));
  EXPECT_TRUE(events.empty());  // up from the start and stays up
  server.response = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n";
  ASSERT_TRUE(run_until(io, [&] { return events.size() == 1; }, 1000ms));
  EXPECT_EQ(events[0].reason, "2 consecutive checks failed: HTTP status 500 (expected 2xx)");
  server.response = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  ASSERT_TRUE(run_until(io, [&] { return events.size() == 2; }, 1000ms));
  EXPECT_TRUE(events[1].up);
}

TEST(HealthMonitor, ASlowCheckDoesNotDelayTheOthers) {
  boost::asio::io_context io;
  SteadyClock clock;
  testing::HttpServer server(io);
  HealthMonitor monitor(io, clock);
  CheckConfig slow = fast(CheckType::misc);
  slow.command = "sleep 30";
  slow.timeout_ms = 5000;
  monitor.upsert(spec("slow", slow));
  monitor.upsert(spec("web", fast(CheckType::http), loopback(server.port())));
  ASSERT_TRUE(run_until(io, [&] { return server.requests >= 5; }, 1000ms));
  EXPECT_TRUE(monitor.status("slow")->running);
  EXPECT_EQ(monitor.status("slow")->checks, 0u);
}

TEST(HealthMonitor, RemovingARunningMiscCheckKillsAndReapsIt) {
  boost::asio::io_context io;
  SteadyClock clock;
  HealthMonitor monitor(io, clock);
  std::shared_ptr<MiscProbe> probe;
  monitor.set_probe_factory([&](const TargetSpec& t, const Endpoint&) {
    probe = std::make_shared<MiscProbe>(io, t.check.command, ChildProcess::Env{});
    return probe;
  });
  CheckConfig c = fast(CheckType::misc);
  c.command = "sleep 30";
  c.timeout_ms = 10000;
  monitor.upsert(spec("m", c));
  ASSERT_TRUE(run_until(io, [&] { return probe && probe->pid() > 0; }, 1000ms));
  const pid_t pid = probe->pid();
  probe.reset();
  EXPECT_TRUE(monitor.remove("m"));
  EXPECT_FALSE(monitor.remove("m"));
  EXPECT_TRUE(run_until(io, [&] { return ::waitpid(pid, nullptr, WNOHANG) == -1 && errno == ECHILD; }, 1000ms));
}

TEST(HealthMonitor, DestroyingTheMonitorKillsRunningChecks) {
  boost::asio::io_context io;
  SteadyClock clock;
  pid_t pid = 0;
  {
    HealthMonitor monitor(io, clock);
    monitor.set_probe_factory([&](const TargetSpec& t, const Endpoint&) {
      auto p = std::make_shared<MiscProbe>(io, t.check.command, ChildProcess::Env{});
      // The pid is known once started; read it on the next turn.
      boost::asio::post(io, [&pid, weak = std::weak_ptr<MiscProbe>(p)] {
        if (auto p = weak.lock()) pid = p->pid();
      });
      return p;
    });
    CheckConfig c = fast(CheckType::misc);
    c.command = "sleep 30";
    c.timeout_ms = 10000;
    monitor.upsert(spec("m", c));
    ASSERT_TRUE(run_until(io, [&] { return pid > 0; }, 1000ms));
  }
  EXPECT_TRUE(run_until(io, [&] { return ::waitpid(pid, nullptr, WNOHANG) == -1 && errno == ECHILD; }, 1000ms));
}

TEST(HealthMonitor, UpsertKeepsStateAndRemoveFromTheCallbackIsSafe) {
  boost::asio::io_context io;
  SteadyClock clock;
  std::deque<bool> script(100, false);
  HealthMonitor monitor(io, clock);
  monitor.set_probe_factory([&](const TargetSpec&, const Endpoint&) {
    return std::make_shared<ScriptedProbe>(io, script);
  });
  int transitions = 0;
  monitor.set_transition_callback([&](const std::string& id, bool, const std::string&) {
    ++transitions;
    monitor.remove(id);  // the daemon may drop a target from its own callback
  });
  CheckConfig c = fast();
  monitor.upsert(spec("x", c));
  monitor.upsert(spec("x", c));  // unchanged: no-op
  EXPECT_EQ(monitor.size(), 1u);
  ASSERT_TRUE(run_until(io, [&] { return transitions == 1; }, 1000ms));
  EXPECT_FALSE(monitor.contains("x"));
  testing::run_for(io, 60ms);
  EXPECT_EQ(transitions, 1);

  // A changed check keeps the current state.
  monitor.set_transition_callback({});
  monitor.upsert(spec("y", c));
  ASSERT_TRUE(run_until(io, [&] { return monitor.is_up("y") == false; }, 1000ms));
  c.fall = 5;
  monitor.upsert(spec("y", c));
  EXPECT_EQ(monitor.is_up("y"), false);
  EXPECT_GE(monitor.status("y")->checks, 2u);
}

TEST(HealthMonitor, ChecksAreSpreadOverTheInterval) {
  boost::asio::io_context io;
  SteadyClock clock;
  HealthMonitor monitor(io, clock);
  std::vector<std::chrono::steady_clock::time_point> starts;
  std::deque<bool> script(1000, true);
  monitor.set_probe_factory([&](const TargetSpec&, const Endpoint&) {
    starts.push_back(std::chrono::steady_clock::now());
    return std::make_shared<ScriptedProbe>(io, script);
  });
  CheckConfig c = fast();
  c.interval_ms = 200;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) monitor.upsert(spec("t" + std::to_string(i), c));
  ASSERT_TRUE(run_until(io, [&] { return starts.size() >= 100; }, 1000ms));
  // The first round covers most of the interval instead of one instant.
  std::vector<long> offsets;
  for (std::size_t i = 0; i < 100; ++i)
    offsets.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(starts[i] - t0).count());
  std::sort(offsets.begin(), offsets.end());
  EXPECT_LT(offsets.front(), 40);
  EXPECT_GT(offsets.back(), 150);
  int in_first_tenth = 0;
  for (long o : offsets) in_first_tenth += o < 20;
  EXPECT_LT(in_first_tenth, 35);
}

}  // namespace
}  // namespace vsd::health
