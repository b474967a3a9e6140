#!/usr/bin/env bash
# vsd's side of systemd's Type=notify and watchdog, without systemd (this
# host's PID 1 need not be systemd; tests/vm/run.sh has the real thing): a
# listener plays systemd's notify socket (NOTIFY_SOCKET, WATCHDOG_USEC=2 s).
#  (a) READY=1 with a STATUS= line, sent once the nft tables are in (the
#      listener looks at `nft list table ip vsd` when READY=1 arrives);
#  (b) WATCHDOG=1 every second while the data threads run;
#  (c) SIGHUP: RELOADING=1 (with MONOTONIC_USEC) then READY=1 and a STATUS=
#      that says reloaded; a broken file: READY=1 and "reload refused";
#  (d) one data thread (NFQUEUE 4 of 4..5) stopped alone (ptrace): within
#      ~3 s vsd logs the stall, says so in STATUS= and sends no WATCHDOG=1
#      while it lasts; resumed: logged, and the pings come back;
#  (e) SIGTERM: STOPPING=1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${TOPO_PREFIX:=vsdsd$$}"
source "$here/lib/topology.sh"
trap topo_down EXIT

topo_nat_up 1
sock="/run/${TOPO_PREFIX}/vsd.sock"
cfg="$TOPO_DIR/vsd.toml"
write_cfg() {
  cat >"$cfg" <<TOML
[director]
queue = 4
queues = 2
[control]
socket = "$sock"
[[service]]
address = "192.0.2.10:80"
protocol = "tcp"
scheduler = "rr"
[[service.real]]
address = "203.0.113.11:8000"
TOML
}
write_cfg
notify="$TOPO_DIR/notify.sock"
nlog="$TOPO_DIR/notify.log"
python3 "$here/lib/notify_listener.py" "$notify" "$nlog" "ip netns exec $(ns dir) nft list table ip vsd" &
echo $! >>"$TOPO_DIR/pids"
wait_log "$nlog" "^listening$" 5 || fail "the notify listener did not start"

export NOTIFY_SOCKET=$notify WATCHDOG_USEC=2000000
start_vsd "$cfg"
unset NOTIFY_SOCKET WATCHDOG_USEC

# (a)
wait_log "$nlog" "READY=1" 3 || fail "no READY=1: $(cat "$nlog")"
ready=$(grep -m1 "READY=1" "$nlog")
echo "  $ready"
grep -q "STATUS=director: 1 services, 1 real servers, NFQUEUE 4..5; ready since " <<<"$ready" || fail "READY=1 without the expected STATUS: $ready"
grep -q " check=0$" <<<"$ready" || fail "table ip vsd did not exist when READY=1 arrived: $ready"
echo "ok: READY=1 with STATUS=, sent with table ip vsd in place"
grep -q "watchdog: systemd expects a sign of life every 2000 ms" "$VSD_LOG" || fail "vsd did not log the watchdog interval"

# (b)
sleep 3
pings=$(grep -c "WATCHDOG=1" "$nlog" || true)
[ "$pings" -ge 2 ] || fail "expected WATCHDOG=1 about every second, got $pings in 3 s"
echo "ok: $pings WATCHDOG=1 in the first seconds"

# (c)
kill -HUP "$VSD_PID"
wait_log "$nlog" "STATUS=director: .*reloaded at" 5 || fail "no READY=1 after the reload: $(tail -5 "$nlog")"
grep -q "RELOADING=1|MONOTONIC_USEC=[0-9]*|STATUS=reloading $cfg" "$nlog" || fail "no RELOADING=1: $(tail -5 "$nlog")"
grep -q "READY=1|STATUS=director: 1 services, 1 real servers, NFQUEUE 4..5; reloaded at" "$nlog" || fail "no READY=1 with the reload's STATUS="
echo "ok: SIGHUP -> RELOADING=1, then READY=1 with STATUS=...reloaded at"
echo "broken [" >>"$cfg"
kill -HUP "$VSD_PID"
wait_log "$nlog" "READY=1|STATUS=.*reload refused" 5 || fail "no READY=1 + reload refused after a broken reload: $(tail -5 "$nlog")"
echo "ok: a refused reload: $(grep -m1 -o 'STATUS=.*reload refused[^|]*' "$nlog")"
write_cfg

# (d) one data thread stopped alone.
tid=
for t in /proc/"$VSD_PID"/task/*; do
  [ "$(cat "$t/comm" 2>/dev/null)" = vsd-queue-4 ] && tid=${t##*/}
done
[ -n "$tid" ] || fail "no thread named vsd-queue-4 in vsd: $(cat /proc/"$VSD_PID"/task/*/comm | tr '\n' ' ')"
echo "data thread of NFQUEUE 4: tid $tid"
python3 "$here/lib/wedge_thread.py" "$tid" 7 >"$TOPO_DIR/wedge.out" 2>&1 &
wedge=$!
rc=0
for _ in $(seq 1 30); do
  grep -q stopped "$TOPO_DIR/wedge.out" && break
  kill -0 "$wedge" 2>/dev/null || { wait "$wedge" || rc=$?; break; }
  sleep 0.1
done
if [ "$rc" = 77 ]; then
  echo "SKIP (d): ptrace not allowed here: $(cat "$TOPO_DIR/wedge.out")"
else
  grep -q stopped "$TOPO_DIR/wedge.out" || fail "could not stop the data thread: $(cat "$TOPO_DIR/wedge.out")"
  wait_log "$VSD_LOG" "error: watchdog: data thread of NFQUEUE 4 made no progress for [0-9]* s; not telling systemd" 6 ||
    fail "vsd did not notice its stopped data thread"
  echo "  log: $(grep -m1 -o 'watchdog: data thread of NFQUEUE 4 made no progress.*' "$VSD_LOG")"
  wait_log "$nlog" "STATUS=stalled: data thread of NFQUEUE 4" 2 || fail "no STATUS= naming the stall"
  before=$(grep -c "WATCHDOG=1" "$nlog" || true)
  sleep 2
  grep -q resumed "$TOPO_DIR/wedge.out" && fail "the thread resumed too early for the check"
  assert_eq "$before" "$(grep -c "WATCHDOG=1" "$nlog" || true)" "WATCHDOG=1 count while the data thread is stopped (unchanged)"
  wait "$wedge" || fail "wedge_thread.py failed: $(cat "$TOPO_DIR/wedge.out")"
  wait_log "$VSD_LOG" "warning: watchdog: data thread of NFQUEUE 4 made progress again" 4 || fail "no recovery line"
  for _ in $(seq 1 30); do
    [ "$(grep -c "WATCHDOG=1" "$nlog" || true)" -gt "$before" ] && break
    sleep 0.1
  done
  [ "$(grep -c "WATCHDOG=1" "$nlog" || true)" -gt "$before" ] || fail "no WATCHDOG=1 after the thread resumed"
  echo "ok: a stopped data thread stops the pings (systemd would restart vsd); resumed, they come back"
fi
assert_eq rs1 "$(in_client curl -s --max-time 5 http://192.0.2.10/)" "HTTP through the VIP after all that"

# (e)
stop_vsd
wait_log "$nlog" "STOPPING=1" 2 || fail "no STOPPING=1 at SIGTERM"
echo "ok: SIGTERM -> $(grep -m1 -o 'STOPPING=1.*' "$nlog")"
echo "sd_notify_test: all passed"
