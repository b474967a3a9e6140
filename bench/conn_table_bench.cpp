// Connection-table lookups per second and memory per entry with 1 M
// entries. Scheduling decisions are in scheduler_bench.cpp.
#include <benchmark/benchmark.h>
#include <netinet/in.h>

#include <random>

#include "appliance/core/conn_table.hpp"

namespace {

using vsd::ConnEntry;
using vsd::ConnTable;
using vsd::IpAddress;

IpAddress v4(std::uint32_t x) {
  std::uint8_t b[4] = {static_cast<std::uint8_t>(x >> 24), static_cast<std::uint8_t>(x >> 16),
                       static_cast<std::uint8_t>(x >> 8), static_cast<std::uint8_t>(x)};
  return IpAddress::v4(b);
}

struct Filled {
  explicit Filled(std::uint32_t n) : table(n) {
    ConnEntry e;
    e.vaddr = v4(0xc000020a);  // 192.0.2.10
    e.vport = 80;
    e.daddr = v4(0xcb00710b);  // 203.0.113.11
    e.dport = 8000;
    e.proto = IPPROTO_TCP;
    for (std::uint32_t i = 0; i < n; ++i) {
      e.caddr = v4(0xc6336400 + (i >> 16));  // 198.51.100.x
      e.cport = static_cast<std::uint16_t>(i);
      table.insert(e, 1000);
    }
  }
  ConnTable table;
};

void BM_ConnLookup1M(benchmark::State& state) {
  static Filled f(1 << 20);
  std::mt19937 rng(1);
  std::vector<std::uint32_t> keys(1 << 16);
  for (auto& k : keys) k = rng() & ((1 << 20) - 1);
  const IpAddress vip = v4(0xc000020a);
  std::size_t i = 0, hits = 0;
  for (auto _ : state) {
    std::uint32_t k = keys[i++ & 0xffff];
    auto h = f.table.find(IPPROTO_TCP, v4(0xc6336400 + (k >> 16)), static_cast<std::uint16_t>(k), vip, 80);
    hits += h.entry != nullptr;
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["hit_ratio"] = static_cast<double>(hits) / static_cast<double>(state.iterations());
  state.counters["bytes_per_entry"] = static_cast<double>(f.table.bytes_per_entry());
  state.counters["entries"] = f.table.size();
}
BENCHMARK(BM_ConnLookup1M);

}  // namespace
