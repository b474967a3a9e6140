// Scheduling decisions per second for every scheduler, 10 real servers of
// mixed weights and loads. Packets cycle through 4096 clients and
// destinations so the hashing and locality schedulers do real lookups.
#include <benchmark/benchmark.h>

#include <random>

#include "appliance/clock.hpp"
#include "appliance/core/scheduler.hpp"
#include "appliance/core/scheduler_registry.hpp"

namespace {

vsd::IpAddress v4(std::uint32_t x) {
  std::uint8_t b[4] = {static_cast<std::uint8_t>(x >> 24), static_cast<std::uint8_t>(x >> 16),
                       static_cast<std::uint8_t>(x >> 8), static_cast<std::uint8_t>(x)};
  return vsd::IpAddress::v4(b);
}

void BM_Schedule(benchmark::State& state, const char* name) {
  auto svc = std::make_shared<vsd::ServiceState>();
  std::vector<vsd::DestView> dests;
  for (int i = 0; i < 10; ++i) {
    vsd::DestView d;
    d.addr.addr = v4(0xcb007100 + 11 + i);  // 203.0.113.11..
    d.addr.port = 8000;
    d.weight = 1 + i % 4;
    d.state = std::make_shared<vsd::DestState>(svc);
    d.state->active_conns.add(static_cast<std::uint64_t>(10 + i * 3));
    d.state->inactive_conns.add(static_cast<std::uint64_t>(i * 7));
    dests.push_back(d);
  }
  std::mt19937 rng(1);
  std::vector<vsd::PacketView> pkts(4096);
  for (auto& p : pkts) {
    p.src = v4(rng());
    p.dst = v4(0xc6336400 + rng() % 1024);  // 1024 destinations for lblc/lblcr
    p.sport = static_cast<std::uint16_t>(rng());
  }
  const std::vector<std::string> flags = {"sh-fallback", "sh-port", "mh-fallback", "mh-port"};
  std::vector<std::string> own;
  for (const auto& f : flags)
    if (vsd::is_known_scheduler_flag(name, f)) own.push_back(f);
  vsd::SteadyClock clock;
  auto s = vsd::make_scheduler(name, dests, {.clock = &clock, .flags = own, .seed = 1});
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(s->schedule(dests, pkts[i++ & 4095]));
  state.SetItemsProcessed(state.iterations());
}

#define SCHED(n) BENCHMARK_CAPTURE(BM_Schedule, n, #n)
SCHED(rr);
SCHED(wrr);
SCHED(lc);
SCHED(wlc);
SCHED(lblc);
SCHED(lblcr);
SCHED(dh);
SCHED(sh);
SCHED(sed);
SCHED(nq);
SCHED(fo);
SCHED(ovf);
SCHED(mh);
SCHED(twos);

}  // namespace
