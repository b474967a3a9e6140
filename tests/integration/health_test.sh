#!/usr/bin/env bash
# Health checks end to end: vsd checks its real servers and steers new
# connections by the result.
#  - stop the HTTP server of rs1: after fall*interval no new connection goes
#    there while rs2 serves every request; start it: it returns after rise;
#  - stop both: the sorry server (rs3) answers; start one: it is back;
#  - quorum (healthy weight 150 of 200) is lost and regained, running the
#    quorum_down / quorum_up commands; a recovered server's weight ramps up
#    over slow_start;
#  - a MISC check whose command hangs is killed at its timeout (and the
#    server counts as down), never piling up processes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/topology.sh"
trap topo_down EXIT

topo_nat_up 3
sock="/run/${TOPO_PREFIX}/vsd.sock"
cfg="$TOPO_DIR/vsd.toml"
cat >"$cfg" <<TOML
[control]
socket = "$sock"

[[service]]
address = "192.0.2.10:80"
scheduler = "rr"
sorry_server = "203.0.113.13:8000"
quorum = 150
quorum_up = "echo >>$TOPO_DIR/quorum.log"
quorum_down = "echo >>$TOPO_DIR/quorum.log"
[service.check]
type = "http"
path = "/"
interval = 0.3
timeout = 0.25
rise = 2
fall = 2
slow_start = 4
[[service.real]]
address = "203.0.113.11:8000"
weight = 100
[[service.real]]
address = "203.0.113.12:8000"
weight = 100

[[service]]
address = "192.0.2.10:81"
scheduler = "rr"
[[service.real]]
address = "203.0.113.11:8000"
[service.real.check]
type = "misc"
command = "sleep 30"
user = "nobody"
interval = 0.5
timeout = 0.3
fall = 1
[[service.real]]
address = "203.0.113.12:8000"
TOML
in_director "$VSD_BIN" --check -c "$cfg"
start_vsd "$cfg"
sleep 1

tally() {  # tally N: N requests to the VIP, prints "rs1=a rs2=b rs3=c fail=d"
  local i out a=0 b=0 c=0 bad=0
  for i in $(seq 1 "$1"); do
    out=$(in_client curl -s --max-time 3 http://192.0.2.10/ || true)
    case "$out" in rs1) a=$((a + 1)) ;; rs2) b=$((b + 1)) ;; rs3) c=$((c + 1)) ;; *) bad=$((bad + 1)) ;; esac
  done
  echo "rs1=$a rs2=$b rs3=$c fail=$bad"
}
httpd_pid() {  # the busybox httpd of real server N on :8000
  ip netns pids "$(ns rs$1)" | while read -r p; do
    if tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | grep -q 'httpd -f -p 8000'; then echo "$p"; fi
  done | head -1
}
stop_http() { kill "$(httpd_pid "$1")"; }
start_http() {
  in_rs "$1" busybox httpd -f -p 8000 -h "$TOPO_DIR/www$1" &
  echo $! >>"$TOPO_DIR/pids"
}
wait_health() {  # wait_health REAL up|down: until vsadm --json says so (bounded: 10 s)
  local t
  for t in $(seq 1 100); do
    if vsadm --json | python3 -c '
import json, sys
real, want = sys.argv[1], sys.argv[2]
st = json.load(sys.stdin)
for s in st["services"]:
    if s.get("address") == "192.0.2.10:80":
        for r in s["reals"]:
            if r["address"] == real and r.get("health") == want: sys.exit(0)
sys.exit(1)' "$1" "$2"; then return 0; fi
    sleep 0.1
  done
  fail "real server $1 did not become $2 within 10 s"
}

weight_of() {  # weight_of REAL: its weight in the data path now
  vsadm --json | python3 -c '
import json, sys
for s in json.load(sys.stdin)["services"]:
    if s.get("address") == "192.0.2.10:80":
        for r in s["reals"]:
            if r["address"] == sys.argv[1]: print(r["weight"])' "$1"
}
assert_eq "rs1=5 rs2=5 rs3=0 fail=0" "$(tally 10)" "both healthy: rr over rs1 and rs2"

