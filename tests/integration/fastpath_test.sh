#!/usr/bin/env bash
# The kernel fast path for VS-NAT: vsd decides each flow's first packet, the
# kernel carries the rest, and IPVS's semantics stay true.
#  - a 20 MiB download over IPv4 and over IPv6 and a 300-datagram UDP flow
#    arrive intact while the kernel queues fewer than 100 packets for each
#    (/proc/net/netfilter/nfnetlink_queue, 8th column: packets ever queued);
#  - `vsadm -L -n --stats --exact` counts the download's bytes;
#  - ActiveConn is 1 while a download runs and 0 once it has ended, and
#    `vsadm -L -n -c` lists the running download;
#  - lc with two held connections sends the next one to the third server;
#  - weight 0 lets a running download finish while new ones go elsewhere;
#  - kill -9 of vsd and a restart: a running download completes intact and
#    the restarted vsd lists it (ActiveConn 1);
#  - queues = 2: clients from many addresses are served through both queues;
#  - a removed real server's download runs on, unless expire_nodest_conn,
#    which ends it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/topology.sh"
trap topo_down EXIT

topo_nat_up 3
sock="/run/${TOPO_PREFIX}/vsd.sock"
want=$(cat "$TOPO_DIR/big.sha256")

write_cfg() {  # write_cfg FILE QUEUES
  cat >"$1" <<TOML
[director]
queue = 6
queues = $2
[control]
socket = "$sock"
[[service]]
address = "192.0.2.10:80"
scheduler = "rr"
[[service.real]]
address = "203.0.113.11:8000"
[[service.real]]
address = "203.0.113.12:8000"
[[service]]
address = "[2001:db8::10]:80"
scheduler = "rr"
[[service.real]]
address = "[2001:db8:2::11]:8000"
[[service.real]]
address = "[2001:db8:2::12]:8000"
[[service]]
address = "192.0.2.10:9000"
protocol = "udp"
scheduler = "rr"
[[service.real]]
address = "203.0.113.11"
[[service.real]]
address = "203.0.113.12"
[[service]]
address = "192.0.2.10:9100"
scheduler = "rr"
[[service.real]]
address = "203.0.113.11"
[[service.real]]
address = "203.0.113.12"
[[service]]
address = "192.0.2.11:9100"
scheduler = "lc"
[[service.real]]
address = "203.0.113.11"
[[service.real]]
address = "203.0.113.12"
[[service.real]]
address = "203.0.113.13"
[[service]]
address = "192.0.2.11:80"
scheduler = "rr"
[[service.real]]
address = "203.0.113.13:8000"
TOML
}
# The real servers' slow downloads (:9100, 2 MiB/s: about 10 s for 20 MiB;
# VSD_TEST_WAIT_SCALE divides the rate, so that a download still outlasts
# the steps that watch it on a slow machine): the server streams, so the
# connection stays ESTABLISHED while data flows.
for i in 1 2 3; do
  in_rs "$i" python3 "$here/lib/slow_sender.py" "$TOPO_DIR/big.bin" 9100 $((2097152 / TOPO_WS)) &
  echo $! >>"$TOPO_DIR/pids"
done
for i in 1 2 3; do
  for _ in $(seq 1 50); do in_rs "$i" ss -ltn | grep -q ':9100 ' && break; sleep 0.1; done
done
cfg="$TOPO_DIR/vsd.toml"
write_cfg "$cfg" 1
check=$(in_director "$VSD_BIN" --check -c "$cfg" --role director 2>&1 || true)
grep -q "fast path: kernel takes NAT (conntrack) objects" <<<"$check" || fail "vsd --check does not report the kernel's NAT fast path: $check"
grep -q "fast path: 6 service(s) NAT by conntrack" <<<"$check" || fail "vsd --check does not plan 6 NAT services in the kernel: $check"
echo "ok: vsd --check reports the fast path"
start_vsd "$cfg"
wait_log "$VSD_LOG" "fast path: 6 service(s) in the kernel" || fail "vsd does not say it uses the fast path"

