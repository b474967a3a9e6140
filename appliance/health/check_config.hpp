// What one health check of one real server is: the kind of probe, its
// parameters and the rise/fall policy. Mirrors keepalived's checkers
// (TCP_CHECK, HTTP_GET, SSL_GET, UDP_CHECK, PING_CHECK, MISC_CHECK,
// DNS_CHECK, FILE_CHECK). A real server may have several; it is up while
// every one of them is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "appliance/health/digest.hpp"
#include "net/ip_address.hpp"

namespace vsd::health {

enum class CheckType : std::uint8_t { tcp, http, https, udp, icmp, misc, dns, file };
// What the daemon does with a failed real server: keepalived removes it by
// default; inhibit_on_failure (here "quiesce") keeps it with weight 0 so
// established connections drain.
enum class OnFailure : std::uint8_t { remove, quiesce };

const char* to_string(CheckType);  // "tcp", "http", "https", "udp", "icmp", "misc", "dns", "file"
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

// Who a script runs as: "NAME" or "NAME:GROUP" (GROUP defaults to NAME's
// primary group), resolved when the script starts. "root" runs it as root,
// which vsd never does unless told so.
struct RunAs {
  std::string user, group;

  static std::optional<RunAs> parse(std::string_view text, std::string* why = nullptr);
  std::string to_string() const;
  bool root() const { return user == "root" || user == "0"; }
  friend bool operator==(const RunAs&, const RunAs&) = default;
};

// HTTP status codes as ranges: [200, 299] is keepalived's "200-299".
struct StatusRange {
  int low = 200, high = 299;
  friend bool operator==(const StatusRange&, const StatusRange&) = default;
};
// Codes -> ranges of consecutive codes, and back; "200-299, 304".
std::vector<StatusRange> status_ranges(const std::vector<int>& codes);
std::string describe_status(const std::vector<int>& codes);  // empty: "2xx"

// One URL of an http/https check (keepalived's url block).
struct HttpUrl {
  std::string path = "/";
  std::vector<int> status;  // empty: 200..299
  std::optional<Digest> digest;
  std::string virtualhost;  // empty: the check's
  friend bool operator==(const HttpUrl&, const HttpUrl&) = default;
};

// DNS query types a dns check may ask (keepalived's DNS_CHECK types, PTR too).
enum class DnsType : std::uint16_t { a = 1, ns = 2, cname = 5, soa = 6, ptr = 12, mx = 15, txt = 16, aaaa = 28 };
const char* to_string(DnsType);
std::optional<DnsType> dns_type_from_string(std::string_view);  // any case

struct CheckConfig {
  CheckType type = CheckType::tcp;
  std::uint32_t interval_ms = 5000;  // between the starts of two checks
  // One whole check: connect, request and reply. It may exceed the interval:
  // the schedule then skips the slots the check overran.
  std::uint32_t timeout_ms = 3000;
  std::uint32_t rise = 2;            // consecutive passes to go up
  std::uint32_t fall = 3;            // consecutive failures to go down
  // keepalived's retry / delay_before_retry: a failed try is tried again up
  // to `retry` times, `delay_before_retry` apart, before the check counts as
  // failed (one failure for `fall`); the first passing try passes it.
  std::uint32_t retry = 0;
  std::uint32_t retry_delay_ms = 1000;
  ConnectTo connect_to;  // icmp uses only its address
  // http / https: one URL (path, status, digest), or several (urls, every
  // one must pass; then path/status/digest stay at their defaults).
  std::string path = "/";
  std::vector<int> status;  // accepted status codes; empty = 200..299 (keepalived's default)
  std::optional<Digest> digest;
  std::vector<HttpUrl> urls;
  std::string virtualhost;  // the Host header; empty: RIP:PORT
  // https: the TLS server name (SNI, and the name verified with tls_ca);
  // unset: the virtualhost when there is one; "": none.
  std::optional<std::string> sni;
  std::string tls_ca;    // verify the server's certificate with these CAs; empty: no verification
  std::string tls_cert;  // client certificate (PEM) and its key
  std::string tls_key;
  // udp: `payload` is sent, a reply starting with `expect` passes (empty: any
  // reply). Any bytes: TOML gives them as payload_hex / expect_hex.
  std::string payload;
  std::string expect;
  // misc: run by /bin/sh -c; exit code 0 passes. With `dynamic`
  // (keepalived's misc_dynamic): 0 up with its weight, 1 down, 2-255 up
  // with weight code - 2.
  std::string command;
  bool dynamic = false;
  std::optional<RunAs> user;  // who runs the command (a misc check must say)
  // dns: the query, and an answer to find among the replies' (empty: any
  // reply with RCODE NOERROR passes, as keepalived's DNS_CHECK).
  DnsType query_type = DnsType::soa;
  std::string query_name = ".";
  std::string answer;
  // file (keepalived's FILE_CHECK / track_file): the file holds an integer
  // V (missing or empty: 0). factor 0: V != 0 fails the check (reverse: V
  // == 0). Otherwise the server's weight becomes its configured weight + V
  // x factor (x -1 with reverse), at least 0 (drained); at or below
  // -65535 the check fails.
  std::string file;
  std::int32_t factor = 0;
  bool reverse = false;
  std::uint32_t warmup_ms = 0;  // random 0..warmup delay before the first check
  bool alpha = false;           // start down until a check passes (keepalived's alpha)
  // The real server's, not one check's: with several checks they come from
  // the first one.
  OnFailure on_failure = OnFailure::remove;
  std::uint32_t slow_start_ms = 0;  // weight ramp after recovery, 0 = none
  std::string notify;               // command run on every transition, empty = none
  std::optional<RunAs> notify_user;  // who runs it (required with notify)

  friend bool operator==(const CheckConfig&, const CheckConfig&) = default;
};

// Where a probe goes for a real server: connect_to overrides the real
// server's address and/or port.
Endpoint probe_destination(const Endpoint& real, const ConnectTo& connect_to);

// The URLs an http/https check fetches: `urls`, or the one of path, status
// and digest.
std::vector<HttpUrl> check_urls(const CheckConfig& check);

// How many requests one run of the check makes (each gets `timeout`).
std::uint32_t requests_per_check(const CheckConfig& check);

// The keys that belong to the real server rather than to one of its checks.
inline bool server_keys_at_default(const CheckConfig& c) {
  return c.on_failure == OnFailure::remove && c.slow_start_ms == 0 && c.notify.empty() && !c.notify_user;
}

}  // namespace vsd::health
