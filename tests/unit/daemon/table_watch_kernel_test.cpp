// The table watch against a real kernel, in a private network namespace:
// `nft delete table` / `nft flush ruleset` / `nft flush chain` by another
// process are noticed through the nf_tables notifications and the table is
// put back at once; a table nobody watches and vsd's own changes are left
// alone. Each body runs in a forked child and reports by exit code.
#include "appliance/daemon/table_watch.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <linux/netfilter.h>

#include <chrono>
#include <cstdio>

#include "nfq/nft_events.hpp"
#include "private_netns.hpp"

namespace vsd {
namespace {

using namespace std::chrono_literals;

#define REQUIRE(cond, code)                                                  \
  do {                                                                       \
    if (!(cond)) {                                                           \
      std::fprintf(stderr, "%s:%d: %s failed\n", __FILE__, __LINE__, #cond); \
      return code;                                                           \
    }                                                                        \
  } while (0)

bool make_table() { return test::sh("nft add table ip wtest && nft add chain ip wtest c"); }

int rules_in_chain() {
  FILE* p = popen("nft list chain ip wtest c 2>/dev/null | grep -c accept", "r");
  if (!p) return -1;
  int n = -1;
  if (std::fscanf(p, "%d", &n) != 1) n = -1;
  pclose(p);
  return n;
}

// Runs io until `done` or the deadline; returns how long it took.
template <class Done>
std::chrono::milliseconds run_until(boost::asio::io_context& io, Done done, std::chrono::milliseconds limit) {
  const auto t0 = std::chrono::steady_clock::now();
  while (!done() && std::chrono::steady_clock::now() - t0 < limit) io.run_for(20ms);
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
}

int body() {
  REQUIRE(make_table(), 2);
  REQUIRE(test::sh("nft add rule ip wtest c accept"), 3);
  boost::asio::io_context io;
  int restored = 0;
  TableWatch w(io);
  w.watch({{NFPROTO_IPV4, "wtest"}}, [&] {
    ++restored;
    // What vsd's install does: the table as it should be, in place.
    if (!test::sh("nft add table ip wtest && nft add chain ip wtest c && nft flush chain ip wtest c && "
                  "nft add rule ip wtest c accept"))
      throw std::runtime_error("nft failed");
  });
  w.start();
  io.run_for(50ms);

  // A table nobody watches: nothing.
  REQUIRE(test::sh("nft add table ip other && nft delete table ip other"), 4);
  run_until(io, [&] { return restored > 0; }, 500ms);
  REQUIRE(restored == 0, 5);

  // `nft flush ruleset` by another process: back within 2 s.
  REQUIRE(test::sh("nft flush ruleset"), 6);
  auto took = run_until(io, [&] { return restored == 1; }, 2000ms);
  REQUIRE(restored == 1, 7);
  REQUIRE(kstate::table_exists(NFPROTO_IPV4, "wtest"), 8);
  REQUIRE(rules_in_chain() == 1, 9);
  std::fprintf(stderr, "flush ruleset: restored after %lld ms\n", static_cast<long long>(took.count()));
  REQUIRE(took < 2000ms, 10);

  // The restore's own notifications are not another flush.
  run_until(io, [&] { return restored > 1; }, 500ms);
  REQUIRE(restored == 1, 11);

  // The table stays but its rules go (`nft flush chain`): put back too.
  REQUIRE(test::sh("nft flush chain ip wtest c"), 12);
  run_until(io, [&] { return restored == 2; }, 2000ms);
  REQUIRE(restored == 2, 13);
  REQUIRE(rules_in_chain() == 1, 14);

  // `nft delete table`.
  REQUIRE(test::sh("nft delete table ip wtest"), 15);
  run_until(io, [&] { return restored == 3; }, 2000ms);
  REQUIRE(restored == 3, 16);
  REQUIRE(kstate::table_exists(NFPROTO_IPV4, "wtest"), 17);
  REQUIRE(w.restores() == 3, 18);
  return 0;
}

TEST(TableWatchKernel, PutsAFlushedTableBack) {
  const int rc = test::run_in_private_netns([] {
    try {
      return body();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "exception: %s\n", e.what());
      return 99;
    }
  });
  if (rc == test::kNetnsUnavailable) GTEST_SKIP() << "needs root and network namespaces";
  EXPECT_EQ(rc, 0);
}

TEST(TableWatchKernel, TableExists) {
  const int rc = test::run_in_private_netns([] {
    try {
      REQUIRE(!kstate::table_exists(NFPROTO_IPV4, "wtest"), 2);
      REQUIRE(make_table(), 3);
      REQUIRE(kstate::table_exists(NFPROTO_IPV4, "wtest"), 4);
      REQUIRE(!kstate::table_exists(NFPROTO_IPV6, "wtest"), 5);
      const auto g1 = kstate::ruleset_generation();
      REQUIRE(test::sh("nft delete table ip wtest"), 6);
      REQUIRE(kstate::ruleset_generation() != g1, 7);
      return 0;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "exception: %s\n", e.what());
      return 99;
    }
  });
  if (rc == test::kNetnsUnavailable) GTEST_SKIP() << "needs root and network namespaces";
  EXPECT_EQ(rc, 0);
}

}  // namespace
}  // namespace vsd