# Packets the kernel ever queued to vsd's queues 6 and 7.
queued() {
  in_director awk '$1 == 6 || $1 == 7 { n += $8 } END { print n + 0 }' /proc/net/netfilter/nfnetlink_queue
}
# active SERVICE: the ActiveConn column summed over the service's real servers.
active() {
  vsadm -L -n | awk -v svc="$1" '$1 ~ /^(TCP|UDP)$/ { on = ($2 == svc) } on && $1 == "->" { n += $5 } END { print n + 0 }'
}
# wait_active SERVICE N: until ActiveConn sums to N (bounded: 10 s).
wait_active() {
  for _ in $(seq 1 $((100 * TOPO_WS))); do
    [ "$(active "$1")" = "$2" ] && return 0
    sleep 0.1
  done
  fail "ActiveConn of $1 is $(active "$1"), expected $2: $(vsadm -L -n)"
}
# slow_download VIP FILE: the 20 MiB slow download from VIP:9100 in the
# background, its pid in DL (a child of this shell, so `wait` works). Waits
# until bytes flow.
slow_download() {
  in_client timeout $((60 * TOPO_WS)) socat -u "TCP:$1:9100" "CREATE:$2" &
  DL=$!
  for _ in $(seq 1 $((100 * TOPO_WS))); do
    [ "$(stat -c %s "$2" 2>/dev/null || echo 0)" -gt 100000 ] && break
    sleep 0.1
  done
}

# 1. Bulk downloads: a few packets queued, whatever the size.
for url in http://192.0.2.10/big.bin 'http://[2001:db8::10]/big.bin'; do
  before=$(queued)
  got=$(in_client curl -s --max-time 60 "$url" | sha256sum | cut -d' ' -f1)
  assert_eq "$want" "$got" "sha256 of 20 MiB from $url"
  n=$(( $(queued) - before ))
  [ "$n" -lt 100 ] || fail "the kernel queued $n packets for the download from $url (fast path: fewer than 100)"
  echo "ok: $n packets queued to vsd for the 20 MiB download from $url"
done

# 2. --stats --exact: the download's bytes, counted by the kernel (read by
# vsd every 2 s: polled).
for _ in $(seq 1 $((50 * TOPO_WS))); do
  out_bytes=$(vsadm -L -n --stats --exact | awk '$1 ~ /^(TCP|UDP|FWM)$/ { on = ($2 == "192.0.2.10:80") } on && $1 == "->" { n += $7 } END { print n + 0 }')
  [ "$out_bytes" -ge 20971520 ] && break
  sleep 0.1
done
[ "$out_bytes" -ge 20971520 ] || fail "vsadm --stats --exact shows OutBytes $out_bytes for 192.0.2.10:80, expected at least 20 MiB: $(vsadm -L -n --stats --exact)"
echo "ok: vsadm -L -n --stats --exact counts the download: OutBytes $out_bytes"

# 3. UDP: 300 datagrams of one flow, answered, one flow queued once.
before=$(queued)
replies=$(in_client python3 - <<'PY'
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
s.connect(("192.0.2.10", 9000))
got, servers = 0, set()
for i in range(300):
    s.send(b"d%d\n" % i)
    try:
        data = s.recv(100)
        got += 1
        servers.add(data.split(b":")[0])
    except socket.timeout:
        pass
    time.sleep(0.002)
print(got, len(servers))
PY
)
read -r got servers <<<"$replies"
[ "$got" -ge 290 ] || fail "only $got of 300 datagrams answered through the UDP VIP"
assert_eq "1" "$servers" "real servers answering one UDP flow"
n=$(( $(queued) - before ))
[ "$n" -lt 100 ] || fail "the kernel queued $n packets for a 300-datagram UDP flow"
echo "ok: $got of 300 datagrams answered, $n packets queued to vsd"

# 4. ActiveConn follows the kernel's flow: 1 while it runs, 0 after.
slow_download 192.0.2.10 "$TOPO_DIR/slow1.bin"; dl=$DL
wait_active 192.0.2.10:9100 1
echo "ok: ActiveConn 1 while the download runs"
# The kernel carries it, and the connection listing (the engine's entries,
# read in steps off the data path) still shows it.
row=""
for _ in $(seq 1 20); do
  row=$(vsadm -L -n -c | awk '$1 == "TCP" && $3 == "ESTABLISHED" && $5 == "192.0.2.10:9100"')
  [ -n "$row" ] && break
  sleep 0.1
done
[ -n "$row" ] || fail "vsadm -L -n -c does not list the download the kernel carries: $(vsadm -L -n -c)"
echo "ok: vsadm -L -n -c lists the kernel's flow: $row"
wait "$dl" || fail "the slow download failed"
assert_eq "$want" "$(sha256sum <"$TOPO_DIR/slow1.bin" | cut -d' ' -f1)" "sha256 of the slow download"
wait_active 192.0.2.10:9100 0
echo "ok: ActiveConn 0 after it ended"

