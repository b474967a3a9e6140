#!/usr/bin/env bash
# vsd and the node it runs on, when things go wrong (issue 15):
#  - SIGHUP 50, 150 and 300 ms after start: vsd survives, becomes ready and
#    serves; SIGTERM at the same moments: a clean exit, no nft table and
#    no changed sysctl left behind;
#  - kill -9, a restart and a clean stop: the sysctls are back to their
#    values before the first start (the state file carries them over), on
#    the director and on a DR real server (whose VIPs leave lo too);
#  - a second vsd on the same node is refused with the first one's pid,
#    and the first one goes on serving;
#  - the control socket in a 1777 directory under umask 0: the directory
#    keeps its mode, the socket is 0600, a non-root peer is refused.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/topology.sh"
trap topo_down EXIT

topo_nat_up 2
sock="/run/${TOPO_PREFIX}/vsd.sock"
cfg="$TOPO_DIR/vsd.toml"
cat >"$cfg" <<TOML
[control]
socket = "$sock"
[[service]]
address = "192.0.2.10:80"
scheduler = "rr"
[[service.real]]
address = "203.0.113.11:8000"
[[service.real]]
address = "203.0.113.12:8000"
TOML

dsysctl() { in_director sysctl -n "$1"; }
fwd0=$(dsysctl net.ipv4.ip_forward)
ev0=$(dsysctl net.netfilter.nf_conntrack_events 2>/dev/null || echo absent)
[ "$fwd0" = 0 ] || fail "the director namespace starts with ip_forward=$fwd0 (expected 0: vsd must be the one that changes it)"

# launch: vsd in the director without waiting for it; pid in PID.
launch() {
  VSD_LOG=$TOPO_DIR/vsd.log VSD_SOCKET=$sock
  export VSD_LOG VSD_SOCKET
  : >"$VSD_LOG"
  ip netns exec "$(ns dir)" "$VSD_BIN" -c "$cfg" >>"$VSD_LOG" 2>&1 &
  PID=$!
}
# wait_in_main PID: until PID is vsd itself (no longer `ip netns exec`,
# which a signal kills) and vsd has taken charge of SIGHUP (blocked or
# caught: the first thing main does). "N ms after start" counts from there:
# before main no program can act on a signal, and systemd sends a reload's
# SIGHUP only once the unit has started. Bounded: 10 s.
wait_in_main() {
  local bin i blk cgt
  bin=$(readlink -f "$VSD_BIN")
  for ((i = 0; i < 200; i++)); do
    if [ "$(readlink -f "/proc/$1/exe" 2>/dev/null)" = "$bin" ]; then
      blk=$(awk '$1 == "SigBlk:" { print $2 }' "/proc/$1/status" 2>/dev/null || true)
      cgt=$(awk '$1 == "SigCgt:" { print $2 }' "/proc/$1/status" 2>/dev/null || true)
      if [ -n "$blk" ] && [ -n "$cgt" ] && (((0x$blk | 0x$cgt) & 2)); then return 0; fi
    fi
    sleep 0.05
  done
  fail "vsd (pid $1) did not reach main within 10 s"
}
# wait_exit PID: its exit status in RC (bounded: a watchdog kills it after
# 20 s, and that fails the test). Not in $(...): only this shell can wait.
wait_exit() {
  local dog
  (sleep 20; kill -9 "$1" 2>/dev/null && echo "watchdog: vsd $1 killed after 20 s" >&2) &
  dog=$!
  RC=0
  wait "$1" || RC=$?
  kill "$dog" 2>/dev/null || true
  wait "$dog" 2>/dev/null || true
  [ "$RC" != 137 ] || fail "vsd did not exit within 20 s of the signal"
}
node_is_clean() {  # node_is_clean WHAT
  assert_eq "" "$(vsd_tables)" "nft tables named vsd after $1"
  assert_eq "$fwd0" "$(dsysctl net.ipv4.ip_forward)" "ip_forward after $1"
  assert_eq "$ev0" "$(dsysctl net.netfilter.nf_conntrack_events 2>/dev/null || echo absent)" "nf_conntrack_events after $1"
}

