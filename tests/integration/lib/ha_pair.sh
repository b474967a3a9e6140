# A director pair in network namespaces (README "A director pair"), run
# the way the README tells an operator to: one cluster file with [ha];
# `vsd ha keepalived` and `vsd ha conntrackd` write keepalived's and
# conntrackd's configurations; keepalived's notify is etc/vsd-ha-notify.
# Source after topology.sh. ha_pair_up nat|dr|tun builds:
#
#   NAT: client, d1, d2 on one segment (namespace sw, bridge brc);
#        d1, d2, rs1, rs2 on a second (bridge brs); d1 -- d2 direct (sync)
#     client  198.51.100.2/24 (and .20-.29 for persistence)
#     dN      eth0 198.51.100.1N/24   eth1 203.0.113.(1+N)/24   eth2 192.0.2.N/24
#     VIP     198.51.100.100 on the master's eth0 (keepalived)
#     gateway 203.0.113.1 on the master's eth1 (keepalived): rsN's default route
#     rsN     203.0.113.1N/24
#   DR, TUN: one segment (bridge brc): client, d1, d2 as above, and
#     rsN     198.51.100.3N/24, VIP on lo (vsd --role realserver, same file;
#             TUN: it also takes the IP-in-IP packets off the tunnel)
#
# Every real server: busybox httpd on :8000 and :8080 ("/" answers "rsN",
# /big.bin is 20 MiB) and a TCP echo on :7000. The VIP's services: :8000
# (rr: the download), :7000 (rr: the idle connection), :8080 (rr,
# persistent 300 s).

HA_VIP=198.51.100.100
HA_MODE=
declare -gA HA_PID=()  # "d1-keepalived" -> pid, ...

ha_vsadm() { local n=$1; shift; vsadm_on "d$n" "$@"; }
ha_rs_ip() { if [ "$HA_MODE" = nat ]; then echo "203.0.113.1$1"; else echo "198.51.100.3$1"; fi; }

# _ha_port NODE IFNAME BRIDGE: a veth IFNAME in NODE, its peer in sw's BRIDGE.
_ha_port() { _topo_link "$1" sw "$1$2" "$3" "$2"; }

_ha_servers() {
  local i=$1 www="$TOPO_DIR/www$i"
  mkdir -p "$www"
  echo "rs$i" >"$www/index.html"
  ln -f "$TOPO_DIR/big.bin" "$www/big.bin"
  in_rs "$i" busybox httpd -f -p 8000 -h "$www" &
  echo $! >>"$TOPO_DIR/pids"
  in_rs "$i" busybox httpd -f -p 8080 -h "$www" &
  echo $! >>"$TOPO_DIR/pids"
  in_rs "$i" socat TCP-LISTEN:7000,fork,reuseaddr EXEC:cat &
  echo $! >>"$TOPO_DIR/pids"
}

ha_config() {
  local fwd=$1
  cat <<EOF
[director]
queue = 41
[control]
socket = "/run/vsd/vsd.sock"
[ha]
directors = ["192.0.2.1", "192.0.2.2"]
interface = "eth0"
advert_ms = 500
virtual_router_id = 61
EOF
  if [ "$fwd" = nat ]; then
    printf 'gateway = "203.0.113.1/24"\ngateway_interface = "eth1"\n'
  fi
  local port persist
  for port in 8000 7000 8080; do
    persist=
    [ "$port" = 8080 ] && persist='persistent = 300'
    printf '\n[[service]]\naddress = "%s:%s"\nscheduler = "rr"\n%s\n' "$HA_VIP" "$port" "$persist"
    for i in 1 2; do
      printf '[[service.real]]\naddress = "%s:%s"\nforward = "%s"\n' "$(ha_rs_ip "$i")" "$port" "$fwd"
    done
  done
}

