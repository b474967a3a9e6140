// Streamed replies (the connection listing) over the control socket: no
// size cap on the whole reply, the next batch asked for only once the last
// one is written (one batch in memory, however slow the reader), a reader
// that keeps reading never cut by the session timeout, one that stops
// reading closed, and a stream ended cleanly when vsd stops under it.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <thread>

#include "appliance/control/client.hpp"
#include "appliance/control/protocol.hpp"
#include "appliance/control/server.hpp"
#include "control/server_loop.hpp"
#include "temp_dir.hpp"

namespace vsd {
namespace {

using test::Loop;
using test::TempDir;

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

// A stream of `lines` lines of about `bytes` each, then an end line;
// counts the batches asked for (on the control thread).
control::Reply numbered_stream(int lines, std::size_t bytes, std::atomic<int>* asked) {
  control::Reply r(json{{"ok", true}, {"stream", "test"}});
  auto next = std::make_shared<int>(0);
  const std::string pad(bytes, 'x');
  r.more = [=](std::string& out) {
    ++*asked;
    if (*next < lines) out += "{\"n\":" + std::to_string((*next)++) + ",\"pad\":\"" + pad + "\"}\n";
    if (*next < lines) return true;
    out += json{{"end", true}, {"count", *next}}.dump() + "\n";
    return false;
  };
  return r;
}

int raw_connect(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

// Reads until EOF (or error, or the 5 s receive timeout); true on EOF/reset.
bool read_to_end(int fd, std::size_t* total) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      *total += static_cast<std::size_t>(n);
      continue;
    }
    return n == 0 || errno == ECONNRESET;
  }
}

// A whole stream far longer than the cap on one line, read slowly: the
// session timeout (1.5 s) is far shorter than the stream, which is never
// cut because every wait for the reader is short. (vsadm's cap on a line is
// 64 MB; here it is 64 KB, so that the test moves a few MB, not 70.)
TEST(ControlServerStream, AStreamLongerThanTheLineCapAndTheSessionTimeoutArrivesWhole) {
  TempDir tmp;
  const std::string path = tmp.path + "/vsd.sock";
  Loop loop;
  ControlServerOptions opts;
  opts.session_timeout = 1500ms;
  std::atomic<int> asked{0};
  constexpr int kLines = 80;
  constexpr std::size_t kBytes = 32 << 10, kLineCap = 64 << 10;
  ControlServer server(loop.io, path, [&](const json&) { return numbered_stream(kLines, kBytes, &asked); }, opts);
  loop.start();

  int got = 0;
  bool ended = false;
  std::size_t bytes = 0;
  const auto start = std::chrono::steady_clock::now();
  const bool complete = control_request_lines(
      path, {{"cmd", "x"}},
      [&](const json& line) {
        if (line.contains("end")) {
          ended = line.value("count", -1) == got;
          return false;
        }
        if (line.contains("n")) {
          EXPECT_EQ(line.value("n", -1), got);
          ++got;
          bytes += line.value("pad", "").size();
          std::this_thread::sleep_for(50ms);  // a slow reader: formats, resolves names, ...
        }
        return true;
      },
      kLineCap);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(complete);
  EXPECT_TRUE(ended);
  EXPECT_EQ(got, kLines);
  EXPECT_EQ(bytes, kLines * kBytes);
  EXPECT_GT(bytes, 30 * kLineCap);
  EXPECT_GT(took, 2 * opts.session_timeout) << "far longer than the session timeout in all";
  EXPECT_EQ(asked.load(), kLines) << "one batch per call";

  // One line over the cap is refused, not read without end.
  try {
    control_request_lines(path, {{"cmd", "x"}}, [](const json&) { return true; }, kBytes / 2);
    ADD_FAILURE() << "a line over the cap was read";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("longer than 16384 bytes"), std::string::npos) << e.what();
  }
}

