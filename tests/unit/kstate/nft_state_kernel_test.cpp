// The nftables state reader against a real kernel, in a private network
// namespace: a table made with `nft -f` holding counters and DR/TUN-style
// flow maps, elements added by `nft add element` and by a packet (`update`
// from the output hook), read back, deleted. Each body runs in a forked
// child and reports by exit code, the reason on stderr.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <system_error>
#include <vector>

#include "nfq/nft_state.hpp"
#include "private_netns.hpp"

namespace vsd::kstate {
namespace {

using Clock = std::chrono::steady_clock;

Endpoint ep(const char* addr, std::uint16_t port) { return {*IpAddress::parse(addr), port}; }

#define REQUIRE(cond, code)                                                  \
  do {                                                                       \
    if (!(cond)) {                                                           \
      std::fprintf(stderr, "%s:%d: %s failed\n", __FILE__, __LINE__, #cond); \
      return code;                                                           \
    }                                                                        \
  } while (0)

int run_guarded(int (*body)()) {
  return test::run_in_private_netns([body] {
    try {
      return body();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "exception: %s\n", e.what());
      return 99;
    }
  });
}

#define RUN_IN_NETNS(body)                                                       \
  do {                                                                           \
    const int rc = run_guarded(body);                                            \
    if (rc == test::kNetnsUnavailable) GTEST_SKIP() << "needs root and a netns"; \
    EXPECT_EQ(rc, 0);                                                            \
  } while (0)

// As vsd's fast path will have them: counters per decision, one flow map
// per protocol (UDP's counting per element), filled from the packet path
// by `update`; plus a fwmark-style set that is no flow map.
int setup() {
  if (!test::sh("ip link set lo up")) return 50;
  const char* rules = R"(nft -f - <<'EOF'
table ip kst {
  counter in_1 { packets 5 bytes 700 }
  counter out_1 { }
  counter in_2 { }
  map tcp_flows {
    type ipv4_addr . inet_service . ipv4_addr . inet_service : mark
    flags dynamic, timeout; timeout 15m; size 65536
  }
  map udp_flows {
    type ipv4_addr . inet_service . ipv4_addr . inet_service : mark
    flags dynamic, timeout; timeout 5m; size 65536; counter
  }
  set fwmark_7 { type ipv4_addr . inet_service; elements = { 192.0.2.10 . 80 } }
  chain out {
    type filter hook output priority 0; policy accept;
    udp dport 9 counter name "in_2" meta mark set 0x10005 update @udp_flows { ip saddr . udp sport . ip daddr . udp dport : meta mark }
  }
}
table ip6 kst {
  counter in_1 { packets 1 bytes 2 }
  map tcp_flows {
    type ipv6_addr . inet_service . ipv6_addr . inet_service : mark
    flags dynamic, timeout; timeout 15m; size 65536
  }
}
EOF)";
  return test::sh(rules) ? 0 : 51;
}

// One UDP datagram of `payload` bytes from 127.0.0.1 to 127.0.0.1:9; its source port.
std::uint16_t send_udp(std::size_t payload) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(9);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const std::string data(payload, 'x');
  const bool sent = ::sendto(fd, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&to),
                             sizeof to) == static_cast<ssize_t>(data.size());
  sockaddr_in local{};
  socklen_t len = sizeof local;
  getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
  ::close(fd);
  return sent ? ntohs(local.sin_port) : 0;
}

const NftCounter* counter(const std::vector<NftCounter>& all, Family f, const char* name) {
  for (const auto& c : all)
    if (c.family == f && c.name == name) return &c;
  return nullptr;
}

const FlowElement* element(const std::vector<FlowElement>& all, const FlowKey& k) {
  for (const auto& e : all)
    if (e.key() == k) return &e;
  return nullptr;
}