ha_pair_up() {
  HA_MODE=$1
  local i n
  TOPO_RS=2
  mkdir -p "$TOPO_DIR"
  _topo_make_content
  _topo_ns_new sw
  in_ns sw ip link add brc type bridge stp_state 0 mcast_snooping 0
  in_ns sw ip link set brc up
  in_ns sw ip link add brs type bridge stp_state 0 mcast_snooping 0
  in_ns sw ip link set brs up
  for n in client d1 d2 rs1 rs2; do _topo_ns_new "$n"; done
  _ha_port client eth0 brc
  in_client ip addr add 198.51.100.2/24 dev eth0
  for i in $(seq 20 29) 3; do in_client ip addr add "198.51.100.$i/24" dev eth0; done
  for n in 1 2; do
    _ha_port "d$n" eth0 brc
    in_ns "d$n" ip addr add "198.51.100.1$n/24" dev eth0
  done
  ip link add eth2 netns "$(ns d1)" type veth peer name eth2 netns "$(ns d2)"
  for n in 1 2; do
    in_ns "d$n" ip addr add "192.0.2.$n/24" dev eth2
    in_ns "d$n" ip link set eth2 up
  done
  if [ "$HA_MODE" = nat ]; then
    for n in 1 2; do
      _ha_port "d$n" eth1 brs
      in_ns "d$n" ip addr add "203.0.113.$((1 + n))/24" dev eth1
    done
    for i in 1 2; do
      _ha_port "rs$i" eth0 brs
      in_rs "$i" ip addr add "$(ha_rs_ip "$i")/24" dev eth0
      in_rs "$i" ip route add default via 203.0.113.1
    done
  else
    for i in 1 2; do
      _ha_port "rs$i" eth0 brc
      in_rs "$i" ip addr add "$(ha_rs_ip "$i")/24" dev eth0
    done
  fi
  ha_config "$HA_MODE" >"$TOPO_DIR/vsd.toml"
  for i in 1 2; do _ha_servers "$i"; done
  _topo_wait_servers
  if [ "$HA_MODE" != nat ]; then
    for i in 1 2; do start_vsd_on "rs$i" realserver "$TOPO_DIR/vsd.toml"; done
  fi
  for n in 1 2; do ha_director_up "$n"; done
}

# ha_director_up N: conntrackd (NAT), vsd and keepalived on dN, configured
# from the cluster file as the README says.
ha_director_up() {
  local n=$1 node="d$1" dir="$TOPO_DIR/d$1" ctconf=none notify
  mkdir -p "$dir"
  if [ "$HA_MODE" = nat ]; then
    ctconf="$dir/conntrackd.conf"
    in_ns "$node" "$VSD_BIN" ha conntrackd -c "$TOPO_DIR/vsd.toml" --state-dir "$dir" >"$ctconf" ||
      fail "vsd ha conntrackd on $node"
    rm -f "$dir/conntrackd.lock" "$dir/conntrackd.ctl"
    in_ns "$node" conntrackd -C "$ctconf" >"$dir/conntrackd.log" 2>&1 &
    HA_PID[$node-conntrackd]=$!
    echo $! >>"$TOPO_DIR/pids"
    disown $!  # ha_kill kills it: no "Killed" notice from bash
    for _ in $(seq 1 50); do [ -S "$dir/conntrackd.ctl" ] && break; sleep 0.1; done
    [ -S "$dir/conntrackd.ctl" ] || fail "conntrackd on $node did not start: $(cat "$dir/conntrackd.log")"
  fi
  start_vsd_on "$node" "" "$TOPO_DIR/vsd.toml"
  disown "${VSD_NODE_PID[$node]}"  # ha_kill kills it
  notify="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/etc/vsd-ha-notify --socket $(node_sock "$node") --vsadm $(realpath "$VSADM_BIN") --conntrackd-conf $ctconf"
  in_ns "$node" "$VSD_BIN" ha keepalived -c "$TOPO_DIR/vsd.toml" --notify "$notify" >"$dir/keepalived.conf" ||
    fail "vsd ha keepalived on $node"
  in_ns "$node" keepalived --dont-fork --log-console --log-detail --vrrp --use-file "$dir/keepalived.conf" \
    --pid "$dir/keepalived.pid" --vrrp_pid "$dir/vrrp.pid" >"$dir/keepalived.log" 2>&1 &
  HA_PID[$node-keepalived]=$!
  echo $! >>"$TOPO_DIR/pids"
  disown $!
}

# ha_role N: "master", "backup" or "" as dN's vsd lists it (-L --daemon).
ha_role() { ha_vsadm "$1" -L --daemon 2>/dev/null | awk '/sync daemon/ { print $1; exit }'; }

# ha_wait_roles MASTER BACKUP [SECONDS]: until dMASTER is master and dBACKUP backup.
ha_wait_roles() {
  local m=$1 b=$2 secs=${3:-20}
  for _ in $(seq 1 $((secs * 10))); do
    [ "$(ha_role "$m")" = master ] && [ "$(ha_role "$b")" = backup ] && return 0
    sleep 0.1
  done
  fail "d$m is not master and d$b backup after ${secs} s: d$m '$(ha_role "$m")', d$b '$(ha_role "$b")'; keepalived: $(tail -n 5 "$TOPO_DIR/d$m/keepalived.log")"
}