// A reader that takes the first line and then stops reading: vsd asks for
// only as many batches as the socket buffers hold (not the whole listing),
// and closes the session once the reader has taken nothing for the
// session timeout.
TEST(ControlServerStream, AReaderThatStopsReadingHoldsOneBatchAndIsClosedAfterTheTimeout) {
  TempDir tmp;
  const std::string path = tmp.path + "/vsd.sock";
  Loop loop;
  ControlServerOptions opts;
  opts.session_timeout = 400ms;
  std::atomic<int> asked{0};
  ControlServer server(loop.io, path, [&](const json&) { return numbered_stream(1'000'000, 64 << 10, &asked); },
                       opts);
  loop.start();

  int fd = raw_connect(path);
  ASSERT_GE(fd, 0);
  const char req[] = "{\"cmd\":\"x\"}\n";
  ASSERT_EQ(::write(fd, req, sizeof req - 1), static_cast<ssize_t>(sizeof req - 1));
  std::this_thread::sleep_for(1s);  // not reading: the server must have given up by now
  const int asked_when_stalled = asked.load();
  EXPECT_LT(asked_when_stalled, 200) << "batches asked for while nobody read (64 KB each)";
  std::size_t total = 0;
  EXPECT_TRUE(read_to_end(fd, &total)) << "closed by the server, not by our receive timeout";
  ::close(fd);
  EXPECT_LT(total, static_cast<std::size_t>(asked_when_stalled + 1) * (65 << 10));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(asked.load(), asked_when_stalled) << "nothing asked for after the close";
  EXPECT_EQ(control_request_lines(path, {{"cmd", "x"}}, [](const json&) { return false; }), true)
      << "still serving";
}

// vsd stopping under a stream: the stream's source (the engine) may be
// gone, so it is not asked again; the reader gets an error line, not a
// listing that looks complete.
TEST(ControlServerStream, AStreamEndsWithAnErrorWhenVsdStopsOrTheStreamFails) {
  TempDir tmp;
  const std::string path = tmp.path + "/vsd.sock";
  Loop loop;
  std::atomic<int> asked{0};
  auto server = std::make_unique<ControlServer>(loop.io, path, [&](const json& req) -> control::Reply {
    if (req.value("cmd", "") == "throws") {
      control::Reply r(json{{"ok", true}, {"stream", "test"}});
      r.more = [](std::string&) -> bool { throw std::runtime_error("out of luck"); };
      return r;
    }
    return numbered_stream(1'000'000, 1 << 10, &asked);
  });
  loop.start();

  std::vector<json> lines;
  control_request_lines(path, {{"cmd", "throws"}}, [&](const json& l) {
    lines.push_back(l);
    return true;
  });
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1].value("error", ""), "control stream failed: out of luck");

  lines.clear();
  const bool complete = control_request_lines(path, {{"cmd", "x"}}, [&](const json& l) {
    lines.push_back(l);
    if (lines.size() == 3)  // the server goes away, on its own thread as the daemon's does
      boost::asio::post(loop.io, [&] { server.reset(); });
    return !l.contains("error");
  });
  EXPECT_TRUE(complete) << "ended by the error line";
  ASSERT_GE(lines.size(), 4u);
  EXPECT_EQ(lines.back(), json({{"ok", false}, {"error", "vsd is stopping"}}));
  const int asked_at_stop = asked.load();
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(asked.load(), asked_at_stop);
}

// The connections stream end to end: the protocol's stream through the
// server to vsadm's reader.
TEST(ControlServerStream, ConnectionsFromACursorReachVsadmsReader) {
  struct Cursor final : control::ConnectionCursor {
    int steps = 0;
    bool next(std::vector<control::ConnectionStatus>& out) override {
      ++steps;
      if (steps % 3 == 0) return steps < 60;  // some steps find nothing
      for (int i = 0; i < 100; ++i) {
        control::ConnectionStatus c;
        c.client = *Endpoint::parse("198.51.100.2:1");
        c.state = "UDP";
        c.protocol = 17;
        out.push_back(c);
      }
      return steps < 60;
    }
  };
  TempDir tmp;
  const std::string path = tmp.path + "/vsd.sock";
  Loop loop;
  ControlServer server(loop.io, path,
                       [](const json&) { return control::connections_stream(std::make_unique<Cursor>()); });
  loop.start();
  control::ConnectionsReply reply;
  std::vector<control::ConnectionStatus> batch;
  std::size_t total = 0;
  using Step = control::ConnectionsReply::Step;
  Step step = Step::more;
  const bool complete = control_request_lines(path, control::simple_request(control::kConnections), [&](const json& l) {
    batch.clear();
    step = reply.feed(l, batch);
    total += batch.size();
    return step == Step::more;
  });
  EXPECT_TRUE(complete);
  EXPECT_EQ(step, Step::end) << reply.error();
  EXPECT_EQ(total, 40u * 100u);
  EXPECT_EQ(reply.count(), total);
}

}  // namespace
}  // namespace vsd
