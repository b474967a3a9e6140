#!/usr/bin/env bash
# VS-NAT end to end: a real client reaches real servers through vsd.
#  - 30 HTTP requests per family, each a new TCP connection, split exactly
#    20/10 by wrr weights 2:1, VIP port 80 mapped to real-server port 8000;
#  - a 20 MiB download through the VIP arrives intact (sha256);
#  - a UDP datagram to the VIP is answered by a real server;
#  - vsadm -L -n lists the services; SIGTERM removes vsd's nft tables.
# Twice: with the kernel fast path (the default) and with every packet
# through vsd ([director] fast_path = false, where vsd also counts the
# malformed packets it drops: in the fast path conntrack meets them first).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/topology.sh"
trap topo_down EXIT

topo_nat_up 2
sock="/run/${TOPO_PREFIX}/vsd.sock"
cfg="$TOPO_DIR/vsd.toml"
for fast in true false; do
echo "=== fast_path = $fast"
cat >"$cfg" <<TOML
[director]
queue = 3
fast_path = $fast
[control]
socket = "$sock"
[metrics]
listen = "127.0.0.1:9473"
[[service]]
address = "192.0.2.10:80"
protocol = "tcp"
scheduler = "wrr"
[[service.real]]
address = "203.0.113.11:8000"
weight = 2
[[service.real]]
address = "203.0.113.12:8000"
weight = 1
[[service]]
address = "[2001:db8::10]:80"
protocol = "tcp"
scheduler = "wrr"
[[service.real]]
address = "[2001:db8:2::11]:8000"
weight = 2
[[service.real]]
address = "[2001:db8:2::12]:8000"
weight = 1
[[service]]
address = "192.0.2.10:9000"
protocol = "udp"
scheduler = "rr"
[[service.real]]
address = "203.0.113.11"
[[service.real]]
address = "203.0.113.12"
[[service]]
address = "[2001:db8::10]:9000"
protocol = "udp"
scheduler = "rr"
[[service.real]]
address = "[2001:db8:2::11]"
TOML
in_director "$VSD_BIN" --check -c "$cfg"
start_vsd "$cfg"

assert_eq "rs1=20 rs2=10 fail=0" "$(lb_split http://192.0.2.10/ 30)" "IPv4 HTTP split over 30 requests (wrr 2:1)"
assert_eq "rs1=20 rs2=10 fail=0" "$(lb_split 'http://[2001:db8::10]/' 30)" "IPv6 HTTP split over 30 requests (wrr 2:1)"

want=$(cat "$TOPO_DIR/big.sha256")
got=$(in_client curl -s --max-time $((60 * TOPO_WS)) http://192.0.2.10/big.bin | sha256sum | cut -d' ' -f1)
assert_eq "$want" "$got" "sha256 of 20 MiB over IPv4 through the VIP"
got=$(in_client curl -s --max-time $((60 * TOPO_WS)) 'http://[2001:db8::10]/big.bin' | sha256sum | cut -d' ' -f1)
assert_eq "$want" "$got" "sha256 of 20 MiB over IPv6 through the VIP"

r=$(udp_ask ping UDP:192.0.2.10:9000)
case "$r" in rs1:ping | rs2:ping) echo "ok: UDP reply via IPv4 VIP: $r" ;; *) fail "UDP via 192.0.2.10:9000: expected rsN:ping, got '$r'" ;; esac
r=$(udp_ask ping6 'UDP6:[2001:db8::10]:9000')
assert_eq "rs1:ping6" "$r" "UDP reply via IPv6 VIP"

# Malformed packets to the VIP are dropped, and vsd keeps serving; in
# userspace it counts them (bounded poll: the queue answers asynchronously).
in_client python3 "$here/lib/send_malformed.py" 198.51.100.2 192.0.2.10 80
if [ "$fast" = false ]; then
  for _ in $(seq 1 30); do
    counters=$(vsadm --json | python3 -c 'import json,sys; m=json.load(sys.stdin)["counters"]["malformed"]; print(m["fragment"], m["truncated_l4"])')
    [ "$counters" = "1 1" ] && break
    sleep 0.1
  done
  assert_eq "1 1" "$counters" "malformed counters (fragment, truncated_l4)"
fi
assert_eq "rs1" "$(in_client curl -s --max-time $((5 * TOPO_WS)) http://192.0.2.10/)" "HTTP after malformed packets (32nd request: wrr 2:1 gives rs1)"

metrics=$(in_director curl -s --max-time 3 http://127.0.0.1:9473/metrics)
grep -q '^vsd_real_connections_total{service="TCP 192.0.2.10:80",real="203.0.113.11:8000",forward="nat",[^}]*} 2[0-9]$' <<<"$metrics" ||
  fail "metrics lack the connections of 203.0.113.11:8000 (expected 2x): $(grep vsd_real_connections_total <<<"$metrics")"
if [ "$fast" = false ]; then
  grep -q '^vsd_malformed_packets_total{reason="fragment"} 1$' <<<"$metrics" || fail "metrics lack the malformed fragment"
fi
echo "ok: Prometheus metrics on 127.0.0.1:9473/metrics"

listing=$(vsadm -L -n)
echo "$listing"
grep -q '^TCP  192.0.2.10:80 wrr$' <<<"$listing" || fail "vsadm -L -n lacks the IPv4 TCP service"
grep -q '^  -> 203.0.113.11:8000 *Masq *2 ' <<<"$listing" || fail "vsadm -L -n lacks real server 203.0.113.11:8000 weight 2"
grep -q '^UDP  \[2001:db8::10\]:9000 rr$' <<<"$listing" || fail "vsadm -L -n lacks the IPv6 UDP service"
[ -n "$(vsd_tables)" ] || fail "vsd's nft tables missing while it runs"
assert_eq "1" "$(in_director cat /proc/sys/net/ipv4/ip_forward)" "ip_forward while vsd runs"

stop_vsd
assert_eq "" "$(vsd_tables)" "nft tables named vsd after SIGTERM"
assert_eq "0" "$(in_director cat /proc/sys/net/ipv4/ip_forward)" "ip_forward restored after exit"
done
echo "PASS: nat_test"
