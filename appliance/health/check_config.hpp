// What one health check of one real server is: the kind of probe, its
// parameters and the rise/fall policy. Mirrors keepalived's checkers
// (TCP_CHECK, HTTP_GET, SSL_GET, UDP_CHECK, PING_CHECK, MISC_CHECK).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "appliance/health/digest.hpp"
#include "net/ip_address.hpp"

namespace vsd::health {

enum class CheckType : std::uint8_t { tcp, http, https, udp, icmp, misc };
// What the daemon does with a failed real server: keepalived removes it by
// default; inhibit_on_failure (here "quiesce") keeps it with weight 0 so
// established connections drain.
enum class OnFailure : std::uint8_t { remove, quiesce };

const char* to_string(CheckType);  // "tcp", "http", "https", "udp", "icmp", "misc"
const char* to_string(OnFailure);  // "remove", "quiesce"
std::optional<CheckType> check_type_from_string(std::string_view);

// Where the probe goes instead of the real server (keepalived's connect_ip /
// connect_port): either half may be set alone.
struct ConnectTo {
  std::optional<IpAddress> address;
  std::optional<std::uint16_t> port;

  // "203.0.113.5:8080", "[2001:db8::5]:8080", "203.0.113.5", "2001:db8::5",
  // "[2001:db8::5]" or ":8080".
  static std::optional<ConnectTo> parse(std::string_view text, std::string* why = nullptr);
  std::string to_string() const;
  bool empty() const { return !address && !port; }
  friend bool operator==(const ConnectTo&, const ConnectTo&) = default;
};

struct CheckConfig {
  CheckType type = CheckType::tcp;
  std::uint32_t interval_ms = 5000;  // between the starts of two checks
  // One whole check: connect, request and reply. It may exceed the interval:
  // the schedule then skips the slots the check overran.
  std::uint32_t timeout_ms = 3000;
  std::uint32_t rise = 2;            // consecutive passes to go up
  std::uint32_t fall = 3;            // consecutive failures to go down
  ConnectTo connect_to;  // icmp uses only its address
  // http / https
  std::string path = "/";
  std::vector<int> status;  // accepted status codes; empty = 200..299 (keepalived's default)
  std::optional<Digest> digest;
  // udp: `payload` is sent, a reply starting with `expect` passes (empty: any reply)
  std::string payload;
  std::string expect;
  // misc: run by /bin/sh -c; exit code 0 passes
  std::string command;
  std::uint32_t warmup_ms = 0;  // random 0..warmup delay before the first check
  bool alpha = false;           // start down until a check passes (keepalived's alpha)
  OnFailure on_failure = OnFailure::remove;
  std::uint32_t slow_start_ms = 0;  // weight ramp after recovery, 0 = none
  std::string notify;               // command run on every transition, empty = none

  friend bool operator==(const CheckConfig&, const CheckConfig&) = default;
};

// Where a probe goes for a real server: connect_to overrides the real
// server's address and/or port.
Endpoint probe_destination(const Endpoint& real, const ConnectTo& connect_to);

}  // namespace vsd::health
