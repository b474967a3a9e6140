#include "appliance/daemon/metrics.hpp"
#include "appliance/daemon/metrics_server.hpp"

#include <gtest/gtest.h>

// g++ 12 with -fsanitize (the ASan build) reports a false
// -Wmaybe-uninitialized inside Beast 1.74's response parser.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#pragma GCC diagnostic pop
#include <sys/socket.h>

#include <thread>

namespace vsd {
namespace {

using nlohmann::json;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// A small status, as JSON the way the control socket carries it.
const char* kStatus = R"({
  "version": "0.3.0", "queue_form": "nfqueue", "uptime_s": 42,
  "connections": 5, "max_connections": 4096,
  "counters": {"packets": 100, "malformed": {"fragment": 2, "truncated_ip": 1},
               "unsupported": 3, "no_connection": 4, "no_destination": 0, "table_full": 0,
               "key_collision": 1, "reply_no_connection": 0, "conns_created": 9,
               "conns_expired": 4, "templates_created": 0, "ops_datagrams": 0, "nodest_flushed": 0,
               "tunneled": 20, "direct_routed": 30, "tun_too_big": 2, "dr_too_big": 1, "tun_ttl_expired": 0,
               "tun_failed": 0, "no_route": 5, "icmp_translated": 6, "icmp_passed": 7,
               "transmit_sent": 52, "transmit_errors": 1, "drop_entry": 11, "drop_packet": 12,
               "share_full": 13, "secure_tcp_expired": 14},
  "queues": [{"queue": 0, "received": 100, "batches": 10, "enobufs": 1, "recv_errors": 0,
              "verdict_errors": 2, "send_errors": 0, "truncated": 0,
              "kernel_queue_dropped": 3, "kernel_user_dropped": 4, "kernel_waiting": 0}],
  "services": [
    {"protocol": "tcp", "address": "192.0.2.10:80",
     "stats": {"conns": 9, "inpkts": 60, "outpkts": 40, "inbytes": 6000, "outbytes": 90000},
     "rates": {"cps": 1, "inpps": 6, "outpps": 4, "inbps": 600, "outbps": 9000},
     "reals": [{"address": "203.0.113.11:8000", "forward": "nat", "weight": 3,
                "active_conns": 2, "inactive_conns": 1, "persistent_conns": 0, "overloaded": false,
                "health": "up",
                "stats": {"conns": 9, "inpkts": 60, "outpkts": 40, "inbytes": 6000, "outbytes": 90000},
                "rates": {"cps": 1, "inpps": 6, "outpps": 4, "inbps": 600, "outbps": 9000}}]},
    {"fwmark": 7, "ipv6": false, "protocol": "tcp",
     "reals": [{"address": "[2001:db8::11]:0", "forward": "dr", "weight": 0,
                "active_conns": 0, "inactive_conns": 0, "persistent_conns": 1, "overloaded": true,
                "health": "down"}]}
  ]})";