# 5. lc schedules on the kernel's flows: two held connections, then the third server.
slow_download 192.0.2.11 "$TOPO_DIR/held1.bin"; h1=$DL
wait_active 192.0.2.11:9100 1
slow_download 192.0.2.11 "$TOPO_DIR/held2.bin"; h2=$DL
wait_active 192.0.2.11:9100 2
third=$(in_client timeout $((5 * TOPO_WS)) python3 -c '
import socket; s = socket.create_connection(("192.0.2.11", 9100), timeout=3); print(s.getpeername()[0]); s.close()' || true)
got=$(vsadm -L -n | awk '$1 ~ /^(TCP|UDP|FWM)$/ { on = ($2 == "192.0.2.11:9100") } on && $1 == "->" { print $2, $5, $6 }')
echo "$got"
held=$(awk '$2 == 1 { print $1 }' <<<"$got" | sort | tr '\n' ' ')
new=$(awk '$2 == 0 && $3 >= 1 { print $1 }' <<<"$got")
assert_eq "203.0.113.13:9100" "$new" "lc: the server of the next connection with two held (held: $held)"
kill "$h1" "$h2" 2>/dev/null || true
wait "$h1" "$h2" 2>/dev/null || true

# 6. Weight 0: a running download finishes, new connections go elsewhere.
slow_download 192.0.2.10 "$TOPO_DIR/slow2.bin"; dl=$DL
wait_active 192.0.2.10:9100 1
busy=$(vsadm -L -n | awk '$1 ~ /^(TCP|UDP|FWM)$/ { on = ($2 == "192.0.2.10:9100") } on && $1 == "->" && $5 == 1 { print $2 }')
case "$busy" in
  203.0.113.11:9100) other=203.0.113.12:9100 ;;
  203.0.113.12:9100) other=203.0.113.11:9100 ;;
  *) fail "no real server shows the download: $(vsadm -L -n)" ;;
esac
vsadm -e -t 192.0.2.10:9100 -r "$busy" -m -w 0
for n in 1 2 3 4; do
  in_client timeout $((5 * TOPO_WS)) python3 -c '
import socket; s = socket.create_connection(("192.0.2.10", 9100), timeout=3); s.close()' || true
done
conns=$(vsadm -L -n --stats | awk -v b="$busy" '$1 ~ /^(TCP|UDP|FWM)$/ { on = ($2 == "192.0.2.10:9100") } on && $1 == "->" && $2 == b { print $3 }')
assert_eq "1" "$conns" "connections $busy took while quiesced (the running download only)"
kill -0 "$dl" 2>/dev/null || fail "the download ended before the quiesced server was checked"
wait "$dl" || fail "the download failed after its server was quiesced"
assert_eq "$want" "$(sha256sum <"$TOPO_DIR/slow2.bin" | cut -d' ' -f1)" "sha256 of the download that outlived weight 0"
vsadm -e -t 192.0.2.10:9100 -r "$busy" -m -w 1

# 6b. A removed real server (expire_nodest_conn off, the IPVS default): its
# running download goes on to the end, as IPVS's connections do.
slow_download 192.0.2.10 "$TOPO_DIR/slow4.bin"; dl=$DL
wait_active 192.0.2.10:9100 1
busy=$(vsadm -L -n | awk '$1 ~ /^(TCP|UDP|FWM)$/ { on = ($2 == "192.0.2.10:9100") } on && $1 == "->" && $5 == 1 { print $2 }')
[ -n "$busy" ] || fail "no real server shows the download: $(vsadm -L -n)"
vsadm -d -t 192.0.2.10:9100 -r "$busy"
wait "$dl" || fail "the download failed after its real server was removed (expire_nodest_conn off)"
assert_eq "$want" "$(sha256sum <"$TOPO_DIR/slow4.bin" | cut -d' ' -f1)" "sha256 of the download that outlived its server's removal"
vsadm -a -t 192.0.2.10:9100 -r "$busy" -m -w 1

