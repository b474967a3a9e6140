// Reads what node_plan needs to know about this node from the kernel: its
// addresses and routes (rtnetlink, arp/rtnl) and its sysctls (/proc/sys).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "appliance/daemon/node_plan.hpp"

namespace vsd {

// False with *error when the addresses cannot be read (no rtnetlink).
bool gather_node_facts(NodeFacts* out, std::string* error, std::string proc_sys = "/proc/sys");

// MemAvailable of /proc/meminfo in bytes; nullopt when it cannot be read.
std::optional<std::uint64_t> parse_mem_available(std::string_view meminfo);
std::optional<std::uint64_t> memory_available_bytes(const std::string& path = "/proc/meminfo");

}  // namespace vsd