const char* kGolden = R"(# HELP vsd_info vsd version and kernel queue form, as labels.
# TYPE vsd_info gauge
vsd_info{version="0.3.0",queue_form="nfqueue"} 1
# HELP vsd_uptime_seconds Seconds since vsd started.
# TYPE vsd_uptime_seconds gauge
vsd_uptime_seconds 42
# HELP vsd_connections Entries in the connection table (templates included).
# TYPE vsd_connections gauge
vsd_connections 5
# HELP vsd_connections_max Capacity of the connection table.
# TYPE vsd_connections_max gauge
vsd_connections_max 4096
# HELP vsd_packets_total Packets the engine was given.
# TYPE vsd_packets_total counter
vsd_packets_total 100
# HELP vsd_malformed_packets_total Packets dropped as malformed, by reason.
# TYPE vsd_malformed_packets_total counter
vsd_malformed_packets_total{reason="fragment"} 2
vsd_malformed_packets_total{reason="truncated_ip"} 1
# HELP vsd_dropped_packets_total Packets dropped by the engine, by reason (malformed ones excepted).
# TYPE vsd_dropped_packets_total counter
vsd_dropped_packets_total{reason="no_connection"} 4
vsd_dropped_packets_total{reason="no_destination"} 0
vsd_dropped_packets_total{reason="table_full"} 0
vsd_dropped_packets_total{reason="key_collision"} 1
vsd_dropped_packets_total{reason="no_route"} 5
vsd_dropped_packets_total{reason="tun_too_big"} 2
vsd_dropped_packets_total{reason="dr_too_big"} 1
vsd_dropped_packets_total{reason="tun_ttl_expired"} 0
vsd_dropped_packets_total{reason="tun_failed"} 0
vsd_dropped_packets_total{reason="drop_packet"} 12
vsd_dropped_packets_total{reason="share_full"} 13
# HELP vsd_unsupported_packets_total Packets of a protocol vsd does not handle (not TCP, UDP, ICMP, ICMPv6).
# TYPE vsd_unsupported_packets_total counter
vsd_unsupported_packets_total 3
# HELP vsd_reply_no_connection_packets_total Packets from a real server matching no connection.
# TYPE vsd_reply_no_connection_packets_total counter
vsd_reply_no_connection_packets_total 0
# HELP vsd_connections_created_total Connection entries created.
# TYPE vsd_connections_created_total counter
vsd_connections_created_total 9
# HELP vsd_connections_expired_total Connection entries expired.
# TYPE vsd_connections_expired_total counter
vsd_connections_expired_total 4
# HELP vsd_templates_created_total Persistence templates created.
# TYPE vsd_templates_created_total counter
vsd_templates_created_total 0
# HELP vsd_ops_datagrams_total Datagrams scheduled one-packet (ops).
# TYPE vsd_ops_datagrams_total counter
vsd_ops_datagrams_total 0
# HELP vsd_nodest_flushed_total Connections expired because their real server went away (expire_nodest_conn).
# TYPE vsd_nodest_flushed_total counter
vsd_nodest_flushed_total 0
# HELP vsd_tunneled_packets_total Packets sent IP-in-IP to a real server (TUN).
# TYPE vsd_tunneled_packets_total counter
vsd_tunneled_packets_total 20
# HELP vsd_direct_routed_packets_total Packets sent unchanged to a real server's MAC (DR).
# TYPE vsd_direct_routed_packets_total counter
vsd_direct_routed_packets_total 30
# HELP vsd_icmp_translated_packets_total ICMP errors about a connection passed to its other side.
# TYPE vsd_icmp_translated_packets_total counter
vsd_icmp_translated_packets_total 6
# HELP vsd_icmp_passed_packets_total Other ICMP packets accepted untouched.
# TYPE vsd_icmp_passed_packets_total counter
vsd_icmp_passed_packets_total 7
# HELP vsd_transmit_sent_packets_total Packets vsd sent itself (TUN, DR, ICMP answers) instead of by queue verdict.
# TYPE vsd_transmit_sent_packets_total counter
vsd_transmit_sent_packets_total 52
# HELP vsd_transmit_errors_total Packets vsd failed to send itself (see the log for the errno).
# TYPE vsd_transmit_errors_total counter
vsd_transmit_errors_total 1
# HELP vsd_kernel_decided_packets_total Packets answered with a decision for the kernel fast path (the kernel carries the rest).
# TYPE vsd_kernel_decided_packets_total counter
vsd_kernel_decided_packets_total 0
# HELP vsd_kernel_adopted_flows_total Flows learnt from the kernel (after a restart, lost events, or a peer's sync).
# TYPE vsd_kernel_adopted_flows_total counter
vsd_kernel_adopted_flows_total 0
# HELP vsd_sloppy_adopted_flows_total Mid-stream TCP flows scheduled by sloppy_tcp (moved here from another director).
# TYPE vsd_sloppy_adopted_flows_total counter
vsd_sloppy_adopted_flows_total 0
# HELP vsd_defence_evicted_entries_total Embryonic connection entries evicted by drop_entry (flood defence).
# TYPE vsd_defence_evicted_entries_total counter
vsd_defence_evicted_entries_total 11
# HELP vsd_defence_secure_tcp_expired_total Embryonic entries ended by secure_tcp's short SYN_RECV/SYNACK timeout (flood defence).
# TYPE vsd_defence_secure_tcp_expired_total counter
vsd_defence_secure_tcp_expired_total 14
# HELP vsd_icmp_rate_limited_total ICMP answers vsd did not send: over 1000 per second (burst 50).
# TYPE vsd_icmp_rate_limited_total counter
vsd_icmp_rate_limited_total 0
# HELP vsd_queue_received_packets_total Packets read from the queue.
# TYPE vsd_queue_received_packets_total counter
vsd_queue_received_packets_total{queue="0"} 100
# HELP vsd_queue_batches_total Receive batches read from the queue.
# TYPE vsd_queue_batches_total counter
vsd_queue_batches_total{queue="0"} 10
# HELP vsd_queue_enobufs_total ENOBUFS on the queue socket: the kernel dropped packets for want of buffer.
# TYPE vsd_queue_enobufs_total counter
vsd_queue_enobufs_total{queue="0"} 1
# HELP vsd_queue_recv_errors_total Receive errors on the queue socket.
# TYPE vsd_queue_recv_errors_total counter
vsd_queue_recv_errors_total{queue="0"} 0
# HELP vsd_queue_verdict_errors_total Verdicts the kernel refused.
# TYPE vsd_queue_verdict_errors_total counter
vsd_queue_verdict_errors_total{queue="0"} 2
# HELP vsd_queue_send_errors_total Send errors on the queue socket.
# TYPE vsd_queue_send_errors_total counter
vsd_queue_send_errors_total{queue="0"} 0
# HELP vsd_queue_truncated_packets_total Packets the kernel copied only in part.
# TYPE vsd_queue_truncated_packets_total counter
vsd_queue_truncated_packets_total{queue="0"} 0
# HELP vsd_queue_kernel_queue_dropped_total Packets the kernel dropped because the queue was full.
# TYPE vsd_queue_kernel_queue_dropped_total counter
vsd_queue_kernel_queue_dropped_total{queue="0"} 3
# HELP vsd_queue_kernel_user_dropped_total Packets the kernel failed to send to vsd (netlink buffer full).
# TYPE vsd_queue_kernel_user_dropped_total counter
vsd_queue_kernel_user_dropped_total{queue="0"} 4
# HELP vsd_queue_kernel_waiting_packets Packets waiting in the kernel for a verdict.
# TYPE vsd_queue_kernel_waiting_packets gauge
vsd_queue_kernel_waiting_packets{queue="0"} 0
# HELP vsd_service_connections_total Connections scheduled. Per virtual service.
# TYPE vsd_service_connections_total counter
vsd_service_connections_total{service="TCP 192.0.2.10:80",local_address="192.0.2.10",local_port="80",proto="TCP",local_mark=""} 9
vsd_service_connections_total{service="FWM 7",local_address="",local_port="0",proto="FWM",local_mark="00000007"} 0
# HELP vsd_service_in_packets_total Packets from clients. Per virtual service.
# TYPE vsd_service_in_packets_total counter
vsd_service_in_packets_total{service="TCP 192.0.2.10:80",local_address="192.0.2.10",local_port="80",proto="TCP",local_mark=""} 60
vsd_service_in_packets_total{service="FWM 7",local_address="",local_port="0",proto="FWM",local_mark="00000007"} 0
# HELP vsd_service_out_packets_total Packets to clients. Per virtual service.
# TYPE vsd_service_out_packets_total counter
vsd_service_out_packets_total{service="TCP 192.0.2.10:80",local_address="192.0.2.10",local_port="80",proto="TCP",local_mark=""} 40
vsd_service_out_packets_total{service="FWM 7",local_address="",local_port="0",proto="FWM",local_mark="00000007"} 0
# HELP vsd_service_in_bytes_total Bytes from clients. Per virtual service.
# TYPE vsd_service_in_bytes_total counter
vsd_service_in_bytes_total{service="TCP 192.0.2.10:80",local_address="192.0.2.10",local_port="80",proto="TCP",local_mark=""} 6000
vsd_service_in_bytes_total{service="FWM 7",local_address="",local_port="0",proto="FWM",local_mark="00000007"} 0
# HELP vsd_service_out_bytes_total Bytes to clients. Per virtual service.
# TYPE vsd_service_out_bytes_total counter
vsd_service_out_bytes_total{service="TCP 192.0.2.10:80",local_address="192.0.2.10",local_port="80",proto="TCP",local_mark=""} 90000
vsd_service_out_bytes_total{service="FWM 7",local_address="",local_port="0",proto="FWM",local_mark="00000007"} 0
# HELP vsd_service_connections_per_second Connections per second (IPVS 2-second estimator). Per virtual service.
# TYPE vsd_service_connections_per_second gauge
vsd_service_connections_per_second{service="TCP 192.0.2.10:80",local_address="192.0.2.10",local_port="80",proto="TCP",local_mark=""} 1
vsd_service_connections_per_second{service="FWM 7",local_address="",local_port="0",proto="FWM",local_mark="00000007"} 0
# HELP vsd_service_in_packets_per_second Packets per second from clients. Per virtual service.
# TYPE vsd_service_in_packets_per_second gauge
vsd_service_in_packets_per_second{service="TCP 192.0.2.10:80",local_address="192.0.2.10",local_port="80",proto="TCP",local_mark=""} 6
vsd_service_in_packets_per_second{service="FWM 7",local_address="",local_port="0",proto="FWM",local_mark="00000007"} 0
# HELP vsd_service_out_packets_per_second Packets per second to clients. Per virtual service.
# TYPE vsd_service_out_packets_per_second gauge
vsd_service_out_packets_per_second{service="TCP 192.0.2.10:80",local_address="192.0.2.10",local_port="80",proto="TCP",local_mark=""} 4
vsd_service_out_packets_per_second{service="FWM 7",local_address="",local_port="0",proto="FWM",local_mark="00000007"} 0
# HELP vsd_service_in_bytes_per_second Bytes per second from clients. Per virtual service.
# TYPE vsd_service_in_bytes_per_second gauge
vsd_service_in_bytes_per_second{service="TCP 192.0.2.10:80",local_address="192.0.2.10",local_port="80",proto="TCP",local_mark=""} 600
vsd_service_in_bytes_per_second{service="FWM 7",local_address="",local_port="0",proto="FWM",local_mark="00000007"} 0
# HELP vsd_service_out_bytes_per_second Bytes per second to clients. Per virtual service.
# TYPE vsd_service_out_bytes_per_second gauge
vsd_service_out_bytes_per_second{service="TCP 192.0.2.10:80",local_address="192.0.2.10",local_port="80",proto="TCP",local_mark=""} 9000
vsd_service_out_bytes_per_second{service="FWM 7",local_address="",local_port="0",proto="FWM",local_mark="00000007"} 0
# HELP vsd_real_connections_total Connections scheduled. Per real server.
# TYPE vsd_real_connections_total counter
vsd_real_connections_total{service="TCP 192.0.2.10:80",real="203.0.113.11:8000",forward="nat",local_address="192.0.2.10",local_port="80",remote_address="203.0.113.11",remote_port="8000",proto="TCP",local_mark=""} 9
vsd_real_connections_total{service="FWM 7",real="[2001:db8::11]:0",forward="dr",local_address="",local_port="0",remote_address="2001:db8::11",remote_port="0",proto="FWM",local_mark="00000007"} 0
# HELP vsd_real_in_packets_total Packets from clients. Per real server.
# TYPE vsd_real_in_packets_total counter
vsd_real_in_packets_total{service="TCP 192.0.2.10:80",real="203.0.113.11:8000",forward="nat",local_address="192.0.2.10",local_port="80",remote_address="203.0.113.11",remote_port="8000",proto="TCP",local_mark=""} 60
vsd_real_in_packets_total{service="FWM 7",real="[2001:db8::11]:0",forward="dr",local_address="",local_port="0",remote_address="2001:db8::11",remote_port="0",proto="FWM",local_mark="00000007"} 0
# HELP vsd_real_out_packets_total Packets to clients. Per real server.
# TYPE vsd_real_out_packets_total counter
vsd_real_out_packets_total{service="TCP 192.0.2.10:80",real="203.0.113.11:8000",forward="nat",local_address="192.0.2.10",local_port="80",remote_address="203.0.113.11",remote_port="8000",proto="TCP",local_mark=""} 40
vsd_real_out_packets_total{service="FWM 7",real="[2001:db8::11]:0",forward="dr",local_address="",local_port="0",remote_address="2001:db8::11",remote_port="0",proto="FWM",local_mark="00000007"} 0
# HELP vsd_real_in_bytes_total Bytes from clients. Per real server.
# TYPE vsd_real_in_bytes_total counter
vsd_real_in_bytes_total{service="TCP 192.0.2.10:80",real="203.0.113.11:8000",forward="nat",local_address="192.0.2.10",local_port="80",remote_address="203.0.113.11",remote_port="8000",proto="TCP",local_mark=""} 6000
vsd_real_in_bytes_total{service="FWM 7",real="[2001:db8::11]:0",forward="dr",local_address="",local_port="0",remote_address="2001:db8::11",remote_port="0",proto="FWM",local_mark="00000007"} 0
# HELP vsd_real_out_bytes_total Bytes to clients. Per real server.
# TYPE vsd_real_out_bytes_total counter
vsd_real_out_bytes_total{service="TCP 192.0.2.10:80",real="203.0.113.11:8000",forward="nat",local_address="192.0.2.10",local_port="80",remote_address="203.0.113.11",remote_port="8000",proto="TCP",local_mark=""} 90000
vsd_real_out_bytes_total{service="FWM 7",real="[2001:db8::11]:0",forward="dr",local_address="",local_port="0",remote_address="2001:db8::11",remote_port="0",proto="FWM",local_mark="00000007"} 0
# HELP vsd_real_connections_per_second Connections per second (IPVS 2-second estimator). Per real server.
# TYPE vsd_real_connections_per_second gauge
vsd_real_connections_per_second{service="TCP 192.0.2.10:80",real="203.0.113.11:8000",forward="nat",local_address="192.0.2.10",local_port="80",remote_address="203.0.113.11",remote_port="8000",proto="TCP",local_mark=""} 1
vsd_real_connections_per_second{service="FWM 7",real="[2001:db8::11]:0",forward="dr",local_address="",local_port="0",remote_address="2001:db8::11",remote_port="0",proto="FWM",local_mark="00000007"} 0
# HELP vsd_real_in_packets_per_second Packets per second from clients. Per real server.
# TYPE vsd_real_in_packets_per_second gauge
vsd_real_in_packets_per_second{service="TCP 192.0.2.10:80",real="203.0.113.11:8000",forward="nat",local_address="192.0.2.10",local_port="80",remote_address="203.0.113.11",remote_port="8000",proto="TCP",local_mark=""} 6
vsd_real_in_packets_per_second{service="FWM 7",real="[2001:db8::11]:0",forward="dr",local_address="",local_port="0",remote_address="2001:db8::11",remote_port="0",proto="FWM",local_mark="00000007"} 0
# HELP vsd_real_out_packets_per_second Packets per second to clients. Per real server.
# TYPE vsd_real_out_packets_per_second gauge
vsd_real_out_packets_per_second{service="TCP 192.0.2.10:80",real="203.0.113.11:8000",forward="nat",local_address="192.0.2.10",local_port="80",remote_address="203.0.113.11",remote_port="8000",proto="TCP",local_mark=""} 4
vsd_real_out_packets_per_second{service="FWM 7",real="[2001:db8::11]:0",forward="dr",local_address="",local_port="0",remote_address="2001:db8::11",remote_port="0",proto="FWM",local_mark="00000007"} 0
# HELP vsd_real_in_bytes_per_second Bytes per second from clients. Per real server.
# TYPE vsd_real_in_bytes_per_second gauge
vsd_real_in_bytes_per_second{service="TCP 192.0.2.10:80",real="203.0.113.11:8000",forward="nat",local_address="192.0.2.10",local_port="80",remote_address="203.0.113.11",remote_port="8000",proto="TCP",local_mark=""} 600
vsd_real_in_bytes_per_second{service="FWM 7",real="[2001:db8::11]:0",forward="dr",local_address="",local_port="0",remote_address="2001:db8::11",remote_port="0",proto="FWM",local_mark="00000007"} 0
# HELP vsd_real_out_bytes_per_second Bytes per second to clients. Per real server.
# TYPE vsd_real_out_bytes_per_second gauge
vsd_real_out_bytes_per_second{service="TCP 192.0.2.10:80",real="203.0.113.11:8000",forward="nat",local_address="192.0.2.10",local_port="80",remote_address="203.0.113.11",remote_port="8000",proto="TCP",local_mark=""} 9000
vsd_real_out_bytes_per_second{service="FWM 7",real="[2001:db8::11]:0",forward="dr",local_address="",local_port="0",remote_address="2001:db8::11",remote_port="0",proto="FWM",local_mark="00000007"} 0
# HELP vsd_real_active_connections Active (established TCP) connections.
# TYPE vsd_real_active_connections gauge
vsd_real_active_connections{service="TCP 192.0.2.10:80",real="203.0.113.11:8000",forward="nat",local_address="192.0.2.10",local_port="80",remote_address="203.0.113.11",remote_port="8000",proto="TCP",local_mark=""} 2
vsd_real_active_connections{service="FWM 7",real="[2001:db8::11]:0",forward="dr",local_address="",local_port="0",remote_address="2001:db8::11",remote_port="0",proto="FWM",local_mark="00000007"} 0
# HELP vsd_real_inactive_connections Inactive connections (other TCP states, UDP).
# TYPE vsd_real_inactive_connections gauge
vsd_real_inactive_connections{service="TCP 192.0.2.10:80",real="203.0.113.11:8000",forward="nat",local_address="192.0.2.10",local_port="80",remote_address="203.0.113.11",remote_port="8000",proto="TCP",local_mark=""} 1
vsd_real_inactive_connections{service="FWM 7",real="[2001:db8::11]:0",forward="dr",local_address="",local_port="0",remote_address="2001:db8::11",remote_port="0",proto="FWM",local_mark="00000007"} 0
# HELP vsd_real_persistent_connections Persistence templates pointing at the real server.
# TYPE vsd_real_persistent_connections gauge
vsd_real_persistent_connections{service="TCP 192.0.2.10:80",real="203.0.113.11:8000",forward="nat",local_address="192.0.2.10",local_port="80",remote_address="203.0.113.11",remote_port="8000",proto="TCP",local_mark=""} 0
vsd_real_persistent_connections{service="FWM 7",real="[2001:db8::11]:0",forward="dr",local_address="",local_port="0",remote_address="2001:db8::11",remote_port="0",proto="FWM",local_mark="00000007"} 1
# HELP vsd_real_weight Scheduling weight (0: quiesced).
# TYPE vsd_real_weight gauge
vsd_real_weight{service="TCP 192.0.2.10:80",real="203.0.113.11:8000",forward="nat",local_address="192.0.2.10",local_port="80",remote_address="203.0.113.11",remote_port="8000",proto="TCP",local_mark=""} 3
vsd_real_weight{service="FWM 7",real="[2001:db8::11]:0",forward="dr",local_address="",local_port="0",remote_address="2001:db8::11",remote_port="0",proto="FWM",local_mark="00000007"} 0
# HELP vsd_real_overloaded 1 while the real server is over its upper threshold.
# TYPE vsd_real_overloaded gauge
vsd_real_overloaded{service="TCP 192.0.2.10:80",real="203.0.113.11:8000",forward="nat",local_address="192.0.2.10",local_port="80",remote_address="203.0.113.11",remote_port="8000",proto="TCP",local_mark=""} 0
vsd_real_overloaded{service="FWM 7",real="[2001:db8::11]:0",forward="dr",local_address="",local_port="0",remote_address="2001:db8::11",remote_port="0",proto="FWM",local_mark="00000007"} 1
# HELP vsd_real_up Health check state: 1 up, 0 down.
# TYPE vsd_real_up gauge
vsd_real_up{service="TCP 192.0.2.10:80",real="203.0.113.11:8000",forward="nat",local_address="192.0.2.10",local_port="80",remote_address="203.0.113.11",remote_port="8000",proto="TCP",local_mark=""} 1
vsd_real_up{service="FWM 7",real="[2001:db8::11]:0",forward="dr",local_address="",local_port="0",remote_address="2001:db8::11",remote_port="0",proto="FWM",local_mark="00000007"} 0
# HELP node_ipvs_connections_total The total number of connections made.
# TYPE node_ipvs_connections_total counter
node_ipvs_connections_total 9
# HELP node_ipvs_incoming_packets_total The total number of incoming packets.
# TYPE node_ipvs_incoming_packets_total counter
node_ipvs_incoming_packets_total 60
# HELP node_ipvs_outgoing_packets_total The total number of outgoing packets.
# TYPE node_ipvs_outgoing_packets_total counter
node_ipvs_outgoing_packets_total 40
# HELP node_ipvs_incoming_bytes_total The total amount of incoming data.
# TYPE node_ipvs_incoming_bytes_total counter
node_ipvs_incoming_bytes_total 6000
# HELP node_ipvs_outgoing_bytes_total The total amount of outgoing data.
# TYPE node_ipvs_outgoing_bytes_total counter
node_ipvs_outgoing_bytes_total 90000
# HELP node_ipvs_backend_connections_active The current active connections by local and remote address.
# TYPE node_ipvs_backend_connections_active gauge
node_ipvs_backend_connections_active{local_address="192.0.2.10",local_port="80",remote_address="203.0.113.11",remote_port="8000",proto="TCP",local_mark=""} 2
node_ipvs_backend_connections_active{local_address="",local_port="0",remote_address="2001:db8::11",remote_port="0",proto="FWM",local_mark="00000007"} 0
# HELP node_ipvs_backend_connections_inactive The current inactive connections by local and remote address.
# TYPE node_ipvs_backend_connections_inactive gauge
node_ipvs_backend_connections_inactive{local_address="192.0.2.10",local_port="80",remote_address="203.0.113.11",remote_port="8000",proto="TCP",local_mark=""} 1
node_ipvs_backend_connections_inactive{local_address="",local_port="0",remote_address="2001:db8::11",remote_port="0",proto="FWM",local_mark="00000007"} 0
# HELP node_ipvs_backend_weight The current backend weight by local and remote address.
# TYPE node_ipvs_backend_weight gauge
node_ipvs_backend_weight{local_address="192.0.2.10",local_port="80",remote_address="203.0.113.11",remote_port="8000",proto="TCP",local_mark=""} 3
node_ipvs_backend_weight{local_address="",local_port="0",remote_address="2001:db8::11",remote_port="0",proto="FWM",local_mark="00000007"} 0
)";

