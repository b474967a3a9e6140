// The notify commands: in order per target, bounded while a command is slow.
#include "appliance/health/notifier.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>

namespace vsd::health {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

TEST(Notifier, AFlappingTargetWithASlowCommandStaysBoundedAndEndsInItsLastState) {
  boost::asio::io_context io;
  std::vector<std::string> logs;
  Notifier n(io, std::chrono::seconds(10), [&](const std::string& l) { logs.push_back(l); });
  const std::string out = "/tmp/vsd-notifier-test-" + std::to_string(getpid());
  std::remove(out.c_str());
  // Each run takes 50 ms; 40 transitions arrive at once.
  const std::string cmd = "sleep 0.05; echo \"$3\" >> " + out + "; true";
  for (int i = 0; i < 40; ++i) n.notify({cmd, "TCP 192.0.2.10:80 -> 203.0.113.11:80", "svc", "rs", i % 2 == 1, "flap"});
  EXPECT_LE(n.queued(), 1 + Notifier::kMaxWaiting);
  ASSERT_EQ(logs.size(), 1u) << "one line per burst";
  EXPECT_NE(logs[0].find("dropped"), std::string::npos) << logs[0];
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (n.queued() > 0 && std::chrono::steady_clock::now() < end) io.run_for(std::chrono::milliseconds(20));
  ASSERT_EQ(n.queued(), 0u);
  const std::string ran = slurp(out);
  std::remove(out.c_str());
  // The first ran, then the last kMaxWaiting in order; the last is "up" (i = 39).
  EXPECT_EQ(std::count(ran.begin(), ran.end(), '\n'), static_cast<long>(1 + Notifier::kMaxWaiting)) << ran;
  EXPECT_TRUE(ran.ends_with("up\n")) << ran;
}

}  // namespace
}  // namespace vsd::health