# 1. SIGHUP during the start: survived, ready, serving; then a clean stop.
for ms in 50 150 300; do
  launch
  wait_in_main "$PID"
  sleep "0.$(printf '%03d' "$ms")"
  grep -q " info: ready$" "$VSD_LOG" && echo "note: vsd was ready before the SIGHUP at $ms ms" || true
  kill -HUP "$PID"
  wait_log "$VSD_LOG" " info: ready$" 15 || fail "vsd did not become ready after a SIGHUP at $ms ms: $(tail -5 "$VSD_LOG")"
  kill -0 "$PID" 2>/dev/null || fail "vsd died of a SIGHUP $ms ms after start"
  r=$(in_client curl -s --max-time 5 http://192.0.2.10/ || true)
  case "$r" in rs1 | rs2) echo "ok: served ($r) after a SIGHUP $ms ms after start" ;; *) fail "no answer after a SIGHUP at $ms ms: '$r'" ;; esac
  kill -TERM "$PID"
  wait_exit "$PID"; assert_eq 0 "$RC" "exit status on SIGTERM (after the SIGHUP at $ms ms)"
  node_is_clean "a SIGHUP at $ms ms and a stop"
done

# 2. SIGTERM during the start: a clean exit, nothing left behind.
for ms in 50 150 300; do
  launch
  wait_in_main "$PID"
  sleep "0.$(printf '%03d' "$ms")"
  kill -TERM "$PID"
  wait_exit "$PID"; assert_eq 0 "$RC" "exit status on a SIGTERM $ms ms after start"
  node_is_clean "a SIGTERM at $ms ms"
done

# 3. kill -9, a restart, a clean stop: the values from before the first start.
launch
wait_log "$VSD_LOG" " info: ready$" 15 || fail "vsd did not start"
assert_eq 1 "$(dsysctl net.ipv4.ip_forward)" "ip_forward while vsd runs"
kill -9 "$PID"; wait "$PID" 2>/dev/null || true
[ -s "/run/${TOPO_PREFIX}/vsd.state" ] || fail "no state file after kill -9"
assert_eq 1 "$(dsysctl net.ipv4.ip_forward)" "ip_forward after kill -9 (nobody restored it)"
launch
wait_log "$VSD_LOG" " info: ready$" 15 || fail "vsd did not start again"
wait_log "$VSD_LOG" "an earlier vsd did not clean up" || fail "the restarted vsd does not say it takes over"
wait_log "$VSD_LOG" "net.ipv4.ip_forward will be restored to 0" || fail "the restarted vsd does not take over ip_forward's original value"

# 4. A second vsd on the same node: refused, the first one untouched.
second_log=$TOPO_DIR/vsd-second.log
sed "s|$sock|/run/${TOPO_PREFIX}/second.sock|" "$cfg" >"$TOPO_DIR/second.toml"
rc=0
timeout 20 ip netns exec "$(ns dir)" "$VSD_BIN" -c "$TOPO_DIR/second.toml" >"$second_log" 2>&1 || rc=$?
assert_eq 1 "$rc" "exit status of a second vsd on the node"
grep -q "another vsd (pid $PID) runs on this node" "$second_log" || fail "the second vsd does not name the first: $(cat "$second_log")"
echo "ok: $(grep -o 'another vsd (pid [0-9]*) runs on this node[^;]*' "$second_log")"
r=$(in_client curl -s --max-time 5 http://192.0.2.10/ || true)
case "$r" in rs1 | rs2) echo "ok: the first vsd still serves ($r)" ;; *) fail "the first vsd stopped serving after the second one's attempt: '$r'" ;; esac
kill -TERM "$PID"
wait_exit "$PID"; assert_eq 0 "$RC" "exit status of the restarted vsd on SIGTERM"
node_is_clean "kill -9, a restart and a clean stop"
[ ! -e "/run/${TOPO_PREFIX}/vsd.state" ] || fail "the state file is still there after a clean stop"