TEST(Metrics, GoldenExposition) {
  EXPECT_EQ(render_metrics(control::status_from_json(json::parse(kStatus))), kGolden);
}

TEST(Metrics, EscapesLabelValues) {
  EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(escape_label_value("plain"), "plain");
}

TEST(Metrics, UncheckedRealsHaveNoUpSampleAndEmptyFamiliesNoHeader) {
  // No health checks, no queues, an IPv6 fwmark service.
  control::Status st;
  control::ServiceStatus svc;
  svc.fwmark = 7;
  svc.ipv6 = true;
  control::RealStatus real;
  real.address = *Endpoint::parse("[2001:db8::11]:0");
  real.weight = 1;
  svc.reals.push_back(real);
  st.services.push_back(svc);
  auto out = render_metrics(st);
  EXPECT_NE(out.find("vsd_real_weight{service=\"FWM 7 IPv6\",real=\"[2001:db8::11]:0\",forward=\"nat\","
                     "local_address=\"\",local_port=\"0\",remote_address=\"2001:db8::11\",remote_port=\"0\","
                     "proto=\"FWM\",local_mark=\"00000007\"} 1\n"),
            std::string::npos) << out;
  EXPECT_EQ(out.find("vsd_real_up"), std::string::npos) << out;
  EXPECT_EQ(out.find("vsd_queue_"), std::string::npos) << out;
}