stop_http 1
wait_health 203.0.113.11:8000 down
assert_eq "rs1=0 rs2=10 rs3=0 fail=0" "$(tally 10)" "rs1 down: every request served by rs2"
vsadm -L -n | grep -q '203.0.113.11:8000 .*\[down\]' || fail "vsadm -L -n does not mark rs1 [down]"
wait_log "$VSD_LOG" "health: TCP 192.0.2.10:80 -> 203.0.113.11:8000 is down" || fail "no log line for rs1 going down"

wait_log "$TOPO_DIR/quorum.log" " down healthy weight 100" || fail "quorum_down did not run: $(cat "$TOPO_DIR/quorum.log" 2>&1)"
echo "ok: quorum lost with rs1 down; quorum_down ran"

start_http 1
wait_health 203.0.113.11:8000 up
w=$(weight_of 203.0.113.11:8000)
[ "$w" -ge 1 ] && [ "$w" -lt 100 ] || fail "weight of rs1 right after recovery is $w: expected a slow-start ramp below 100"
echo "ok: rs1 recovered with weight $w (slow start ramping to 100)"
sleep 4.5
assert_eq "100" "$(weight_of 203.0.113.11:8000)" "weight of rs1 after slow_start = 4 s"
wait_log "$TOPO_DIR/quorum.log" " up healthy weight" || fail "quorum_up did not run: $(cat "$TOPO_DIR/quorum.log")"
echo "ok: quorum regained during the ramp; quorum_up ran"
t=$(tally 10)
case "$t" in "rs1=5 rs2=5 rs3=0 fail=0") echo "ok: rs1 back after rise checks: $t" ;; *) fail "after rs1 recovered: $t" ;; esac

stop_http 1
stop_http 2
wait_health 203.0.113.11:8000 down
wait_health 203.0.113.12:8000 down
assert_eq "rs1=0 rs2=0 rs3=6 fail=0" "$(tally 6)" "no healthy real server: the sorry server answers"
wait_log "$VSD_LOG" "sorry server 203.0.113.13:8000 takes new connections" || fail "no log line for the sorry server"
start_http 2
wait_health 203.0.113.12:8000 up
assert_eq "rs1=0 rs2=6 rs3=0 fail=0" "$(tally 6)" "rs2 healthy again: the sorry server takes no more"

# The hanging MISC check: killed at 0.3 s every 0.5 s, so at most one sleep
# is alive at any moment, and the server it guards is down.
max=0
for i in $(seq 1 20); do
  n=$(ip netns pids "$(ns dir)" | while read -r p; do tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline"; echo; done | grep -c '^sleep 30' || true)
  [ "$n" -gt "$max" ] && max=$n
  sleep 0.1
done
[ "$max" -le 1 ] || fail "$max 'sleep 30' check commands alive at once: timed-out commands are not killed"
echo "ok: at most $max hanging check command alive at a time"
h=$(vsadm --json | python3 -c '
import json, sys
for s in json.load(sys.stdin)["services"]:
    if s.get("address") == "192.0.2.10:81":
        print([r.get("health") for r in s["reals"] if r["address"] == "203.0.113.11:8000"][0])')
assert_eq "down" "$h" "health of a real server whose check command hangs"
wait_log "$VSD_LOG" "192.0.2.10:81 -> 203.0.113.11:8000 is down (.*tim" || fail "no timeout reason logged for the hanging check"

stop_vsd
sleep 0.2
left=$(ip netns pids "$(ns dir)" | while read -r p; do tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline"; echo; done | grep -c '^sleep 30' || true)
assert_eq "0" "$left" "check commands left after vsd stopped"
echo "PASS: health_test"
