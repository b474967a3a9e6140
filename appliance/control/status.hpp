// The daemon's state as the control protocol carries it: typed structs,
// serialized to and from JSON in one place (status_json.cpp). The daemon
// fills them (daemon/status.cpp); vsadm renders them in ipvsadm's layouts,
// the metrics endpoint in Prometheus's, and `vsadm --json` prints the JSON.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "appliance/types.hpp"
#include "net/ip_address.hpp"

namespace vsd::control {

// ipvsadm --stats columns, and --rate's (IPVS's 2-second estimator).
struct Traffic {
  std::uint64_t conns = 0, inpkts = 0, outpkts = 0, inbytes = 0, outbytes = 0;
};
struct Rates {
  std::uint64_t cps = 0, inpps = 0, outpps = 0, inbps = 0, outbps = 0;
};

// Their fields by name, for the JSON and the metrics.
template <class T>
struct Field {
  const char* name;
  std::uint64_t T::*value;
};
inline constexpr Field<Traffic> kTrafficFields[] = {{"conns", &Traffic::conns},
                                                    {"inpkts", &Traffic::inpkts},
                                                    {"outpkts", &Traffic::outpkts},
                                                    {"inbytes", &Traffic::inbytes},
                                                    {"outbytes", &Traffic::outbytes}};
inline constexpr Field<Rates> kRateFields[] = {{"cps", &Rates::cps},
                                               {"inpps", &Rates::inpps},
                                               {"outpps", &Rates::outpps},
                                               {"inbps", &Rates::inbps},
                                               {"outbps", &Rates::outbps}};

enum class Health : std::uint8_t { unchecked, up, down };

struct RealStatus {
  // The real port in use; 0 only when the service's port is 0 (the
  // packet's port), or for a fwmark service's real server without one.
  Endpoint address;
  ForwardMethod forward = ForwardMethod::nat;
  std::uint32_t weight = 0, upper_threshold = 0, lower_threshold = 0;
  std::uint64_t active_conns = 0, inactive_conns = 0, persistent_conns = 0;
  bool overloaded = false;
  Health health = Health::unchecked;
  // Taken out of service by its failing check (on_failure = "remove"):
  // listed with weight 0, as keepalived operators expect to still see it.
  bool removed = false;
  Traffic stats;
  Rates rates;
};

struct ServiceStatus {
  Protocol protocol = Protocol::tcp;
  Endpoint address;          // unset for fwmark services
  std::uint32_t fwmark = 0;  // ipvsadm -f
  bool ipv6 = false;         // the service's family (fwmark: `-f N -6`)
  std::string scheduler;
  // Scheduler flags (-b) as ipvsadm names them for the scheduler, and
  // "ops" for one-packet scheduling (-o).
  std::vector<std::string> flags;
  std::uint32_t persistent = 0;  // seconds, 0 = not persistent
  std::uint8_t netmask = 0;      // persistence prefix; 0 = the default /32, /128
  std::optional<Endpoint> sorry_server;
  Traffic stats;
  Rates rates;
  std::vector<RealStatus> reals;