control::RealStatus real_at(const char* ep, std::uint32_t weight, std::uint64_t active, std::uint64_t inactive) {
  control::RealStatus r;
  r.address = *Endpoint::parse(ep);
  r.weight = weight;
  r.active_conns = active;
  r.inactive_conns = inactive;
  return r;
}

// node_exporter's IPVS collector, fed the /proc/net/ip_vs IPVS would show.
TEST(Metrics, NodeExporterIpvsSeries) {
  control::Status st;
  control::ServiceStatus v6;  // UDP [2001:db8::10]:53
  v6.protocol = Protocol::udp;
  v6.address = *Endpoint::parse("[2001:db8::10]:53");
  v6.ipv6 = true;
  v6.stats = {4, 40, 30, 4000, 3000};
  v6.reals.push_back(real_at("[2001:db8:0:0:1::11]:5353", 2, 0, 4));
  auto removed = real_at("[2001:db8::12]:53", 0, 0, 0);
  removed.removed = true;  // taken out by its check: not in /proc/net/ip_vs
  v6.reals.push_back(removed);
  st.services.push_back(v6);
  // The same mark for both families, one real server in both: one row,
  // summed, as the collector does.
  for (bool ipv6 : {false, true}) {
    control::ServiceStatus f;
    f.fwmark = 0x1234abcd;
    f.ipv6 = ipv6;
    f.stats = {1, 2, 3, 4, 5};
    f.reals.push_back(real_at("198.51.100.7:0", 1, 1, 2));
    st.services.push_back(f);
  }
  const std::string out = render_metrics(st);
  auto has = [&out](const std::string& line) {
    return out.find("\n" + line + "\n") != std::string::npos;
  };
  EXPECT_TRUE(has("node_ipvs_connections_total 6")) << out;
  EXPECT_TRUE(has("node_ipvs_incoming_packets_total 44"));
  EXPECT_TRUE(has("node_ipvs_outgoing_packets_total 36"));
  EXPECT_TRUE(has("node_ipvs_incoming_bytes_total 4008"));
  EXPECT_TRUE(has("node_ipvs_outgoing_bytes_total 3010"));
  const std::string v6l =
      R"({local_address="2001:db8::10",local_port="53",remote_address="2001:db8::1:0:0:11",remote_port="5353",proto="UDP",local_mark=""})";
  EXPECT_TRUE(has("node_ipvs_backend_weight" + v6l + " 2")) << out;
  EXPECT_TRUE(has("node_ipvs_backend_connections_inactive" + v6l + " 4"));
  EXPECT_EQ(out.find("node_ipvs_backend_weight{local_address=\"2001:db8::10\",local_port=\"53\",remote_address=\"2001:db8::12\""),
            std::string::npos);
  const std::string fwm =
      R"({local_address="",local_port="0",remote_address="198.51.100.7",remote_port="0",proto="FWM",local_mark="1234ABCD"})";
  EXPECT_TRUE(has("node_ipvs_backend_weight" + fwm + " 2")) << out;
  EXPECT_TRUE(has("node_ipvs_backend_connections_active" + fwm + " 2"));
  EXPECT_TRUE(has("node_ipvs_backend_connections_inactive" + fwm + " 4"));
  std::size_t rows = 0;
  for (auto p = out.find("\nnode_ipvs_backend_weight{"); p != std::string::npos;
       p = out.find("\nnode_ipvs_backend_weight{", p + 1))
    ++rows;
  EXPECT_EQ(rows, 2u);
  // vsd's own keep `service` and get node_exporter's labels beside it.
  EXPECT_TRUE(has(R"(vsd_service_connections_total{service="UDP [2001:db8::10]:53",local_address="2001:db8::10",local_port="53",proto="UDP",local_mark=""} 4)"))
      << out;
}

