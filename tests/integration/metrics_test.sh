#!/usr/bin/env bash
# The Prometheus endpoint, scraped by HTTP after a known traffic pattern:
#  (a) node_exporter's IPVS series with its label set and values: after 10
#      HTTP requests to 192.0.2.10:80 node_ipvs_connections_total is 10,
#      after 10 more 20, after 4 over IPv6 24; the backends' weights with
#      local_address/local_port/remote_address/remote_port/proto/local_mark
#      as node_exporter writes them (IPv6 compressed, no brackets; a fwmark
#      service as proto "FWM", local_mark "%08X", local_address "");
#  (b) vsd's own series with the separate labels beside `service` / `real`
#      (5 connections per real server under rr);
#  (c) process_* from /proc/self, and the reload status: 1 after the start,
#      0 after a refused reload (timestamp kept), 1 with a newer timestamp
#      after a good one;
#  (d) the exposition parses: HELP and TYPE before each family's samples,
#      no series twice.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${TOPO_PREFIX:=vsdmx$$}"
source "$here/lib/topology.sh"
trap topo_down EXIT

topo_nat_up 2
sock="/run/${TOPO_PREFIX}/vsd.sock"
cfg="$TOPO_DIR/vsd.toml"
port=9473
write_cfg() {
  cat >"$cfg" <<TOML
[control]
socket = "$sock"
[metrics]
listen = "127.0.0.1:$port"
[[service]]
address = "192.0.2.10:80"
protocol = "tcp"
scheduler = "rr"
[[service.real]]
address = "203.0.113.11:8000"
weight = 1
[[service.real]]
address = "203.0.113.12:8000"
weight = 3
[[service]]
address = "[2001:db8::10]:80"
protocol = "tcp"
scheduler = "rr"
[[service.real]]
address = "[2001:db8:2::11]:8000"
weight = 2
[[service]]
fwmark = 7
members = ["192.0.2.10:8080"]
[[service.real]]
address = "203.0.113.12:8000"
weight = 5
TOML
}
write_cfg
"$VSD_BIN" --check -c "$cfg" >/dev/null
start_vsd "$cfg"

scrape() { in_director curl -sf --max-time 3 "http://127.0.0.1:$port/metrics"; }
# value METRICS SERIES: the sample's value ("" when absent); SERIES is the
# whole name{labels} as written.
# (label values may hold spaces: the value is the last field).
value() { awk -v s="$2" '{ v = $NF; sub(/ [^ ]*$/, ""); if ($0 == s) print v }' <<<"$1"; }
requests() {  # requests URL N: N requests, each a new connection; all must be answered
  local url=$1 n=$2 out
  for _ in $(seq 1 "$n"); do
    out=$(in_client curl -s --max-time 5 "$url" || true)
    case "$out" in rs1 | rs2) ;; *) fail "request to $url not answered: '$out'" ;; esac
  done
}

m=$(scrape) || fail "no answer on 127.0.0.1:$port/metrics"
assert_eq 0 "$(value "$m" node_ipvs_connections_total)" "node_ipvs_connections_total before any traffic"

requests http://192.0.2.10/ 10
m=$(scrape)
assert_eq 10 "$(value "$m" node_ipvs_connections_total)" "node_ipvs_connections_total after 10 requests"
for s in node_ipvs_incoming_packets_total node_ipvs_outgoing_packets_total node_ipvs_incoming_bytes_total node_ipvs_outgoing_bytes_total; do
  v=$(value "$m" "$s")
  [ -n "$v" ] && [ "$v" -gt 0 ] || fail "$s: expected > 0 after 10 requests, got '$v'"
  echo "ok: $s = $v"
done
# Every HTTP exchange is at least SYN, ACK, request, FIN, ACK from the client.
[ "$(value "$m" node_ipvs_incoming_packets_total)" -ge 50 ] || fail "fewer than 5 incoming packets per connection"

b1='{local_address="192.0.2.10",local_port="80",remote_address="203.0.113.11",remote_port="8000",proto="TCP",local_mark=""}'
b2='{local_address="192.0.2.10",local_port="80",remote_address="203.0.113.12",remote_port="8000",proto="TCP",local_mark=""}'
b6='{local_address="2001:db8::10",local_port="80",remote_address="2001:db8:2::11",remote_port="8000",proto="TCP",local_mark=""}'
bf='{local_address="",local_port="0",remote_address="203.0.113.12",remote_port="8000",proto="FWM",local_mark="00000007"}'
assert_eq 1 "$(value "$m" "node_ipvs_backend_weight$b1")" "node_ipvs_backend_weight$b1"
assert_eq 3 "$(value "$m" "node_ipvs_backend_weight$b2")" "node_ipvs_backend_weight$b2"
assert_eq 2 "$(value "$m" "node_ipvs_backend_weight$b6")" "node_ipvs_backend_weight$b6"
assert_eq 5 "$(value "$m" "node_ipvs_backend_weight$bf")" "node_ipvs_backend_weight$bf"
for b in "$b1" "$b2"; do
  a=$(value "$m" "node_ipvs_backend_connections_active$b")
  i=$(value "$m" "node_ipvs_backend_connections_inactive$b")
  [ -n "$a" ] && [ -n "$i" ] || fail "no connections_active/inactive for $b"
  echo "ok: node_ipvs_backend_connections_{active,inactive}$b = $a, $i"
  [ $((a + i)) -le 5 ] || fail "more than the 5 connections it was given: $a + $i"
