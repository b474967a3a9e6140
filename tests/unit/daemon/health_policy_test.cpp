// The checker-to-service policy without checks, sockets or timers: health
// transitions given by hand, time given in milliseconds.
#include "appliance/daemon/health_policy.hpp"

#include <gtest/gtest.h>

namespace vsd {
namespace {

Config parse(const std::string& text) {
  auto r = parse_config(text, "t.toml");
  EXPECT_TRUE(r.config) << (r.errors.empty() ? "" : r.errors[0].to_string());
  return r.config.value_or(Config{});
}

// Two checked real servers (one quiesced on failure, one removed), a sorry
// server and a quorum of 2; an unchecked service beside it.
const char* kConfig = R"(
[[service]]
address = "192.0.2.10:80"
scheduler = "rr"
sorry_server = "203.0.113.99:8000"
quorum = 2
quorum_up = "/bin/up"
quorum_down = "/bin/down"
[service.check]
type = "tcp"
slow_start = 10
[[service.real]]
address = "203.0.113.11:8000"
weight = 4
[service.real.check]
on_failure = "quiesce"
[[service.real]]
address = "203.0.113.12:8000"
weight = 1
[[service]]
address = "192.0.2.20:53"
protocol = "udp"
[[service.real]]
address = "203.0.113.21"
)";

const std::string kA = "TCP 192.0.2.10:80 -> 203.0.113.11:8000";
const std::string kB = "TCP 192.0.2.10:80 -> 203.0.113.12:8000";

struct HealthPolicyTest : ::testing::Test {
  Config config = parse(kConfig);
  HealthPolicy policy;
  void SetUp() override {
    for (const auto& t : HealthPolicy::targets(config)) policy.track(t.id, true);
  }
  std::vector<std::uint32_t> weights(std::uint64_t now_ms, std::size_t svc = 0) {
    std::vector<std::uint32_t> w;
    // Hold the effective config: a range-for over a temporary's member dangles.
    const Config eff = policy.effective(config, now_ms);
    for (const auto& r : eff.services[svc].reals) w.push_back(r.weight);
    return w;
  }
};

TEST_F(HealthPolicyTest, TargetsAreTheCheckedRealServersWithTheirPorts) {
  auto targets = HealthPolicy::targets(config);
  ASSERT_EQ(targets.size(), 2u);
  EXPECT_EQ(targets[0].id, kA);
  EXPECT_EQ(targets[0].service, "TCP 192.0.2.10:80");
  EXPECT_EQ(targets[0].real.to_string(), "203.0.113.11:8000");
  EXPECT_EQ(targets[0].check.on_failure, health::OnFailure::quiesce);
  EXPECT_EQ(targets[1].check.on_failure, health::OnFailure::remove) << "keepalived's default";
}

TEST_F(HealthPolicyTest, DownQuiescesOrRemovesAndSaysWhich) {
  EXPECT_EQ(weights(0), (std::vector<std::uint32_t>{4, 1}));
  EXPECT_EQ(policy.transition(config, kA, false, 1000), "quiesced (weight 0)");
  EXPECT_EQ(weights(1000), (std::vector<std::uint32_t>{0, 1}));
  EXPECT_EQ(policy.transition(config, kB, false, 1000), "removed from service");
  // Both down: B is gone, A at weight 0, and the sorry server serves.
  auto eff = policy.effective(config, 1000);
  ASSERT_EQ(eff.services[0].reals.size(), 2u);
  EXPECT_EQ(eff.services[0].reals[0].address.to_string(), "203.0.113.11:8000");
  EXPECT_EQ(eff.services[0].reals[0].weight, 0u);
  EXPECT_EQ(eff.services[0].reals[1].address.to_string(), "203.0.113.99:8000");
  EXPECT_EQ(eff.services[0].reals[1].forward, ForwardMethod::nat);
  // The unchecked service is untouched.
  EXPECT_EQ(weights(1000, 1), (std::vector<std::uint32_t>{1}));
  EXPECT_EQ(policy.health(config.services[0], config.services[0].reals[0]), control::Health::down);
  EXPECT_EQ(policy.health(config.services[1], config.services[1].reals[0]), control::Health::unchecked);
}

TEST_F(HealthPolicyTest, RecoveryRampsTheWeightOverSlowStart) {
  policy.transition(config, kA, false, 0);
  EXPECT_EQ(policy.transition(config, kA, true, 10'000), "back in service");
  EXPECT_EQ(weights(10'000)[0], 1u) << "never 0 once up";
  EXPECT_EQ(weights(15'000)[0], 2u) << "half way through 10 s of slow start";
  EXPECT_TRUE(policy.ramping(config, 15'000));
  EXPECT_EQ(weights(20'000)[0], 4u);
  EXPECT_FALSE(policy.ramping(config, 20'000));
}

TEST_F(HealthPolicyTest, SorryServerEventsOnceEachWay) {
  EXPECT_TRUE(policy.sorry_changes(policy.effective(config, 0)).empty());
  policy.transition(config, kA, false, 0);
  policy.transition(config, kB, false, 0);
  auto on = policy.sorry_changes(policy.effective(config, 0));
  ASSERT_EQ(on.size(), 1u);
  EXPECT_TRUE(on[0].serving);
  EXPECT_EQ(on[0].sorry_server.to_string(), "203.0.113.99:8000");
  EXPECT_TRUE(policy.sorry_changes(policy.effective(config, 0)).empty()) << "no repeat";
  policy.transition(config, kB, true, 0);
  auto off = policy.sorry_changes(policy.effective(config, 0));
  ASSERT_EQ(off.size(), 1u);
  EXPECT_FALSE(off[0].serving);
}

TEST_F(HealthPolicyTest, QuorumLostAndGainedWithItsCommands) {
  EXPECT_TRUE(policy.quorum_changes(policy.effective(config, 0)).empty()) << "5 >= 2 at start";
  policy.transition(config, kA, false, 0);  // healthy weight 1 < 2
  auto lost = policy.quorum_changes(policy.effective(config, 0));
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_FALSE(lost[0].gained);
  EXPECT_EQ(lost[0].healthy_weight, 1u);
  EXPECT_EQ(lost[0].command, "/bin/down");
  policy.transition(config, kB, false, 0);  // the sorry server does not count
  EXPECT_TRUE(policy.quorum_changes(policy.effective(config, 0)).empty());
  policy.transition(config, kA, true, 0);
  auto gained = policy.quorum_changes(policy.effective(config, 100'000));
  ASSERT_EQ(gained.size(), 1u);
  EXPECT_TRUE(gained[0].gained);
  EXPECT_EQ(gained[0].command, "/bin/up");
}

TEST_F(HealthPolicyTest, ForgettingTargetsDropsTheirState) {
  policy.transition(config, kA, false, 0);
  auto gone = policy.forget_others({kB});
  EXPECT_EQ(gone, std::vector<std::string>{kA});
  // Tracked again, it starts from the state given, not the old one.
  policy.track(kA, true);
  EXPECT_EQ(weights(0)[0], 4u);
}

// misc_dynamic sets the weight, file checks add to it; 0..65535; only while up.
TEST_F(HealthPolicyTest, ChecksSetOrMoveTheWeight) {
  EXPECT_EQ(policy.weight(config, kA, health::WeightEffect{7u, 0}), "weight 7 (configured 4)");
  EXPECT_EQ(weights(0), (std::vector<std::uint32_t>{7, 1}));
  EXPECT_EQ(policy.weight(config, kA, health::WeightEffect{std::nullopt, -10}), "weight 0 (configured 4)");
  EXPECT_EQ(weights(0)[0], 0u) << "drained, not removed";
  auto eff = policy.effective(config, 0);
  EXPECT_EQ(eff.services[0].reals.size(), 2u);
  policy.weight(config, kA, health::WeightEffect{3u, 2});
  EXPECT_EQ(weights(0)[0], 5u);
  policy.weight(config, kA, health::WeightEffect{70000u, 0});
  EXPECT_EQ(weights(0)[0], 65535u);
  policy.transition(config, kA, false, 0);
  EXPECT_EQ(weights(0)[0], 0u) << "down: quiesced whatever the checks said before";
  policy.transition(config, kA, true, 100'000);
  policy.weight(config, kA, health::WeightEffect{});
  EXPECT_EQ(weights(110'000)[0], 4u) << "no effect: the configured weight (after slow start)";
  // Every server drained: the sorry server serves, as keepalived's quorum 1.
  policy.weight(config, kA, health::WeightEffect{0u, 0});
  policy.weight(config, kB, health::WeightEffect{0u, 0});
  auto on = policy.sorry_changes(policy.effective(config, 100'000));
  ASSERT_EQ(on.size(), 1u);
  EXPECT_TRUE(on[0].serving);
}

TEST(HealthPolicyTargets, SeveralChecksAndHaSuspend) {
  Config c = parse(R"(
[[service]]
address = "192.0.2.10:80"
ha_suspend = true
[[service.check]]
type = "http"
[[service.check]]
type = "tcp"
[[service.real]]
address = "203.0.113.11:8000"
[[service]]
fwmark = 4
members = ["192.0.2.20:80", "192.0.2.21:80", "192.0.2.20:443"]
ha_suspend = true
[service.check]
type = "tcp"
[[service.real]]
address = "203.0.113.12:80"
[[service]]
address = "192.0.2.30:80"
[service.check]
type = "tcp"
[[service.real]]
address = "203.0.113.13:80"
)");
  auto t = HealthPolicy::targets(c);
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].check.type, health::CheckType::http);
  ASSERT_EQ(t[0].more_checks.size(), 1u);
  EXPECT_EQ(t[0].more_checks[0].type, health::CheckType::tcp);
  EXPECT_EQ(t[0].suspend_unless_held, std::vector<IpAddress>{*IpAddress::parse("192.0.2.10")});
  EXPECT_EQ(t[1].suspend_unless_held,
            (std::vector<IpAddress>{*IpAddress::parse("192.0.2.20"), *IpAddress::parse("192.0.2.21")}));
  EXPECT_TRUE(t[2].suspend_unless_held.empty());
}

}  // namespace
}  // namespace vsd