# ha_kill N: a hard failure of dN: its links down and keepalived, vsd and
# conntrackd killed (SIGKILL), as a power loss leaves it.
ha_kill() {
  local n=$1 node="d$1" p
  # Links first: a dying keepalived's VRRP child still sends a priority-0
  # advert, which would make this a graceful handover.
  for p in eth0 eth1 eth2; do in_ns "$node" ip link set "$p" down 2>/dev/null || true; done
  for p in "${HA_PID[$node-keepalived]:-}" "${VSD_NODE_PID[$node]:-}" "${HA_PID[$node-conntrackd]:-}"; do
    [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true
  done
  # keepalived's children (its VRRP process) too.
  for p in $(ip netns pids "$(ns "$node")" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
  VSD_NODE_PID[$node]=
  rm -f "$TOPO_DIR/vsd-$node.pid"
}

# ha_revive N: dN's links up again and its daemons started afresh.
ha_revive() {
  local n=$1 node="d$1" p
  for p in eth0 eth1 eth2; do in_ns "$node" ip link set "$p" up 2>/dev/null || true; done
  # A killed director's leftover VIPs and gateway (keepalived did not remove them).
  in_ns "$node" ip addr del "$HA_VIP/32" dev eth0 2>/dev/null || true
  in_ns "$node" ip addr del 203.0.113.1/24 dev eth1 2>/dev/null || true
  ha_director_up "$n"
}

# ha_first_rs PORT SRC: which real server answers "/" on VIP:PORT from SRC ("" on failure).
ha_first_rs() { in_client curl -s --max-time 2 --interface "$2" "http://$HA_VIP:$1/" 2>/dev/null; }

# ha_time_to_answer: seconds until VIP:8080 answers a new connection, polled.
ha_time_to_answer() {
  local start now
  start=$(date +%s.%N)
  for _ in $(seq 1 300); do
    if [ -n "$(in_client curl -s --max-time 0.5 --interface 198.51.100.3 "http://$HA_VIP:8080/" 2>/dev/null)" ]; then
      now=$(date +%s.%N)
      echo "$start $now" | awk '{ printf "%.2f", $2 - $1 }'
      return 0
    fi
    sleep 0.05
  done
  echo never
}

# The idle connection: connects to VIP:7000, has one line echoed, waits
# until the file $2 exists, then has a second line echoed on the same
# connection. Writes "ready" to $1 after the first echo; exits 0 when the
# second one came back.
_HA_IDLE_PY='
import socket, sys, os, time
ready, go = sys.argv[1], sys.argv[2]
s = socket.create_connection(("198.51.100.100", 7000), timeout=5)
s.sendall(b"before the failover\n")
assert s.recv(100) == b"before the failover\n"
open(ready, "w").write("ready")
deadline = time.time() + 90
while not os.path.exists(go):
    if time.time() > deadline: sys.exit("no go")
    time.sleep(0.05)
s.settimeout(20)
s.sendall(b"after the failover\n")
got = b""
while not got.endswith(b"\n"):
    chunk = s.recv(100)
    if not chunk: sys.exit("closed")
    got += chunk
sys.exit(0 if got == b"after the failover\n" else "got %r" % got)
'

# ha_switch WHAT DOWN UP: with a download and an idle connection running
# through dDOWN (the master), runs WHAT (a function that makes dUP master),
# then checks that both survive, that the VIP answered within 3 s, and that
# the 10 clients' persistence held. Prints the figures.
ha_switch() {
  local what=$1 down=$2 up=$3 tag=$4 dl="$TOPO_DIR/dl-$4" t i rs
  rm -f "$TOPO_DIR/idle-ready" "$TOPO_DIR/idle-go"
  # 20 MiB at 2 MB/s: about 10 s, so the switch comes in the middle.
  in_client curl -s --max-time 90 --limit-rate 2M -o "$dl" "http://$HA_VIP:8000/big.bin" &
  local dl_pid=$!
  in_client python3 -c "$_HA_IDLE_PY" "$TOPO_DIR/idle-ready" "$TOPO_DIR/idle-go" &
  local idle_pid=$!
  for _ in $(seq 1 100); do
    [ -f "$TOPO_DIR/idle-ready" ] && [ "$(stat -c %s "$dl" 2>/dev/null || echo 0)" -gt 2000000 ] && break
    sleep 0.1
  done
  [ -f "$TOPO_DIR/idle-ready" ] || fail "$tag: the idle connection did not start"
  # The backup has both connections (vsd's sync) before the switch.
  for _ in $(seq 1 50); do
    [ "$(ha_vsadm "$up" -L -n -c | grep -c "ESTABLISHED.*$HA_VIP:\(8000\|7000\)")" -ge 2 ] && break
    sleep 0.1
  done
  echo "ok: $tag: the backup d$up lists the running download and idle connection:"
  ha_vsadm "$up" -L -n -c | grep "ESTABLISHED.*$HA_VIP:\(8000\|7000\)" | sed 's/^/    /'
  [ "$(ha_vsadm "$up" -L -n -c | grep -c "ESTABLISHED.*$HA_VIP:\(8000\|7000\)")" -ge 2 ] ||
    fail "$tag: the backup d$up does not list the download and the idle connection: $(ha_vsadm "$up" -L -n -c)"
  "$what"
  t=$(ha_time_to_answer)
  [ "$t" != never ] || fail "$tag: the VIP never answered after the switch"
  echo "ok: $tag: the VIP answered from d$up ${t} s after the switch began"
  awk -v t="$t" 'BEGIN { exit !(t <= 3.0) }' || fail "$tag: the VIP took ${t} s to answer (more than 3 s)"
  ha_wait_role_of "$up" master
  touch "$TOPO_DIR/idle-go"
  wait "$idle_pid" || fail "$tag: the idle connection did not survive the switch"
  echo "ok: $tag: the idle connection through d$down answered again through d$up"
  wait "$dl_pid" || fail "$tag: the download broke (curl exit $?)"
  assert_eq "$(cat "$TOPO_DIR/big.sha256")" "$(sha256sum "$dl" | cut -d' ' -f1)" "$tag: sha256 of the 20 MiB download that ran across the switch"
  # Persistence: the same real server for every client, asked in the
  # reverse order (a fresh rr table would give each the other server).
  for i in $(seq 29 -1 20); do
    rs=$(ha_first_rs 8080 "198.51.100.$i")
    [ "$rs" = "${HA_PERSIST[$i]}" ] || fail "$tag: client 198.51.100.$i went to '$rs', before the switch to '${HA_PERSIST[$i]}'"
  done
  echo "ok: $tag: all 10 clients reached the same real server as before (persistence templates synced)"
}

ha_wait_role_of() {
  for _ in $(seq 1 100); do [ "$(ha_role "$1")" = "$2" ] && return 0; sleep 0.1; done
  fail "d$1 is not $2: '$(ha_role "$1")'"
}

declare -gA HA_PERSIST=()

# ha_persist_baseline: each of the 10 clients' real server on VIP:8080,
# and the backup d$1 listing their templates.
ha_persist_baseline() {
  local backup=$1 i n
  for i in $(seq 20 29); do
    HA_PERSIST[$i]=$(ha_first_rs 8080 "198.51.100.$i")
    [ -n "${HA_PERSIST[$i]}" ] || fail "client 198.51.100.$i got no answer from VIP:8080"
  done
  echo "ok: 10 clients on the persistent service: $(for i in $(seq 20 29); do printf '%s ' "${HA_PERSIST[$i]}"; done)"
  for _ in $(seq 1 50); do
    n=$(ha_vsadm "$backup" -L -n -c | awk -v v="$HA_VIP:8080" '$3 == "NONE" && $5 == v' | wc -l)
    [ "$n" -ge 10 ] && break
    sleep 0.1
  done
  [ "$n" -ge 10 ] || fail "the backup d$backup lists $n persistence templates for $HA_VIP:8080: $(ha_vsadm "$backup" -L -n -c)"
  echo "ok: the backup d$backup lists the 10 persistence templates (vsadm -L -n -c)"
}

# ha_direct_scenario dr|tun: the DR and TUN pairs' whole test (their flows
# live in the master's kernel flow table, which no conntrackd carries: vsd's
# sync gives the backup every connection and template).
ha_direct_scenario() {
  ha_pair_up "$1"
  ha_wait_roles 1 2
  echo "ok: d1 is master, d2 backup: $(ha_vsadm 1 -L --daemon) / $(ha_vsadm 2 -L --daemon)"
  ha_persist_baseline 2
  _ha_fail_d1() { ha_kill 1; }
  ha_switch _ha_fail_d1 1 2 "hard failure of the master"
  grep "HA: this director is MASTER" "$TOPO_DIR/vsd-d2.log" | tail -n 1 | sed 's/^/    d2: /'
  # The backup had scheduled nothing itself: its counts are the master's flows.
  echo "ok: d2's table after the takeover:"
  ha_vsadm 2 -L -n | sed 's/^/    /'
  ha_revive 1
  ha_wait_roles 2 1
  echo "ok: d1 is back as backup"
  _ha_fail_back() { ha_wait_roles 1 2 30; }
  ha_switch _ha_fail_back 2 1 "failback to d1"
}