done

# (b) vsd's own, with the separate labels.
sl='service="TCP 192.0.2.10:80",local_address="192.0.2.10",local_port="80",proto="TCP",local_mark=""'
assert_eq 10 "$(value "$m" "vsd_service_connections_total{$sl}")" "vsd_service_connections_total{$sl}"
r1='service="TCP 192.0.2.10:80",real="203.0.113.11:8000",forward="nat",local_address="192.0.2.10",local_port="80",remote_address="203.0.113.11",remote_port="8000",proto="TCP",local_mark=""'
assert_eq 5 "$(value "$m" "vsd_real_connections_total{$r1}")" "vsd_real_connections_total (rr: 5 of 10)"

# 10 more: the counter moves by exactly 10.
requests http://192.0.2.10/ 10
m=$(scrape)
assert_eq 20 "$(value "$m" node_ipvs_connections_total)" "node_ipvs_connections_total after 10 more requests"
requests 'http://[2001:db8::10]/' 4
m=$(scrape)
assert_eq 24 "$(value "$m" node_ipvs_connections_total)" "node_ipvs_connections_total after 4 IPv6 requests"
assert_eq 4 "$(value "$m" 'vsd_real_connections_total{service="TCP [2001:db8::10]:80",real="[2001:db8:2::11]:8000",forward="nat",local_address="2001:db8::10",local_port="80",remote_address="2001:db8:2::11",remote_port="8000",proto="TCP",local_mark=""}')" \
  "vsd_real_connections_total of the IPv6 real server"

# (c) process and reload status.
now=$(date +%s)
start=$(value "$m" process_start_time_seconds)
python3 -c "import sys; s=float('$start'); sys.exit(0 if $now - 120 <= s <= $now + 1 else 1)" ||
  fail "process_start_time_seconds $start is not within 2 minutes before now ($now)"
echo "ok: process_start_time_seconds = $start"
for s in process_resident_memory_bytes process_open_fds process_max_fds process_virtual_memory_bytes; do
  v=$(value "$m" "$s")
  [ -n "$v" ] && [ "$v" -gt 0 ] || fail "$s: expected > 0, got '$v'"
  echo "ok: $s = $v"
done
grep -q '^process_cpu_seconds_total [0-9.e+-]*$' <<<"$m" || fail "no process_cpu_seconds_total"
assert_eq 1 "$(value "$m" vsd_config_last_reload_successful)" "vsd_config_last_reload_successful after the start"
t_start=$(value "$m" vsd_config_last_reload_success_timestamp_seconds)

echo 'this is not toml [' >>"$cfg"
vsadm --reload >/dev/null 2>&1 || true
m=$(scrape)
assert_eq 0 "$(value "$m" vsd_config_last_reload_successful)" "vsd_config_last_reload_successful after a refused reload"
assert_eq "$t_start" "$(value "$m" vsd_config_last_reload_success_timestamp_seconds)" "reload timestamp kept after a refused reload"
sleep 1
write_cfg
vsadm --reload >/dev/null
m=$(scrape)
assert_eq 1 "$(value "$m" vsd_config_last_reload_successful)" "vsd_config_last_reload_successful after a good reload"
python3 -c "import sys; sys.exit(0 if float('$(value "$m" vsd_config_last_reload_success_timestamp_seconds)') > float('$t_start') else 1)" ||
  fail "the reload timestamp did not move forward"
echo "ok: vsd_config_last_reload_success_timestamp_seconds moved forward"

# (d) the text parses as the exposition format.
python3 - "$m" <<'PY' || fail "the exposition does not parse"
import re, sys
text = sys.argv[1]
sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*")*)\})? (-?[0-9.e+-]+|NaN)$')
declared, typed, seen, done_families = set(), set(), set(), set()
current = None
for line in text.splitlines():
    if line.startswith('# HELP '):
        name = line.split()[2]
        assert name not in declared, f"HELP twice for {name}"
        declared.add(name)
        if current: done_families.add(current)
        current = name
    elif line.startswith('# TYPE '):
        _, _, name, kind = line.split()
        assert name == current and kind in ('counter', 'gauge'), line
        typed.add(name)
    else:
        m = sample.match(line)
        assert m, f"not a sample line: {line!r}"
        assert m.group(1) == current, f"{m.group(1)} outside its family ({current})"
        series = line.rsplit(' ', 1)[0]
        assert series not in seen, f"series twice: {series}"
        seen.add(series)
assert declared == typed
print(f"ok: {len(declared)} families, {len(seen)} series parse as text format 0.0.4")
PY
stop_vsd
echo "metrics_test: all passed"