# 7. kill -9: the kernel carries the running download; a restarted vsd adopts it.
slow_download 192.0.2.10 "$TOPO_DIR/slow3.bin"; dl=$DL
wait_active 192.0.2.10:9100 1
kill -9 "$VSD_PID"
wait "$VSD_PID" 2>/dev/null || true
sleep 1
kill -0 "$dl" 2>/dev/null || fail "the download ended while vsd was down (it should run on)"
start_vsd "$cfg"
wait_active 192.0.2.10:9100 1
echo "ok: the restarted vsd lists the running download (ActiveConn 1)"
wait_log "$VSD_LOG" "adopted" || fail "the restarted vsd does not log the flows it adopted"
wait "$dl" || fail "the download failed across vsd's restart"
assert_eq "$want" "$(sha256sum <"$TOPO_DIR/slow3.bin" | cut -d' ' -f1)" "sha256 of the download across kill -9 and restart"
assert_eq "rs3" "$(in_client curl -s --max-time 5 http://192.0.2.11/)" "a new connection after the restart"
stop_vsd

# 8. Two queues, two data threads: clients from many addresses use both.
write_cfg "$cfg" 2
start_vsd "$cfg"
for i in $(seq 100 139); do in_client ip addr add "198.51.100.$i/24" dev cl0; done
q6=$(in_director awk '$1 == 6 { print $8 }' /proc/net/netfilter/nfnetlink_queue)
q7=$(in_director awk '$1 == 7 { print $8 }' /proc/net/netfilter/nfnetlink_queue)
fails=0
for i in $(seq 100 139); do
  r=$(in_client curl -s --max-time 5 --interface "198.51.100.$i" http://192.0.2.10/ || true)
  case "$r" in rs1 | rs2) ;; *) fails=$((fails + 1)) ;; esac
done
assert_eq "0" "$fails" "failed requests from 40 client addresses over two queues"
d6=$(( $(in_director awk '$1 == 6 { print $8 }' /proc/net/netfilter/nfnetlink_queue) - q6 ))
d7=$(( $(in_director awk '$1 == 7 { print $8 }' /proc/net/netfilter/nfnetlink_queue) - q7 ))
[ "$d6" -gt 0 ] && [ "$d7" -gt 0 ] || fail "queue 6 took $d6 and queue 7 took $d7 new flows: expected both"
echo "ok: queue 6 took $d6 and queue 7 took $d7 of the 40 new flows"
stop_vsd

# 9. expire_nodest_conn: removing a real server ends its kernel-carried
# flows (their conntrack entries go; the next packets reach vsd, which has
# no connection for them): the download stalls short of its end.
write_cfg "$cfg" 1
sed -i 's/^queues = 1$/queues = 1\nexpire_nodest_conn = true/' "$cfg"
start_vsd "$cfg"
slow_download 192.0.2.10 "$TOPO_DIR/slow5.bin"; dl=$DL
wait_active 192.0.2.10:9100 1
busy=$(vsadm -L -n | awk '$1 ~ /^(TCP|UDP|FWM)$/ { on = ($2 == "192.0.2.10:9100") } on && $1 == "->" && $5 == 1 { print $2 }')
[ -n "$busy" ] || fail "no real server shows the download: $(vsadm -L -n)"
ct_flows() { in_director conntrack -L -p tcp --orig-dst 192.0.2.10 --dport 9100 2>/dev/null | grep -c ESTABLISHED || true; }
assert_eq "1" "$(ct_flows)" "conntrack entries of the running download"
vsadm -d -t 192.0.2.10:9100 -r "$busy"
wait_log "$VSD_LOG" "expire_nodest_conn: ended" || fail "vsd does not log the flows it ended"
for _ in $(seq 1 $((30 * TOPO_WS))); do [ "$(ct_flows)" = 0 ] && break; sleep 0.1; done
assert_eq "0" "$(ct_flows)" "conntrack entries of the download after its server was removed"
size=0
for _ in $(seq 1 $((30 * TOPO_WS))); do  # bounded: stalled means no growth for 1 s
  last=$size; sleep 1; size=$(stat -c %s "$TOPO_DIR/slow5.bin")
  [ "$size" = "$last" ] && break
done
[ "$size" = "$last" ] && [ "$size" -lt 20971520 ] || fail "the download of a removed server went on (size $size) with expire_nodest_conn"
echo "ok: expire_nodest_conn ended the removed server's download at $size bytes"
kill "$dl" 2>/dev/null || true; wait "$dl" 2>/dev/null || true
stop_vsd
echo "PASS: fastpath_test"
