#!/usr/bin/env bash
# Scale-out (README "Scale-out"): three active directors behind a router's
# ECMP, each announcing the VIP by BGP (bird2, configured by `vsd bgp
# bird`), two DR real servers, mh with sloppy_tcp. Every director carries
# traffic; 30 downloads survive a director's hard failure (the flows ECMP
# moves find the same real server on the others); the router withdraws the
# dead director within the hold time; a stopped vsd and a killed vsd (bird
# still running) withdraw their director's route. The same for an IPv6 VIP
# over IPv6 BGP sessions: three ECMP paths, every director carrying
# requests, and each director's route withdrawn with its IPv4 one.
set -euo pipefail
cd "$(dirname "$0")/../.."
TOPO_PREFIX=vsdso$$
source tests/integration/lib/topology.sh
source tests/integration/lib/scaleout.sh
trap topo_down EXIT

so_up 3
t=$(so_wait_paths 3 40)
[ "$t" != never ] || fail "the router has $(so_paths) paths to $SO_VIP, not 3: $(in_ns router ip route show "$SO_VIP"); $(tail -n 3 "$TOPO_DIR/d1.bird.log")"
echo "ok: the router has 3 ECMP paths to $SO_VIP (one per director):"
in_ns router ip route show "$SO_VIP" | sed 's/^/    /'
grep -h "BGP: announcing VIP" "$TOPO_DIR"/vsd-d*.log | head -n 1 | sed 's/^/    /'

