#!/usr/bin/env bash
# Flood defences (issue 15, "Table exhaustion"): a SYN flood from spoofed
# sources at one VIP of a small table (max_connections = 2000) must not
# keep legitimate clients out, at that VIP or at another one.
#
# The flood: 30000 SYNs at most, at 2500/s, for 20 s at most, from
# 192.0.2.128/25 (documentation addresses the director routes back into the
# client's namespace, where the real servers' SYN-ACKs die). During it,
# 10 requests to the flooded VIP and 10 to another VIP, all at once, each
# with 6 s to be answered.
#
# Runs, each with a fresh vsd (the flood: SYNs, or SYN then ACK "pairs"):
#   userspace, drop_entry = 0 (vsd before the defences)       figures only
#   userspace, defaults (drop_entry = 1)                       >= 9/10 both
#   fast path, defaults                                        >= 9/10 both
#   fast path, synproxy = true on the flooded VIP,
#              drop_entry = 0                                  >= 9/10 both,
#     and the flood never reaches vsd (its table stays small; the kernel's
#     synproxy counters count the SYNs)
#   userspace, pairs, table_share = 0.5 on the flooded VIP     >= 9/10 at the
#     other VIP (the pairs look established to IPVS's normal state table:
#     nothing to evict, the flooded VIP's share is full of them)
#   userspace, pairs, secure_tcp = 3                           >= 9/10 both
#     (the secure state table keeps the pairs half-open: evictable)
#   fast path, pairs, defaults                                 >= 9/10 both
#     (conntrack judges the handshake: the pairs stay half-open)
# Every run prints its figures (answered x/10, the table, the defence
# counters) and the defence lines of vsd's log. About 50 s in all.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/topology.sh"
trap topo_down EXIT

FLOOD_COUNT=${FLOOD_COUNT:-30000}
FLOOD_RATE=${FLOOD_RATE:-2500}
FLOOD_SECONDS=${FLOOD_SECONDS:-20}
SPOOFED=192.0.2.128/25

topo_nat_up 2
sock="/run/${TOPO_PREFIX}/vsd.sock"
in_director ip addr add 192.0.2.11/32 dev dc0
# The spoofed sources live behind the client: replies to them leave the
# director toward it and die there (no forwarding in the client).
in_director ip route add "$SPOOFED" via 198.51.100.2
in_client sysctl -qw net.ipv4.ip_forward=0

# write_cfg FILE: the config of a run, from the run's settings (run()).
write_cfg() {
  cat >"$1" <<TOML
[director]
queue = 9
max_connections = 2000
fast_path = $FAST
drop_entry = $DROP_ENTRY
secure_tcp = $SECURE_TCP
[control]
socket = "$sock"
[[service]]
address = "192.0.2.10:80"
scheduler = "rr"
synproxy = $SYNPROXY
table_share = $SHARE
[[service.real]]
address = "203.0.113.11:8000"
[[service.real]]
address = "203.0.113.12:8000"
[[service]]
address = "192.0.2.11:80"
scheduler = "rr"
[[service.real]]
address = "203.0.113.11:8000"
[[service.real]]
address = "203.0.113.12:8000"
TOML
}

conns() { vsadm --json -L | python3 -c "import json,sys; print(json.load(sys.stdin)['connections'])"; }
# Packets the kernel's queue dropped (full, or vsd's socket): vsd's CPU
# running out, not its table.
queue_drops() {
  vsadm --json -L | python3 -c "import json,sys; print(sum(q['kernel_queue_dropped'] + q['kernel_user_dropped'] for q in json.load(sys.stdin)['queues']))"
}
synproxy_received() {  # SYNs the kernel's synproxy answered, all CPUs (hex columns)
  in_director python3 -c 'import sys; print(sum(int(l.split()[1], 16) for l in open("/proc/net/stat/synproxy").readlines()[1:]))'
}

# requests VIP N: N requests at once to http://VIP/, each with 6 s; prints
# how many were answered by a real server, and the slowest answer's time.
requests() {
  local vip=$1 n=$2 i ok=0 dir times=0
  dir=$(mktemp -d "$TOPO_DIR/req.XXXX")
  for i in $(seq 1 "$n"); do
    in_client curl -s --max-time 6 -o "$dir/$i" -w '%{time_total}\n' "http://$vip/" >"$dir/$i.t" &
  done
  wait_requests
  for i in $(seq 1 "$n"); do
    if grep -q '^rs[0-9]' "$dir/$i" 2>/dev/null; then
      ok=$((ok + 1))
      times+=" $(cat "$dir/$i.t")"
    fi
  done
  echo "$ok $(printf '%s\n' $times | sort -g | tail -n 1)"
}
# Waits for the background curls only (not the flood).
wait_requests() {
  local p
  for p in $(jobs -p); do
    [ "$p" = "${FLOOD_PID:-}" ] || wait "$p" || true
  done
}

