// Connection-table lookups per second and memory per entry, and what a
// chosen-tuple (hash-flooding) attack costs, with three hashes in one run:
//
//   legacy  the unkeyed function the table used before (a public constant
//           seed): kept here only, so that before and after are measured
//           side by side on the same machine in the same run;
//   sip13   ConnTable as vsd runs it: SipHash-1-3 under a random key;
//   sip24   SipHash-2-4 under a random key, for comparison.
//
// The attack: an attacker who knows the hash (legacy: it is in the source)
// picks 10 000 client tuples from one IPv6 /64 whose client-side keys all
// land in 1024 neighbouring slots of the default table (max_connections =
// 1 M, 4 M slots), by brute force as the attacker would, and opens them as
// connections. Each of its packets then walks one probe run ~10 000 slots
// long, and so does anyone else's whose key lands in it. The same tuples in
// the keyed table land anywhere.
// Scheduling decisions are in scheduler_bench.cpp.
#include <benchmark/benchmark.h>
#include <netinet/in.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "appliance/core/conn_table.hpp"

namespace {

using vsd::BasicConnTable;
using vsd::ConnEntry;
using vsd::ConnTable;
using vsd::ConnTupleWords;
using vsd::IpAddress;
using vsd::SipKey;

// The hash ConnTable used before keying: the same words, mixed in a chain
// from a constant everyone can read.
struct LegacyHash {
  static std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 33);
  }
  std::uint64_t operator()(const ConnTupleWords& t) const {
    std::uint64_t h = 0x9e3779b97f4a7c15ULL;  // the old default seed
    for (std::uint64_t w : t.w) h = mix(h, w);
    return h;
  }
};

struct Sip24Hash {
  SipKey key;
  std::uint64_t operator()(const ConnTupleWords& t) const { return vsd::siphash_words<2, 4>(key, t.w); }
};

using LegacyTable = BasicConnTable<LegacyHash>;
using Sip24Table = BasicConnTable<Sip24Hash>;

template <class T>
std::unique_ptr<T> make_table(std::uint32_t n);
template <>
std::unique_ptr<LegacyTable> make_table(std::uint32_t n) {
  return std::make_unique<LegacyTable>(n, LegacyHash{});
}
template <>
std::unique_ptr<ConnTable> make_table(std::uint32_t n) {
  return std::make_unique<ConnTable>(n);  // random key, as vsd
}
template <>
std::unique_ptr<Sip24Table> make_table(std::uint32_t n) {
  return std::make_unique<Sip24Table>(n, Sip24Hash{SipKey::random()});
}

IpAddress v4(std::uint32_t x) {
  std::uint8_t b[4] = {static_cast<std::uint8_t>(x >> 24), static_cast<std::uint8_t>(x >> 16),
                       static_cast<std::uint8_t>(x >> 8), static_cast<std::uint8_t>(x)};
  return IpAddress::v4(b);
}

const IpAddress kVip4 = v4(0xc000020a);  // 192.0.2.10
const IpAddress kVip6 = *IpAddress::parse("2001:db8::10");
constexpr std::uint16_t kAttackPort = 40000;

ConnEntry legit_entry(std::uint32_t i) {
  ConnEntry e;
  e.vaddr = kVip4;
  e.vport = 80;
  e.daddr = v4(0xcb00710b);  // 203.0.113.11
  e.dport = 8000;
  e.proto = IPPROTO_TCP;
  e.caddr = v4(0xc6336400 + (i >> 16));  // 198.51.100.x
  e.cport = static_cast<std::uint16_t>(i);
  return e;
}

// 2001:db8:bad:1::/64 with the given interface id.
IpAddress attacker(std::uint64_t iid) {
  static const IpAddress prefix = *IpAddress::parse("2001:db8:bad:1::");
  IpAddress a = prefix;
  for (int i = 0; i < 8; ++i) a.bytes[15 - i] = static_cast<std::uint8_t>(iid >> (8 * i));
  return a;
}

ConnEntry attack_entry(std::uint64_t iid) {
  ConnEntry e;
  e.caddr = attacker(iid);
  e.cport = kAttackPort;
  e.vaddr = kVip6;
  e.vport = 443;
  e.daddr = *IpAddress::parse("2001:db8:7::31");
  e.dport = 443;
  e.proto = IPPROTO_TCP;
  return e;
}