int counters_and_maps() {
  if (const int rc = setup()) return rc;
  const std::uint16_t sport = send_udp(100);
  REQUIRE(sport != 0, 1);

  const auto counters = read_counters("kst");
  for (const auto& c : counters)
    std::fprintf(stderr, "  counter %s %s: %llu packets, %llu bytes\n",
                 c.family == Family::v4 ? "ip" : "ip6", c.name.c_str(),
                 static_cast<unsigned long long>(c.packets),
                 static_cast<unsigned long long>(c.bytes));
  REQUIRE(counters.size() == 4, 2);
  const NftCounter* c = counter(counters, Family::v4, "in_1");
  REQUIRE(c && c->packets == 5 && c->bytes == 700, 3);
  c = counter(counters, Family::v4, "out_1");
  REQUIRE(c && c->packets == 0 && c->bytes == 0, 4);
  c = counter(counters, Family::v4, "in_2");  // the datagram: 20 + 8 + 100 bytes
  REQUIRE(c && c->packets == 1 && c->bytes == 128, 5);
  c = counter(counters, Family::v6, "in_1");
  REQUIRE(c && c->packets == 1 && c->bytes == 2, 6);
  REQUIRE(read_counters("nope").empty(), 7);

  REQUIRE(test::sh("nft add element ip kst tcp_flows '{ 198.51.100.2 . 40000 . 192.0.2.10 . 80 "
                   "timeout 100s : 0x10001, 198.51.100.3 . 40001 . 192.0.2.10 . 80 : 0x10002 }'"),
          10);
  REQUIRE(test::sh("nft add element ip6 kst tcp_flows '{ 2001:db8::2 . 40000 . 2001:db8::10 . "
                   "443 timeout 30s : 7 }'"),
          11);
  auto flows = read_flow_map(Family::v4, "kst", "tcp_flows");
  REQUIRE(flows.size() == 2, 12);
  const FlowElement* e = element(flows, {ep("198.51.100.2", 40000), ep("192.0.2.10", 80)});
  REQUIRE(e && e->mark == 0x10001 && e->timeout_ms == 100000u, 13);
  REQUIRE(e->expires_ms && *e->expires_ms <= 100000 && *e->expires_ms > 90000, 14);
  REQUIRE(!e->counters, 15);
  e = element(flows, {ep("198.51.100.3", 40001), ep("192.0.2.10", 80)});
  REQUIRE(e && e->mark == 0x10002 && !e->timeout_ms, 16);  // the map's 15 minutes
  REQUIRE(e->expires_ms && *e->expires_ms <= 900000 && *e->expires_ms > 890000, 17);

  flows = read_flow_map(Family::v6, "kst", "tcp_flows");
  REQUIRE(flows.size() == 1 && flows[0].client == ep("2001:db8::2", 40000), 18);
  REQUIRE(flows[0].vip == ep("2001:db8::10", 443) && flows[0].mark == 7, 19);
  REQUIRE(flows[0].timeout_ms == 30000u, 20);

  // Made by the packet path, counted per element.
  flows = read_flow_map(Family::v4, "kst", "udp_flows");
  REQUIRE(flows.size() == 1, 21);
  REQUIRE(flows[0].client == ep("127.0.0.1", sport) && flows[0].vip == ep("127.0.0.1", 9), 22);
  REQUIRE(flows[0].mark == 0x10005 && flows[0].expires_ms && !flows[0].timeout_ms, 23);
  REQUIRE(flows[0].counters && flows[0].counters->packets == 1, 24);
  REQUIRE(flows[0].counters->bytes == 128, 25);

  // Missing: nothing, not an error. A set of another shape: no flows.
  REQUIRE(read_flow_map(Family::v4, "nope", "tcp_flows").empty(), 26);
  REQUIRE(read_flow_map(Family::v4, "kst", "nope").empty(), 27);
  REQUIRE(read_flow_map(Family::v6, "kst", "udp_flows").empty(), 28);
  REQUIRE(read_flow_map(Family::v4, "kst", "fwmark_7").empty(), 29);
  return 0;
}

TEST(NftStateKernel, CountersAndFlowMaps) { RUN_IN_NETNS(counters_and_maps); }

std::vector<FlowKey> keys_of(const std::vector<FlowElement>& flows) {
  std::vector<FlowKey> out;
  for (const auto& f : flows) out.push_back(f.key());
  return out;
}

