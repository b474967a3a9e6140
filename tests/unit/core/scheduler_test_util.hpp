// What the scheduler tests share: real servers 203.0.113.11, .12, ... with
// given weights, and reproducible client flows for the hashing schedulers.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "appliance/core/scheduler.hpp"

namespace vsd::test {

inline std::vector<DestView> make_dests(const std::vector<std::uint32_t>& weights, std::uint16_t port) {
  auto svc = std::make_shared<ServiceState>();
  std::vector<DestView> out;
  int last = 11;
  for (auto w : weights) {
    DestView d;
    d.addr = *Endpoint::parse("203.0.113." + std::to_string(last++) + ":" + std::to_string(port));
    d.weight = w;
    d.state = std::make_shared<DestState>(svc);
    out.push_back(std::move(d));
  }
  return out;
}

inline IpAddress v4(std::uint32_t x) {
  std::uint8_t b[4] = {static_cast<std::uint8_t>(x >> 24), static_cast<std::uint8_t>(x >> 16),
                       static_cast<std::uint8_t>(x >> 8), static_cast<std::uint8_t>(x)};
  return IpAddress::v4(b);
}

// Clients spread like real ones: random addresses and ports, fixed seed.
inline std::vector<PacketView> flows(std::size_t n) {
  std::mt19937 rng(2024);
  std::vector<PacketView> out(n);
  for (auto& p : out) {
    p.src = v4(rng());
    p.sport = static_cast<std::uint16_t>(rng());
    p.dst = v4(rng());
  }
  return out;
}

// How many of `pkts` each server index (-1: none) gets.
inline std::map<int, int> histogram(Scheduler& s, std::span<const DestView> d,
                                    const std::vector<PacketView>& pkts) {
  std::map<int, int> h;
  for (const auto& p : pkts) ++h[s.schedule(d, p)];
  return h;
}

}  // namespace vsd::test