// The attacker's search: interface ids whose client-side key hashes (under
// the public legacy function) into slots [0, window) of a table of `slots`:
// slots / window tries per tuple.
std::vector<std::uint64_t> chosen_iids(std::size_t n, std::uint64_t slots, std::uint64_t window,
                                       double* seconds) {
  auto start = std::chrono::steady_clock::now();
  std::vector<std::uint64_t> out;
  LegacyHash h;
  ConnTupleWords t;
  ConnEntry e = attack_entry(0);
  std::memcpy(&t.w[2], e.vaddr.bytes.data(), 16);
  t.w[4] = (std::uint64_t{e.proto} << 32) | (std::uint64_t{e.cport} << 16) | e.vport;
  for (std::uint64_t iid = 1; out.size() < n; ++iid) {
    IpAddress a = attacker(iid);
    std::memcpy(&t.w[0], a.bytes.data(), 16);
    if ((h(t) & (slots - 1)) < window) out.push_back(iid);
  }
  *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

constexpr std::uint32_t kEntries = 1 << 20;  // vsd's default max_connections
constexpr std::size_t kAttackTuples = 10000;  // 1 % of the table
constexpr std::uint64_t kAttackWindow = 1024;  // 10x fewer slots than tuples: one run

struct Attack {
  std::vector<std::uint64_t> iids;
  double search_seconds = 0;
  static const Attack& get() {
    static Attack a = [] {
      Attack x;
      x.iids = chosen_iids(kAttackTuples, std::uint64_t{kEntries} * 4, kAttackWindow, &x.search_seconds);
      return x;
    }();
    return a;
  }
};

// A table as full as vsd lets it get: n entries. When `attacked`,
// kAttackTuples random ones have closed and the attacker's connections took
// their places, scattered over the entry array as in a director that has
// run a while (the free list is in the order connections ended).
template <class T>
struct Filled {
  Filled(std::uint32_t n, bool attacked) : table(make_table<T>(n)) {
    for (std::uint32_t i = 0; i < n; ++i) table->insert(legit_entry(i), 1000);
    if (!attacked) return;
    std::mt19937 rng(5);
    for (std::size_t closed = 0; closed < kAttackTuples;) {
      ConnEntry& e = table->at(rng() % n);
      if (e.caddr.is_v4()) {
        table->erase(e);
        e.caddr = IpAddress{};  // not picked twice
        ++closed;
      }
    }
    for (std::uint64_t iid : Attack::get().iids) table->insert(attack_entry(iid), 1000);
  }
  std::unique_ptr<T> table;
};

// One of each per hash, shared by the benchmarks (built on first use).
template <class T>
T& plain_table() {
  static Filled<T> f(kEntries, false);
  return *f.table;
}
template <class T>
T& attacked_table() {
  static Filled<T> f(kEntries, true);
  return *f.table;
}

template <class T>
void lookup_random(benchmark::State& state, T& table, std::uint32_t n) {
  std::mt19937 rng(1);
  std::vector<std::uint32_t> keys(1 << 16);
  for (auto& k : keys) k = rng() % n;
  std::size_t i = 0, hits = 0;
  for (auto _ : state) {
    std::uint32_t k = keys[i++ & 0xffff];
    auto h = table.find(IPPROTO_TCP, v4(0xc6336400 + (k >> 16)), static_cast<std::uint16_t>(k), kVip4, 80);
    hits += h.entry != nullptr;
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["hit_ratio"] = static_cast<double>(hits) / static_cast<double>(state.iterations());
  state.counters["bytes_per_entry"] = static_cast<double>(table.bytes_per_entry());
  state.counters["entries"] = table.size();
}

// Random lookups, 1 M entries: two cache misses per lookup dominate.
template <class T>
void BM_ConnLookup1M(benchmark::State& state) {
  lookup_random(state, plain_table<T>(), kEntries);
}
BENCHMARK(BM_ConnLookup1M<LegacyTable>)->Name("BM_ConnLookup1M/legacy");
BENCHMARK(BM_ConnLookup1M<ConnTable>)->Name("BM_ConnLookup1M/sip13");
BENCHMARK(BM_ConnLookup1M<Sip24Table>)->Name("BM_ConnLookup1M/sip24");

// Random lookups, 4096 entries (~450 KB, in cache): the hash's own cost.
template <class T>
void BM_ConnLookup4K(benchmark::State& state) {
  static Filled<T> f(4096, false);
  lookup_random(state, *f.table, 4096);
}
BENCHMARK(BM_ConnLookup4K<LegacyTable>)->Name("BM_ConnLookup4K/legacy");
BENCHMARK(BM_ConnLookup4K<ConnTable>)->Name("BM_ConnLookup4K/sip13");
BENCHMARK(BM_ConnLookup4K<Sip24Table>)->Name("BM_ConnLookup4K/sip24");

// The attacker's own packets: lookups of the chosen tuples.
template <class T>
void BM_ChosenTuples(benchmark::State& state) {
  T& table = attacked_table<T>();
  const auto& iids = Attack::get().iids;
  std::vector<IpAddress> clients;
  for (std::uint64_t iid : iids) clients.push_back(attacker(iid));
  std::size_t i = 0, hits = 0;
  for (auto _ : state) {
    const IpAddress& c = clients[i++ % clients.size()];
    auto h = table.find(IPPROTO_TCP, c, kAttackPort, kVip6, 443);
    hits += h.entry != nullptr;
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["hit_ratio"] = static_cast<double>(hits) / static_cast<double>(state.iterations());
  state.counters["search_s"] = Attack::get().search_seconds;
}
BENCHMARK(BM_ChosenTuples<LegacyTable>)->Name("BM_ChosenTuples/legacy");
BENCHMARK(BM_ChosenTuples<ConnTable>)->Name("BM_ChosenTuples/sip13");

// Everyone else's new connections: the first packet of each is a miss
// (clients from 198.18.0.0/16). In the attacked table, one whose key lands
// in the run walks to its end.
template <class T>
void new_connections(benchmark::State& state, T& table) {
  std::mt19937 rng(2);
  std::vector<std::uint32_t> keys(1 << 16);
  for (auto& k : keys) k = rng();
  std::size_t i = 0, hits = 0;
  for (auto _ : state) {
    std::uint32_t k = keys[i++ & 0xffff];
    auto h = table.find(IPPROTO_TCP, v4(0xc6120000 | (k >> 16)), static_cast<std::uint16_t>(k), kVip4, 80);
    hits += h.entry != nullptr;
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["hit_ratio"] = static_cast<double>(hits) / static_cast<double>(state.iterations());
}
template <class T>
void BM_NewConn(benchmark::State& state) {
  new_connections(state, plain_table<T>());
}
template <class T>
void BM_NewConnDuringAttack(benchmark::State& state) {
  new_connections(state, attacked_table<T>());
}
BENCHMARK(BM_NewConn<LegacyTable>)->Name("BM_NewConn/legacy");
BENCHMARK(BM_NewConn<ConnTable>)->Name("BM_NewConn/sip13");
BENCHMARK(BM_NewConnDuringAttack<LegacyTable>)->Name("BM_NewConnDuringAttack/legacy");
BENCHMARK(BM_NewConnDuringAttack<ConnTable>)->Name("BM_NewConnDuringAttack/sip13");

// Prints the runs as usual and keeps each one's CPU time per lookup for the
// summary of ratios at the end.
class Collector : public benchmark::ConsoleReporter {
 public:
  std::map<std::string, double> ns;
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs)
      if (r.run_type == Run::RT_Iteration && !r.error_occurred)
        ns[r.benchmark_name()] = r.GetAdjustedCPUTime() * 1e9 / benchmark::GetTimeUnitMultiplier(r.time_unit);
    ConsoleReporter::ReportRuns(runs);
  }
};

void summary(const std::map<std::string, double>& ns) {
  auto get = [&](const std::string& k) {
    auto it = ns.find(k);
    return it == ns.end() ? 0.0 : it->second;
  };
  auto line = [&](const char* what, const std::string& a, const std::string& b) {
    double x = get(a), y = get(b);
    if (x > 0 && y > 0) std::printf("  %-58s %10.2f\n", what, x / y);
  };
  std::printf("\nratios (CPU time per lookup):\n");
  line("1M random lookups: sip13 / legacy", "BM_ConnLookup1M/sip13", "BM_ConnLookup1M/legacy");
  line("1M random lookups: sip24 / legacy", "BM_ConnLookup1M/sip24", "BM_ConnLookup1M/legacy");
  line("4K (in cache) lookups: sip13 / legacy", "BM_ConnLookup4K/sip13", "BM_ConnLookup4K/legacy");
  line("4K (in cache) lookups: sip24 / legacy", "BM_ConnLookup4K/sip24", "BM_ConnLookup4K/legacy");
  line("chosen tuple / normal lookup, legacy (before)", "BM_ChosenTuples/legacy", "BM_ConnLookup1M/legacy");
  line("chosen tuple / normal lookup, sip13 (after)", "BM_ChosenTuples/sip13", "BM_ConnLookup1M/sip13");
  line("chosen tuple: legacy / sip13", "BM_ChosenTuples/legacy", "BM_ChosenTuples/sip13");
  line("new connections (misses): sip13 / legacy", "BM_NewConn/sip13", "BM_NewConn/legacy");
  line("others' new connections under attack / without, legacy", "BM_NewConnDuringAttack/legacy",
       "BM_NewConn/legacy");
  line("others' new connections under attack / without, sip13", "BM_NewConnDuringAttack/sip13",
       "BM_NewConn/sip13");
  if (get("BM_ChosenTuples/legacy") > 0)
    std::printf("  attack: %zu tuples from one /64 into %llu of %u slots, found in %.2f s\n",
                kAttackTuples, static_cast<unsigned long long>(kAttackWindow), kEntries * 4,
                Attack::get().search_seconds);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  Collector reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  summary(reporter.ns);
  return 0;
}