# 5. The control socket in a sticky world-writable directory, under umask 0.
sticky=$TOPO_DIR/sticky
mkdir -p "$sticky"; chmod 1777 "$sticky"
sed "s|$sock|$sticky/vsd.sock|" "$cfg" >"$TOPO_DIR/sticky.toml"
VSD_LOG=$TOPO_DIR/vsd.log VSD_SOCKET=$sticky/vsd.sock
: >"$VSD_LOG"
ip netns exec "$(ns dir)" sh -c 'umask 0; exec "$0" -c "$1"' "$VSD_BIN" "$TOPO_DIR/sticky.toml" >>"$VSD_LOG" 2>&1 &
PID=$!
wait_log "$VSD_LOG" " info: ready$" 15 || fail "vsd did not start with its socket in a 1777 directory"
assert_eq 1777 "$(stat -c %a "$sticky")" "mode of the socket's 1777 directory"
assert_eq 600 "$(stat -c %a "$sticky/vsd.sock")" "mode of the control socket under umask 0"
out=$(in_director setpriv --reuid=65534 --regid=65534 --clear-groups "$VSADM_BIN" --socket "$sticky/vsd.sock" -L -n 2>&1 || true)
grep -qi "permission denied\|not allowed\|refused" <<<"$out" || fail "a non-root vsadm was not refused: $out"
echo "ok: a non-root vsadm is refused: $(head -1 <<<"$out")"
in_director "$VSADM_BIN" --socket "$sticky/vsd.sock" -L -n | grep -q "192.0.2.10:80" || fail "root's vsadm does not list the service"
kill -TERM "$PID"
wait_exit "$PID"; assert_eq 0 "$RC" "exit status on SIGTERM (socket in a 1777 directory)"
node_is_clean "the sticky-directory run"

# 6. A DR real server: kill -9, a restart, a clean stop: its VIP off lo and
# its ARP sysctls back to what they were.
topo_down
TOPO_PREFIX="${TOPO_PREFIX}r"; TOPO_DIR="/tmp/${TOPO_PREFIX}-topo"
topo_dr_up 1
rcfg="$TOPO_DIR/rs.toml"
cat >"$rcfg" <<TOML
[control]
socket = "$TOPO_DIR/ctl/vsd.sock"
[[service]]
address = "$LB_VIP4:8000"
[[service.real]]
address = "$(lb_rs_ip4 1)"
forward = "dr"
TOML
rsctl() { ip netns exec "$(ns rs1)" "$@"; }
ai0=$(rsctl sysctl -n net.ipv4.conf.all.arp_ignore)
start_vsd_on rs1 realserver "$rcfg"
rsctl ip -4 addr show dev lo | grep -q "$LB_VIP4/32" || fail "the real server's VIP is not on lo"
kill -9 "${VSD_NODE_PID[rs1]}"; wait "${VSD_NODE_PID[rs1]}" 2>/dev/null || true
VSD_NODE_PID[rs1]=
rsctl ip -4 addr show dev lo | grep -q "$LB_VIP4/32" || fail "the VIP left lo at kill -9 (nobody removed it)"
start_vsd_on rs1 realserver "$rcfg"
wait_log "$TOPO_DIR/vsd-rs1.log" "an earlier vsd did not clean up" || fail "the real server's restarted vsd does not take over"
stop_vsd_on rs1
assert_eq "" "$(rsctl ip -4 addr show dev lo | grep -o "$LB_VIP4/32" || true)" "the VIP on the real server's lo after kill -9, a restart and a clean stop"
assert_eq "$ai0" "$(rsctl sysctl -n net.ipv4.conf.all.arp_ignore)" "arp_ignore on the real server after kill -9, a restart and a clean stop"
echo "PASS: node_safety_test"