  bool is_fwmark() const { return fwmark != 0; }
};

// The engine's verdict counters (README "Packet verdicts"), one field per
// counter; kCounterFields names them for JSON and the metrics.
struct Counters {
  std::uint64_t packets = 0, unsupported = 0, no_connection = 0, no_destination = 0,
                table_full = 0, key_collision = 0, reply_no_connection = 0, conns_created = 0,
                conns_expired = 0, templates_created = 0, ops_datagrams = 0, nodest_flushed = 0,
                tunneled = 0, direct_routed = 0, tun_too_big = 0, dr_too_big = 0,
                tun_ttl_expired = 0, tun_failed = 0, no_route = 0, icmp_translated = 0,
                icmp_passed = 0, transmit_sent = 0, transmit_errors = 0, kernel_decided = 0,
                kernel_adopted = 0, sloppy_adopted = 0;
  // Flood defences (README "Flood defences"): embryonic entries evicted,
  // new flows dropped by drop_packet and at a service's table_share,
  // embryonic entries ended by secure_tcp's short timeout.
  std::uint64_t drop_entry = 0, drop_packet = 0, share_full = 0, secure_tcp_expired = 0;
  std::uint64_t icmp_rate_limited = 0;
  // Malformed packets by reason ("fragment", "truncated_ip", ...).
  std::vector<std::pair<std::string, std::uint64_t>> malformed;
};
extern const Field<Counters> kCounterFields[31];

// One NFQUEUE socket's counters, and the kernel's own for that queue.
struct QueueStatus {
  std::uint16_t queue = 0;
  std::uint64_t received = 0, batches = 0, enobufs = 0, recv_errors = 0, verdict_errors = 0,
                send_errors = 0, truncated = 0;
  std::uint64_t kernel_queue_dropped = 0, kernel_user_dropped = 0, kernel_waiting = 0;
};
inline constexpr Field<QueueStatus> kQueueFields[] = {
    {"received", &QueueStatus::received},
    {"batches", &QueueStatus::batches},
    {"enobufs", &QueueStatus::enobufs},
    {"recv_errors", &QueueStatus::recv_errors},
    {"verdict_errors", &QueueStatus::verdict_errors},
    {"send_errors", &QueueStatus::send_errors},
    {"truncated", &QueueStatus::truncated},
    {"kernel_queue_dropped", &QueueStatus::kernel_queue_dropped},
    {"kernel_user_dropped", &QueueStatus::kernel_user_dropped},
    {"kernel_waiting", &QueueStatus::kernel_waiting}};

struct Timeouts {
  std::uint32_t tcp = 900, tcpfin = 120, udp = 300;  // ipvsadm --set
};

// ipvsadm -L --daemon: one of the pair's sync roles (README "A director
// pair"). vsd sends to the peer director over the sync link rather than to
// a multicast group; mcast_interface names that link's interface.
struct SyncDaemonStatus {
  std::string state;  // "master" | "backup"
  std::string mcast_interface;
  std::uint32_t syncid = 0, port = 0;
  std::string peer;    // the other director's address on the sync link
  std::string reason;  // why this node took the role (--start-daemon --reason)
  std::uint64_t sent_entries = 0, received_entries = 0;
};

struct Status {
  std::string version;
  std::string queue_form;
  std::uint64_t uptime_s = 0;
  std::uint32_t connections = 0, max_connections = 0;
  Counters counters;
  std::vector<QueueStatus> queues;
  Timeouts timeouts;
  std::vector<ServiceStatus> services;
  std::vector<SyncDaemonStatus> sync_daemons;
  // The health checkers' own detail per checked real server (state, last
  // reason, counts): shown by `vsadm --json`, not by any listing.
  nlohmann::json health = nlohmann::json::array();
};

// ipvsadm -L -c: a connection or persistence template.
struct ConnectionStatus {
  std::uint8_t protocol = 6;  // 6, 17; 0 for a fwmark service's template ("IP")
  Endpoint client, virtual_address, real;
  std::string state;          // IPVS's name: ESTABLISHED, SYN_RECV, ..., UDP; NONE for templates
  std::uint32_t expires_s = 0;
  bool is_template = false;
};

// JSON, both ways. Reading is lenient as a listing should be: an absent
// field takes its default, so an older daemon's reply still renders.
nlohmann::json to_json(const Status& status);
Status status_from_json(const nlohmann::json& j);
nlohmann::json to_json(const ConnectionStatus& connection);
// to_json(connection).dump() appended to `out`, without building the JSON
// value (a listing streams millions of them): the same text, byte for byte.
void append_json(std::string& out, const ConnectionStatus& connection);
nlohmann::json to_json(const std::vector<ConnectionStatus>& connections);
std::vector<ConnectionStatus> connections_from_json(const nlohmann::json& j);

const char* to_string(Health health);  // "unchecked" / "up" / "down"

}  // namespace vsd::control