# run NAME MUST: one run with the settings FAST DROP_ENTRY SECURE_TCP
# SYNPROXY SHARE MODE (syn|pairs); MUST: "both" (>= 9/10 at each VIP),
# "other" (at the other VIP) or "none" (figures only).
run() {
  # SYNFLOOD_ONLY=NAME: that run alone (when looking into one).
  [ -z "${SYNFLOOD_ONLY:-}" ] || [ "$SYNFLOOD_ONLY" = "$1" ] || return 0
  local name=$1 must=$2 cfg="$TOPO_DIR/$1.toml" a b full=0 t spx_before
  echo "=== $name: fast_path = $FAST, drop_entry = $DROP_ENTRY, secure_tcp = $SECURE_TCP," \
    "synproxy = $SYNPROXY, table_share = $SHARE, flood of $MODE"
  write_cfg "$cfg"
  start_vsd "$cfg" "$TOPO_DIR/$name.log"
  spx_before=$(synproxy_received)
  # Both VIPs answer before the flood.
  [ "$(requests 192.0.2.10 1 | cut -d' ' -f1)" = 1 ] || fail "$name: 192.0.2.10 does not answer before the flood"
  [ "$(requests 192.0.2.11 1 | cut -d' ' -f1)" = 1 ] || fail "$name: 192.0.2.11 does not answer before the flood"
  # Not through in_client: $! must be the flood itself, for kill below.
  ip netns exec "$(ns client)" python3 "$here/lib/syn_flood.py" 192.0.2.10 80 "$SPOOFED" "$FLOOD_COUNT" \
    "$FLOOD_SECONDS" "$FLOOD_RATE" "$MODE" >"$TOPO_DIR/$name.flood" &
  FLOOD_PID=$!
  # Until the flood holds the table (or its share of it), 50 looks at most;
  # with the SYN proxy it never gets in: 10 looks (a second or more).
  local target=1900
  [ "$SHARE" = 1.0 ] || target=990
  for t in $(seq 1 50); do
    full=$(conns)
    [ "$full" -ge "$target" ] && break
    [ "$SYNPROXY" = true ] && [ "$t" -ge 10 ] && break
    sleep 0.1
  done
  echo "table during the flood: $full of 2000 entries;" \
    "$(vsadm -L -n -c | awk '$1 == "TCP" { n[$3]++ } END { for (s in n) { printf "%s %s=%d", sep, s, n[s]; sep = "," } }')"
  kill -0 "$FLOOD_PID" 2>/dev/null || fail "$name: the flood ended before the requests"
  # The flooded VIP and the other one, at once.
  local da="$TOPO_DIR/$name.a" db="$TOPO_DIR/$name.b"
  requests 192.0.2.10 10 >"$da" &
  local pa=$!
  requests 192.0.2.11 10 >"$db" &
  local pb=$!
  wait "$pa" "$pb" || true
  local ta tb
  read -r a ta <"$da"
  read -r b tb <"$db"
  local still=no
  kill -0 "$FLOOD_PID" 2>/dev/null && still=yes
  echo "$name: answered $a/10 at the flooded VIP 192.0.2.10 (slowest ${ta} s) and $b/10 at the other VIP" \
    "192.0.2.11 (slowest ${tb} s) during the flood (flood still running at the end: $still)"
  echo "$name: counters: table_full=$(vsd_counter table_full) drop_entry=$(vsd_counter drop_entry)" \
    "share_full=$(vsd_counter share_full) drop_packet=$(vsd_counter drop_packet)" \
    "conns_created=$(vsd_counter conns_created) connections=$(conns) queue_drops=$(queue_drops)"
  if [ "$SYNPROXY" = true ]; then
    local spx=$(($(synproxy_received) - spx_before)) created
    created=$(vsd_counter conns_created)
    echo "$name: the kernel's synproxy answered $spx SYNs; vsd created $created entries"
    [ "$spx" -ge 1000 ] || fail "$name: synproxy answered only $spx SYNs"
    [ "$full" -lt 100 ] || fail "$name: the flood reached vsd's table ($full entries) despite synproxy"
    [ "$created" -lt 100 ] || fail "$name: vsd created $created entries despite synproxy"
  fi
  grep -h "defence:" "$VSD_LOG" | sed 's/^/  log: /' | head -n 4 || true
  kill "$FLOOD_PID" 2>/dev/null || true
  wait "$FLOOD_PID" 2>/dev/null || true
  FLOOD_PID=
  echo "$name: the flood sent $(cat "$TOPO_DIR/$name.flood" 2>/dev/null || echo '?') ($MODE)"
  stop_vsd
  case $must in
    both | other)
      [ "$b" -ge 9 ] || fail "$name: only $b/10 requests to the other VIP 192.0.2.11 answered during the flood"
      echo "ok: $name: $b/10 answered at the other VIP 192.0.2.11 during the flood"
      ;;&
    both)
      [ "$a" -ge 9 ] || fail "$name: only $a/10 requests to the flooded VIP 192.0.2.10 answered during the flood"
      echo "ok: $name: $a/10 answered at the flooded VIP 192.0.2.10 during the flood"
      ;;
  esac
  # The spoofed flows' conntrack entries would outlive vsd (fast path):
  # the next run starts from an empty table.
  in_director conntrack -F >/dev/null 2>&1 || true
}

FAST=false DROP_ENTRY=0 SECURE_TCP=0 SYNPROXY=false SHARE=1.0 MODE=syn run userspace-undefended none
FAST=false DROP_ENTRY=1 SECURE_TCP=0 SYNPROXY=false SHARE=1.0 MODE=syn run userspace-defended both
FAST=true DROP_ENTRY=1 SECURE_TCP=0 SYNPROXY=false SHARE=1.0 MODE=syn run fastpath-defended both
FAST=true DROP_ENTRY=0 SECURE_TCP=0 SYNPROXY=true SHARE=1.0 MODE=syn run fastpath-synproxy both
FAST=false DROP_ENTRY=1 SECURE_TCP=0 SYNPROXY=false SHARE=0.5 MODE=pairs run pairs-share other
FAST=false DROP_ENTRY=1 SECURE_TCP=3 SYNPROXY=false SHARE=1.0 MODE=pairs run pairs-secure both
FAST=true DROP_ENTRY=1 SECURE_TCP=0 SYNPROXY=false SHARE=1.0 MODE=pairs run fastpath-pairs both
echo "PASS: synflood_test"
