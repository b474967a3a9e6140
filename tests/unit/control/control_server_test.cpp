// The control socket answers every request with one JSON line, also when
// the handler throws (a request of the right shape but the wrong types):
// an exception out of the event loop would end vsd with its rules in place.
#include "appliance/control/client.hpp"
#include "appliance/control/server.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <thread>

namespace vsd {
namespace {

TEST(ControlServer, AHandlerThatThrowsGetsAnErrorReplyAndTheServerGoesOn) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("vsd-ctl-test-" + std::to_string(::getpid()) + ".sock"))
                               .string();
  boost::asio::io_context io;
  ControlServer server(io, path, [](const nlohmann::json& req) -> nlohmann::json {
    // As the director's handler reads it: throws type_error for {"cmd": 1}.
    const std::string cmd = req.value("cmd", "");
    if (cmd == "bad-utf8") return {{"ok", false}, {"error", std::string("unknown \xff\xfe")}};
    return {{"ok", true}, {"cmd", cmd}};
  });
  auto guard = boost::asio::make_work_guard(io);
  std::thread loop([&io] { io.run(); });

  auto thrown = control_request(path, {{"cmd", 1}});
  EXPECT_EQ(thrown.value("ok", true), false);
  EXPECT_NE(thrown.value("error", "").find("control request refused"), std::string::npos) << thrown;

  auto invalid = control_request(path, {{"cmd", "bad-utf8"}});  // dump must not throw
  EXPECT_EQ(invalid.value("ok", true), false);

  auto fine = control_request(path, {{"cmd", "status"}});  // still serving
  EXPECT_EQ(fine.value("ok", false), true);
  EXPECT_EQ(fine.value("cmd", ""), "status");

  guard.reset();
  io.stop();
  loop.join();
}

}  // namespace
}  // namespace vsd