# Reachable through every director: short requests from many source ports.
ok=0
for i in $(seq 1 60); do
  [ -n "$(in_client curl -s --max-time 2 "http://$SO_VIP:8000/")" ] && ok=$((ok + 1))
done
assert_eq 60 "$ok" "requests answered through the three directors"
for n in 1 2 3; do
  c=$(so_conns "$n")
  [ "$c" -gt 0 ] || fail "director d$n scheduled no connection: ECMP sent it nothing"
  echo "ok: director d$n scheduled $c of the 60 connections"
done

# IPv6: the VIP over the IPv6 sessions, and the same spread.
t=$(so_wait_paths 3 20 "$SO_VIP6")
[ "$t" != never ] || fail "the router has $(so_paths "$SO_VIP6") paths to $SO_VIP6, not 3: $(in_ns router ip -6 route show "$SO_VIP6/128")"
echo "ok: the router has 3 ECMP paths to $SO_VIP6 over the IPv6 sessions:"
in_ns router ip -6 route show "$SO_VIP6/128" | sed 's/^/    /'
declare -A before6=()
for n in 1 2 3; do before6[$n]=$(so_conns "$n"); done
ok=0
for i in $(seq 1 60); do
  case "$(in_client curl -s --max-time 2 "http://[$SO_VIP6]:8000/")" in rs1 | rs2) ok=$((ok + 1)) ;; esac
done
assert_eq 60 "$ok" "IPv6 requests answered through the three directors"
for n in 1 2 3; do
  c=$(( $(so_conns "$n") - before6[$n] ))
  [ "$c" -gt 0 ] || fail "director d$n scheduled no IPv6 connection: ECMP sent it nothing"
  echo "ok: director d$n scheduled $c of the 60 IPv6 connections"
done

# Quorum: with no real server of weight left on d3 (keepalived's quorum 1
# lost), d3 withdraws the VIP, and announces it again when one is back.
for i in 1 2; do so_vsadm 3 -e -t "$SO_VIP:8000" -r "198.51.100.3$i:8000" -g -w 0; done
t=$(so_wait_paths 2 10)
[ "$t" != never ] || fail "d3 kept announcing $SO_VIP with no real server of weight"
echo "ok: d3 withdrew the VIP ${t} s after its services lost quorum"
so_vsadm 3 -e -t "$SO_VIP:8000" -r 198.51.100.31:8000 -g -w 1
t=$(so_wait_paths 3 10)
[ "$t" != never ] || fail "d3 did not announce $SO_VIP again"
echo "ok: d3 announced it again ${t} s after a real server came back"
so_vsadm 3 -e -t "$SO_VIP:8000" -r 198.51.100.32:8000 -g -w 1
grep -q "BGP: withdrawing VIP $SO_VIP (no service on it can serve" "$TOPO_DIR/vsd-d3.log" || fail "d3's log does not say why it withdrew"

# 30 downloads, about 10 s each; then d2 dies.
for i in $(seq 1 30); do
  in_client curl -s --max-time 120 --limit-rate 2M -o "$TOPO_DIR/dl$i" "http://$SO_VIP:8000/big.bin" &
  echo $! >"$TOPO_DIR/dl$i.pid"
done
for _ in $(seq 1 100); do
  started=0
  for i in $(seq 1 30); do [ "$(stat -c %s "$TOPO_DIR/dl$i" 2>/dev/null || echo 0)" -gt 1000000 ] && started=$((started + 1)); done
  [ "$started" = 30 ] && break
  sleep 0.1
done
assert_eq 30 "$started" "downloads running"
before=$(so_vsadm 2 -L -n | awk '$1 == "->" { n += $5 } END { print n + 0 }')
[ "$before" -gt 0 ] || fail "no download runs through d2"
echo "ok: $before of the 30 downloads run through d2 (its ActiveConn) when it dies"
so_kill 2
t=$(so_wait_paths 2 10)
[ "$t" != never ] || fail "the router still has $(so_paths) paths 10 s after d2 died"
echo "ok: the router withdrew d2's route ${t} s after it died (BGP hold time 3 s)"
t=$(so_wait_paths 2 10 "$SO_VIP6")
[ "$t" != never ] || fail "the router still has $(so_paths "$SO_VIP6") paths to $SO_VIP6 10 s after d2 died"
echo "ok: ... and its IPv6 route"
awk -v t="$t" 'BEGIN { exit !(t <= 4.0) }' || fail "the withdrawal took ${t} s, beyond the 3 s hold time"
for i in $(seq 1 30); do
  wait "$(cat "$TOPO_DIR/dl$i.pid")" || fail "download $i broke (curl exit $?)"
  [ "$(sha256sum "$TOPO_DIR/dl$i" | cut -d' ' -f1)" = "$(cat "$TOPO_DIR/big.sha256")" ] || fail "download $i arrived damaged"
done
echo "ok: all 30 downloads completed intact (sha256), those through d2 included"
moved=$(( $(so_counter 1 sloppy_adopted) + $(so_counter 3 sloppy_adopted) ))
[ "$moved" -gt 0 ] || fail "no flow moved to d1 or d3 (sloppy_adopted 0): the test did not move any"
echo "ok: $moved flow(s) that ECMP moved were picked up mid-stream by d1/d3 (sloppy_tcp, mh)"

# vsd stops on d1, bird stays: d1's route goes.
kill -TERM "${VSD_NODE_PID[d1]}"
t=$(so_wait_paths 1 10)
[ "$t" != never ] || fail "d1's route stayed after its vsd stopped: $(in_ns router ip route show "$SO_VIP")"
echo "ok: vsd stopped on d1 (bird running): the router withdrew d1's route in ${t} s"
grep -q "BGP: withdrawing VIP $SO_VIP (vsd stops)" "$TOPO_DIR/vsd-d1.log" || fail "d1's log does not say why it withdrew"
# vsd killed on d3, bird stays: its device goes with it, and the route.
kill -9 "${VSD_NODE_PID[d3]}"
t=$(so_wait_paths 0 10)
[ "$t" != never ] || fail "d3's route stayed after its vsd was killed: $(in_ns router ip route show "$SO_VIP")"
echo "ok: vsd killed on d3 (bird running): the router withdrew d3's route in ${t} s"
t=$(so_wait_paths 0 10 "$SO_VIP6")
[ "$t" != never ] || fail "IPv6 routes stayed after d1's vsd stopped and d3's was killed: $(in_ns router ip -6 route show "$SO_VIP6/128")"
echo "ok: ... and the IPv6 routes of both"