int delete_flow_elements() {
  if (const int rc = setup()) return rc;
  const char* add4 =
      "nft add element ip kst tcp_flows '{ 198.51.100.2 . 40000 . 192.0.2.10 . 80 : 1, "
      "198.51.100.2 . 40001 . 192.0.2.10 . 80 : 2, 198.51.100.2 . 40002 . 192.0.2.10 . 80 : 3 }'";
  const char* add6 =
      "nft add element ip6 kst tcp_flows '{ 2001:db8::2 . 40000 . 2001:db8::10 . 80 : 1, "
      "2001:db8::2 . 40001 . 2001:db8::10 . 80 : 2 }'";
  const std::vector<FlowKey> doomed = {
      {ep("198.51.100.2", 40000), ep("192.0.2.10", 80)},
      {ep("198.51.100.2", 40002), ep("192.0.2.10", 80)},
      {ep("198.51.100.9", 1), ep("192.0.2.10", 80)},  // not there
      {ep("2001:db8::2", 40001), ep("2001:db8::10", 80)},
      {ep("2001:db8::2", 9), ep("2001:db8::10", 80)},  // not there
  };
  for (const bool destroy : {true, false}) {
    REQUIRE(test::sh(add4) && test::sh(add6), 1);
    delete_flows(Family::v4, "kst", "tcp_flows", doomed, destroy);
    auto left = read_flow_map(Family::v4, "kst", "tcp_flows");
    REQUIRE(left.size() == 1 && left[0].client.port == 40001 && left[0].mark == 2, 2);
    REQUIRE(read_flow_map(Family::v6, "kst", "tcp_flows").size() == 2, 3);  // other family
    delete_flows(Family::v6, "kst", "tcp_flows", doomed, destroy);
    left = read_flow_map(Family::v6, "kst", "tcp_flows");
    REQUIRE(left.size() == 1 && left[0].client.port == 40000, 4);
    // Only missing keys, a missing map, a missing table: nothing to do.
    delete_flows(Family::v4, "kst", "tcp_flows", doomed, destroy);
    delete_flows(Family::v4, "kst", "nope", doomed, destroy);
    delete_flows(Family::v4, "nope", "tcp_flows", doomed, destroy);
    // Empty them for the next round.
    delete_flows(Family::v4, "kst", "tcp_flows",
                 keys_of(read_flow_map(Family::v4, "kst", "tcp_flows")), destroy);
    delete_flows(Family::v6, "kst", "tcp_flows",
                 keys_of(read_flow_map(Family::v6, "kst", "tcp_flows")), destroy);
    REQUIRE(read_flow_map(Family::v4, "kst", "tcp_flows").empty(), 5);
    REQUIRE(read_flow_map(Family::v6, "kst", "tcp_flows").empty(), 6);
  }
  // A refusal that is not "missing" is an error naming the map: a set
  // whose key is not a flow key.
  try {
    delete_flows(Family::v4, "kst", "fwmark_7", doomed);
    std::fprintf(stderr, "deleting from a set of another shape was accepted\n");
    return 7;
  } catch (const std::system_error& err) {
    std::fprintf(stderr, "  expected: %s\n", err.what());
    REQUIRE(std::string(err.what()).find("fwmark_7") != std::string::npos, 8);
  }
  return 0;
}

TEST(NftStateKernel, DeleteFlows) { RUN_IN_NETNS(delete_flow_elements); }

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// `nft -f` adding n elements to ip kst tcp_flows, 1000 per command.
bool add_elements(int n) {
  const std::string file = "/tmp/vsd-kstate-" + std::to_string(getpid()) + ".nft";
  FILE* f = std::fopen(file.c_str(), "w");
  if (!f) return false;
  for (int i = 0; i < n; ++i) {
    if (i % 1000 == 0)
      std::fprintf(f, "%sadd element ip kst tcp_flows { ", i ? " }\n" : "");
    else
      std::fprintf(f, ", ");
    std::fprintf(f, "198.51.%d.%d . %d . 192.0.2.10 . 80 : 0x%x", 100 + i / 50000 / 250,
                 1 + i / 50000 % 250, 10000 + i % 50000, 0x10001 + i % 3);
  }
  std::fprintf(f, " }\n");
  std::fclose(f);
  const bool ok = test::sh(("nft -f " + file).c_str());
  ::unlink(file.c_str());
  return ok;
}

int bulk_cost() {
  if (const int rc = setup()) return rc;
  constexpr int kN = 10000;
  REQUIRE(add_elements(kN), 1);
  auto t0 = Clock::now();
  auto flows = read_flow_map(Family::v4, "kst", "tcp_flows");
  const double read = ms_since(t0);
  REQUIRE(flows.size() == kN, 2);
  const auto keys = keys_of(flows);
  t0 = Clock::now();
  delete_flows(Family::v4, "kst", "tcp_flows", keys);
  const double destroy = ms_since(t0);
  REQUIRE(read_flow_map(Family::v4, "kst", "tcp_flows").empty(), 3);
  REQUIRE(add_elements(kN), 4);
  t0 = Clock::now();
  delete_flows(Family::v4, "kst", "tcp_flows", keys, false);
  const double del = ms_since(t0);
  REQUIRE(read_flow_map(Family::v4, "kst", "tcp_flows").empty(), 5);
  t0 = Clock::now();
  for (int i = 0; i < 100; ++i) read_counters("kst");
  const double counters = ms_since(t0) / 100;
  std::fprintf(stderr,
               "  flow map of %d elements: read %.1f ms, deleted with DESTROYSETELEM %.1f ms, "
               "with one DELSETELEM per key %.1f ms; read_counters (4 counters) %.3f ms\n",
               kN, read, destroy, del, counters);
  return 0;
}

TEST(NftStateKernel, BulkCostOf10000Elements) { RUN_IN_NETNS(bulk_cost); }

}  // namespace
}  // namespace vsd::kstate