TEST(Metrics, NodeExporterTotalsWithoutServices) {
  const std::string out = render_metrics(control::Status{});
  EXPECT_NE(out.find("\nnode_ipvs_connections_total 0\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("node_ipvs_backend_weight"), std::string::npos) << out;
}

TEST(Metrics, ProcessAndReloadStatus) {
  MetricsExtras x;
  ProcessStats p;
  p.start_time_seconds = 1700000000.25;
  p.cpu_seconds = 1.5;
  p.resident_memory_bytes = 4096;
  p.virtual_memory_bytes = 8192;
  p.open_fds = 12;
  p.max_fds = 1024;
  p.threads = 4;
  x.process = p;
  ReloadStatus r;
  r.record(true, 1700000100.5);
  r.record(false, 1700000200);
  x.reload = r;
  const std::string out = render_metrics(control::Status{}, x);
  for (const char* line :
       {"# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 1.5\n",
        "process_start_time_seconds 1700000000.25\n", "process_resident_memory_bytes 4096\n",
        "process_virtual_memory_bytes 8192\n", "process_open_fds 12\n", "process_max_fds 1024\n",
        "vsd_threads 4\n", "# TYPE vsd_config_last_reload_successful gauge\nvsd_config_last_reload_successful 0\n",
        "vsd_config_last_reload_success_timestamp_seconds 1700000100.5\n"})
    EXPECT_NE(out.find(line), std::string::npos) << line << "\n" << out;
  // Without the extras (vsadm-side renderings, the old call): none of them.
  EXPECT_EQ(render_metrics(control::Status{}).find("process_"), std::string::npos);
}

// The server runs on the test's io_context in a thread of its own; the client
// below is blocking, as a scraper would be.
class MetricsServerTest : public ::testing::Test {
 protected:
  void start(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    server_ = std::make_unique<MetricsServer>(io_, "127.0.0.1:0", [this] { ++scrapes_; return body_; }, timeout);
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    asio::post(io_, [this] { server_.reset(); work_.reset(); });
    if (thread_.joinable()) thread_.join();
  }

  // A blocking read that the server never answers fails the test instead
  // of hanging it.
  static void no_hang(beast::tcp_stream& s) {
    timeval tv{5, 0};
    ::setsockopt(s.socket().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  beast::tcp_stream connect() {
    beast::tcp_stream s(client_io_);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
    return s;
  }

  http::response<http::string_body> request(beast::tcp_stream& s, http::verb verb, const char* target,
                                            bool keep_alive = true) {
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, "localhost");
    req.keep_alive(keep_alive);
    if (verb == http::verb::post) req.body() = "x=1";
    req.prepare_payload();
    http::write(s, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(s, buf, res);
    return res;
  }

  asio::io_context io_, client_io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{io_.get_executor()};
  std::unique_ptr<MetricsServer> server_;
  std::thread thread_;
  std::string body_ = "vsd_up 1\n";
  std::atomic<int> scrapes_{0};
};

TEST_F(MetricsServerTest, ServesMetrics404And405OnOneKeepAliveConnection) {
  start();
  auto s = connect();
  auto res = request(s, http::verb::get, "/metrics");
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res[http::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(res.body(), "vsd_up 1\n");
  EXPECT_TRUE(res.keep_alive());

  res = request(s, http::verb::get, "/nope");
  EXPECT_EQ(res.result(), http::status::not_found);
  res = request(s, http::verb::post, "/metrics");
  EXPECT_EQ(res.result(), http::status::method_not_allowed);
  {
    // HEAD: the GET's headers, no body (the parser must be told to expect none).
    http::request<http::empty_body> head{http::verb::head, "/metrics", 11};
    head.set(http::field::host, "localhost");
    http::write(s, head);
    beast::flat_buffer buf;
    http::response_parser<http::empty_body> p;
    p.skip(true);
    http::read(s, buf, p);
    EXPECT_EQ(p.get().result(), http::status::ok);
    EXPECT_EQ(p.get()[http::field::content_length], "9");
  }
  res = request(s, http::verb::get, "/metrics?x=1", false);
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_FALSE(res.keep_alive());
  EXPECT_EQ(scrapes_, 3);  // only GET/HEAD of /metrics call body()
}

TEST_F(MetricsServerTest, OversizedRequestIsRefused) {
  start();
  auto s = connect();
  std::string req = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(64 * 1024, 'a') + "\r\n\r\n";
  boost::system::error_code ec;
  asio::write(s.socket(), asio::buffer(req), ec);  // the server may close before reading it all
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(s, buf, res, ec);
  if (!ec) {
    EXPECT_EQ(res.result(), http::status::bad_request);
  }
  EXPECT_EQ(scrapes_, 0);
}

TEST_F(MetricsServerTest, IdleClientIsDropped) {
  start(std::chrono::milliseconds(200));
  auto s = connect();
  no_hang(s);
  char c;
  boost::system::error_code ec;
  s.socket().read_some(asio::buffer(&c, 1), ec);
  EXPECT_EQ(ec, asio::error::eof);
}

TEST_F(MetricsServerTest, DestructionClosesOpenConnections) {
  start();
  auto s = connect();
  no_hang(s);
  EXPECT_EQ(request(s, http::verb::get, "/metrics").result(), http::status::ok);
  asio::post(io_, [this] { server_.reset(); });
  char c;
  boost::system::error_code ec;
  s.socket().read_some(asio::buffer(&c, 1), ec);
  EXPECT_EQ(ec, asio::error::eof);
  EXPECT_EQ(scrapes_, 1);
}

TEST(MetricsServer, BadListenStringsThrow) {
  asio::io_context io;
  auto body = [] { return std::string(); };
  for (const char* bad : {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:65536",
                          "::1:9100", "[::1]9100", "[::1", "localhost:9100", ":9100", "1.2.3.4.5:80"}) {
    EXPECT_THROW(MetricsServer(io, bad, body), std::runtime_error) << bad;
  }
  try {
    MetricsServer(io, "[::1:9100", body);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("[::1:9100"), std::string::npos);
  }
}

TEST(MetricsServer, AddressInUseThrows) {
  asio::io_context io;
  auto body = [] { return std::string(); };
  MetricsServer first(io, "127.0.0.1:0", body);
  const std::string again = "127.0.0.1:" + std::to_string(first.port());
  try {
    MetricsServer second(io, again, body);
    FAIL() << "second bind on " << again << " succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("in use"), std::string::npos) << e.what();
  }
}

TEST(MetricsServer, ListensOnIpv6Loopback) {
  asio::io_context io;
  try {
    MetricsServer server(io, "[::1]:0", [] { return std::string(); });
    EXPECT_NE(server.port(), 0);
  } catch (const std::runtime_error& e) {
    GTEST_SKIP() << "no IPv6 loopback here: " << e.what();
  }
}

}  // namespace
}  // namespace vsd
