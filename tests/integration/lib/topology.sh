# Network-namespace topologies for vsd's integration tests, demo and
# benchmarks. Source it; every function works on namespaces named
# "$TOPO_PREFIX-*", so parallel runs do not collide, and topo_down removes
# everything (safe to call from a trap, and twice).
#
#   client  198.51.100.2/24  2001:db8:1::2/64      (default route: director)
#      |  veth
#   director 198.51.100.1  2001:db8:1::1  VIPs 192.0.2.10 / 2001:db8::10 on dc0
#            br0: 203.0.113.1/24  2001:db8:2::1/64
#      |  bridge with one veth per real server
#   rsN  203.0.113.1N/24  2001:db8:2::1N/64          (default route: director)
#        busybox httpd on :8000 ("/" answers "rsN"), /big.bin (20 MiB),
#        UDP :9000 answering "rsN:<payload>"
#
# topo_dr_up and topo_tun_up (further down) build the DR and TUN
# topologies, where every node runs its own vsd (start_vsd_on).
#
# Only documentation addresses are used, only inside these namespaces.

: "${TOPO_PREFIX:=vsd$$}"
# Killed by a signal (ctest timeout, Ctrl-C), a script still runs its EXIT
# trap, so topo_down removes the namespaces then too.
trap 'exit 130' INT
trap 'exit 143' TERM
# VSD_TEST_WAIT_SCALE (integer, default 1) multiplies the bounded waits of
# this file (servers up, vsd ready, wait_log, lb_split's per-request
# limit): the VM lab (tests/vm/lab.sh) runs these tests under qemu TCG, many
# times slower than the host.
: "${VSD_TEST_WAIT_SCALE:=1}"
TOPO_WS=$VSD_TEST_WAIT_SCALE
: "${VSD_BIN:=build/appliance/daemon/vsd}"
: "${VSADM_BIN:=build/appliance/vsadm/vsadm}"
TOPO_DIR="/tmp/${TOPO_PREFIX}-topo"
TOPO_RS=0
VIP4=192.0.2.10
VIP6=2001:db8::10

ns() { echo "${TOPO_PREFIX}-$1"; }
in_client() { ip netns exec "$(ns client)" "$@"; }
in_director() { ip netns exec "$(ns dir)" "$@"; }
in_rs() { local n=$1; shift; ip netns exec "$(ns rs$n)" "$@"; }
rs_ip4() { echo "203.0.113.1$1"; }
rs_ip6() { echo "2001:db8:2::1$1"; }

fail() {
  echo "FAIL: $*" >&2
  if [ -n "${VSD_LOG:-}" ] && [ -f "$VSD_LOG" ]; then
    echo "--- last lines of the vsd log ($VSD_LOG):" >&2
    tail -n 30 "$VSD_LOG" >&2
  fi
  # Logs of the per-node vsds of the DR/TUN topologies (start_vsd_on).
  local f
  for f in "$TOPO_DIR"/vsd-*.log; do
    if [ ! -f "$f" ] || [ "$f" = "${VSD_LOG:-}" ]; then continue; fi
    echo "--- last lines of $f:" >&2
    tail -n 15 "$f" >&2
  done
  exit 1
}

assert_eq() {  # assert_eq EXPECTED ACTUAL WHAT
  [ "$1" = "$2" ] || fail "$3: expected '$1', got '$2'"
  echo "ok: $3 = $2"
}

_quiet_sysctl() { "$@" >/dev/null 2>&1 || true; }

# topo_nat_up N: client, director and N real servers behind the director.
topo_nat_up() {
  local n=${1:-2} i
  TOPO_RS=$n
  mkdir -p "$TOPO_DIR"
  for x in client dir; do ip netns add "$(ns $x)"; done
  for x in client dir; do ip netns exec "$(ns $x)" ip link set lo up; done
  ip link add cl0 netns "$(ns client)" type veth peer name dc0 netns "$(ns dir)"
  in_client ip addr add 198.51.100.2/24 dev cl0
  in_client ip -6 addr add 2001:db8:1::2/64 dev cl0 nodad
  in_client ip link set cl0 up
  in_client ip route add default via 198.51.100.1
  in_client ip -6 route add default via 2001:db8:1::1
  in_director ip addr add 198.51.100.1/24 dev dc0
  in_director ip -6 addr add 2001:db8:1::1/64 dev dc0 nodad
  in_director ip addr add "$VIP4/32" dev dc0
  in_director ip -6 addr add "$VIP6/128" dev dc0 nodad
  in_director ip link set dc0 up
  in_director ip link add br0 type bridge
  in_director ip addr add 203.0.113.1/24 dev br0
  in_director ip -6 addr add 2001:db8:2::1/64 dev br0 nodad
  in_director ip link set br0 up
  # vsd sets ip_forward itself (and restores it); plain routing baselines need it too.
  for x in client dir; do
    _quiet_sysctl ip netns exec "$(ns $x)" sysctl -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
  done
  for i in $(seq 1 "$n"); do _topo_rs_up "$i"; done
  _topo_make_content
  for i in $(seq 1 "$n"); do _topo_servers_up "$i"; done
  _topo_wait_servers
}

_topo_rs_up() {
  local i=$1
  ip netns add "$(ns rs$i)"
  in_rs "$i" ip link set lo up
  ip link add eth0 netns "$(ns rs$i)" type veth peer name "dr$i" netns "$(ns dir)"
  in_director ip link set "dr$i" master br0
  in_director ip link set "dr$i" up
  in_rs "$i" ip addr add "$(rs_ip4 "$i")/24" dev eth0
  in_rs "$i" ip -6 addr add "$(rs_ip6 "$i")/64" dev eth0 nodad
  in_rs "$i" ip link set eth0 up
  in_rs "$i" ip route add default via 203.0.113.1
  in_rs "$i" ip -6 route add default via 2001:db8:2::1
  _quiet_sysctl in_rs "$i" sysctl -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
}

# The 20 MiB file is the same on every real server; its sha256 is in
# $TOPO_DIR/big.sha256.
_topo_make_content() {
  if [ ! -f "$TOPO_DIR/big.bin" ]; then
    head -c $((20 * 1024 * 1024)) /dev/urandom >"$TOPO_DIR/big.bin"
    sha256sum "$TOPO_DIR/big.bin" | cut -d' ' -f1 >"$TOPO_DIR/big.sha256"
  fi
}

_topo_servers_up() {
  local i=$1 www="$TOPO_DIR/www$i"
  mkdir -p "$www"
  echo "rs$i" >"$www/index.html"
  ln -f "$TOPO_DIR/big.bin" "$www/big.bin"
  # busybox httpd listens dual-stack on [::]:8000.
  in_rs "$i" busybox httpd -f -p 8000 -h "$www" &
  echo $! >>"$TOPO_DIR/pids"
  # One reply per datagram, from port 9000, naming the real server (one
  # write, so one datagram).
  printf '#!/bin/sh\nread -r line\nprintf "rs%s:%%s\\n" "$line"\n' "$i" >"$TOPO_DIR/udp$i.sh"
  chmod +x "$TOPO_DIR/udp$i.sh"
  in_rs "$i" socat -T 2 "UDP6-RECVFROM:9000,fork,ipv6only=0" "EXEC:$TOPO_DIR/udp$i.sh" &
  echo $! >>"$TOPO_DIR/pids"
}

_topo_wait_servers() {
  local i t
  for i in $(seq 1 "$TOPO_RS"); do
    for t in $(seq 1 $((50 * TOPO_WS))); do
      in_rs "$i" curl -s --max-time 1 -o /dev/null "http://127.0.0.1:8000/" && break
      sleep 0.1
    done
  done
}

# start_vsd CONFIG [LOG]: vsd in the director, in the background; waits for
# its control socket (taken from the config) or fails with the log.
start_vsd() {
  local cfg=$1 t sock
  VSD_LOG=${2:-$TOPO_DIR/vsd.log}
  sock=$(sed -n 's/^socket *= *"\(.*\)"/\1/p' "$cfg" | head -1)
  VSD_SOCKET=${sock:-/run/vsd/vsd.sock}
  export VSD_SOCKET VSD_LOG
  # Emptied here, not by the background redirection: that may run after
  # the first look below, which would find an earlier vsd's "ready".
  : >"$VSD_LOG"
  # Not through in_director: $! must be vsd itself, not a subshell.
  ip netns exec "$(ns dir)" "$VSD_BIN" -c "$cfg" >>"$VSD_LOG" 2>&1 &
  VSD_PID=$!
  echo "$VSD_PID" >"$TOPO_DIR/vsd.pid"
  for t in $(seq 1 $((100 * TOPO_WS))); do
    grep -q " info: ready$" "$VSD_LOG" 2>/dev/null && return 0
    kill -0 "$VSD_PID" 2>/dev/null || fail "vsd exited during start"
    sleep 0.1
  done
  fail "vsd did not become ready in $((10 * TOPO_WS)) s"
}

# wait_log FILE PATTERN [SECONDS]: true once grep finds PATTERN in FILE,
# false after SECONDS (default 5). A log line follows its event, not with it.
wait_log() {
  local file=$1 pattern=$2 secs=$((${3:-5} * TOPO_WS)) _
  for _ in $(seq 1 $((secs * 10))); do
    grep -q -- "$pattern" "$file" 2>/dev/null && return 0
    sleep 0.1
  done
  grep -q -- "$pattern" "$file" 2>/dev/null
}

# stop_vsd: SIGTERM, wait, and insist on a clean exit.
stop_vsd() {
  [ -n "${VSD_PID:-}" ] || return 0
  kill -TERM "$VSD_PID" 2>/dev/null || true
  local rc=0
  wait "$VSD_PID" || rc=$?
  VSD_PID=
  rm -f "$TOPO_DIR/vsd.pid"
  [ "$rc" = 0 ] || fail "vsd exited with status $rc on SIGTERM"
}

vsadm() { in_director "$VSADM_BIN" --socket "$VSD_SOCKET" "$@"; }

# vsd_tables: the nft tables named vsd in the director ("" when none).
vsd_tables() { in_director nft list tables 2>/dev/null | grep -w vsd || true; }

topo_down() {
  local p f signalled=
  if [ -f "$TOPO_DIR/vsd.pid" ]; then kill -TERM "$(cat "$TOPO_DIR/vsd.pid")" 2>/dev/null || true; sleep 0.3; fi
  # The per-node vsds of start_vsd_on.
  for f in "$TOPO_DIR"/vsd-*.pid; do
    [ -f "$f" ] || continue
    kill -TERM "$(cat "$f")" 2>/dev/null || true
    signalled=1
  done
  if [ -n "$signalled" ]; then sleep 0.3; fi
  if [ -f "$TOPO_DIR/pids" ]; then
    while read -r p; do kill "$p" 2>/dev/null || true; done <"$TOPO_DIR/pids"
  fi
  # Anything still running inside our namespaces (servers' children).
  for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^${TOPO_PREFIX}-" || true); do
    for p in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    ip netns del "$n" 2>/dev/null || true
  done
  rm -rf "$TOPO_DIR"
}

# Plain kernel forwarding in the director (the baselines; vsd sets it itself).
topo_enable_forwarding() {
  in_director sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

# ---------------------------------------------------------------------------
# DR and TUN topologies. Every node runs its own vsd, all from the same
# config file (start_vsd_on); the real servers answer clients directly, from
# the VIP. Their namespaces: client, dir (director), rsN, plus sw (DR: the
# switch) or rt (TUN: the router). Set by topo_dr_up / topo_tun_up:
LB_VIP4=
LB_VIP6=
LB_NET4=      # real servers' IPv4 prefix: rsN is ${LB_NET4}.1N
LB_NET6=      # real servers' IPv6 prefix: rsN is ${LB_NET6}::1N
declare -gA VSD_NODE_PID=()

in_ns() { local n=$1; shift; ip netns exec "$(ns "$n")" "$@"; }
lb_rs_ip4() { echo "${LB_NET4}.1$1"; }
lb_rs_ip6() { echo "${LB_NET6}::1$1"; }
mac_of() { in_ns "$1" cat "/sys/class/net/$2/address"; }  # mac_of NODE IFACE

# _topo_ns_new NAME: an empty namespace with lo up, no DAD (addresses usable
# at once), no reverse-path filter (DR/TUN replies leave from the VIP on an
# interface the VIP is not routed to).
_topo_ns_new() {
  ip netns add "$(ns "$1")"
  in_ns "$1" ip link set lo up
  _quiet_sysctl in_ns "$1" sysctl -w net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  _quiet_sysctl in_ns "$1" sysctl -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
}

# _topo_link NODE PEER PEER_IF [BRIDGE [IF]]: veth IF (default eth0) in
# NODE, PEER_IF in PEER (enslaved to PEER's BRIDGE when given), both up.
_topo_link() {
  local node=$1 peer=$2 pif=$3 br=${4:-} nif=${5:-eth0}
  ip link add "$nif" netns "$(ns "$node")" type veth peer name "$pif" netns "$(ns "$peer")"
  if [ -n "$br" ]; then in_ns "$peer" ip link set "$pif" master "$br"; fi
  in_ns "$peer" ip link set "$pif" up
  in_ns "$node" ip link set "$nif" up
}

_topo_bridge() {  # _topo_bridge NODE: br0, no STP, no multicast snooping, up
  in_ns "$1" ip link add br0 type bridge stp_state 0 mcast_snooping 0
  in_ns "$1" ip link set br0 up
}

# Real server N of a DR/TUN topology: busybox httpd on [::]:8000 ("/"
# answers "rsN"), and UDP :9000 answering "rsN:<payload>" from the VIP.
_topo_lb_servers_up() {
  local i=$1 www here
  www="$TOPO_DIR/www$i"
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  mkdir -p "$www"
  echo "rs$i" >"$www/index.html"
  in_rs "$i" busybox httpd -f -p 8000 -h "$www" &
  echo $! >>"$TOPO_DIR/pids"
  in_rs "$i" python3 "$here/udp_responder.py" "rs$i" 9000 &
  echo $! >>"$TOPO_DIR/pids"
}

# httpd answers, and the UDP responder listens on both families.
_topo_wait_lb_servers() {
  local i
  _topo_wait_servers
  for i in $(seq 1 "$TOPO_RS"); do
    for _ in $(seq 1 $((50 * TOPO_WS))); do
      [ "$(in_rs "$i" ss -Hlun 'sport = :9000' | wc -l)" -ge 2 ] && break
      sleep 0.1
    done
  done
}

# topo_dr_up N: one L2 segment (bridge br0 in namespace sw) joining client,
# director and N real servers.
#
#   client   198.51.100.2/24    2001:db8:5::2/64
#   director 198.51.100.1/24    2001:db8:5::1/64   VIPs 198.51.100.100/32,
#                                                  2001:db8:5::100/128 on eth0
#   rsN      198.51.100.1N/24   2001:db8:5::1N/64
#
# No routers: every reply from a real server goes straight to the client.
topo_dr_up() {
  local n=${1:-2} i node
  TOPO_RS=$n
  LB_VIP4=198.51.100.100 LB_VIP6=2001:db8:5::100 LB_NET4=198.51.100 LB_NET6=2001:db8:5
  mkdir -p "$TOPO_DIR"
  _topo_ns_new sw
  _topo_bridge sw
  for node in client dir $(seq -f 'rs%g' 1 "$n"); do
    _topo_ns_new "$node"
    _topo_link "$node" sw "p-$node" br0
  done
  in_client ip addr add 198.51.100.2/24 dev eth0
  in_client ip -6 addr add 2001:db8:5::2/64 dev eth0 nodad
  in_director ip addr add 198.51.100.1/24 dev eth0
  in_director ip -6 addr add 2001:db8:5::1/64 dev eth0 nodad
  in_director ip addr add "$LB_VIP4/32" dev eth0
  in_director ip -6 addr add "$LB_VIP6/128" dev eth0 nodad
  for i in $(seq 1 "$n"); do
    in_rs "$i" ip addr add "$(lb_rs_ip4 "$i")/24" dev eth0
    in_rs "$i" ip -6 addr add "$(lb_rs_ip6 "$i")/64" dev eth0 nodad
    _topo_lb_servers_up "$i"
  done
  _topo_wait_lb_servers
}

# topo_tun_up N: client -- router -- director, the real servers on a third
# subnet behind the router; the router routes the VIPs to the director.
#
#   client  eth0 198.51.100.2/24  2001:db8:61::2/64   default via the router
#   router  c0   198.51.100.1/24  2001:db8:61::1/64
#           d0   192.0.2.1/25     2001:db8:62::1/64   VIPs routed via the director
#           br0  203.0.113.1/24   2001:db8:63::1/64   one veth per real server
#   director eth0 192.0.2.2/25    2001:db8:62::2/64   default via the router,
#                VIPs 192.0.2.200/32, 2001:db8:64::100/128 on eth0
#   rsN     eth0 203.0.113.1N/24  2001:db8:63::1N/64  default via the router
topo_tun_up() {
  local n=${1:-2} i
  TOPO_RS=$n
  LB_VIP4=192.0.2.200 LB_VIP6=2001:db8:64::100 LB_NET4=203.0.113 LB_NET6=2001:db8:63
  mkdir -p "$TOPO_DIR"
  _topo_ns_new rt
  _topo_bridge rt
  _topo_ns_new client
  _topo_link client rt c0
  _topo_ns_new dir
  _topo_link dir rt d0
  in_ns rt ip addr add 198.51.100.1/24 dev c0
  in_ns rt ip -6 addr add 2001:db8:61::1/64 dev c0 nodad
  in_ns rt ip addr add 192.0.2.1/25 dev d0
  in_ns rt ip -6 addr add 2001:db8:62::1/64 dev d0 nodad
  in_ns rt ip addr add 203.0.113.1/24 dev br0
  in_ns rt ip -6 addr add 2001:db8:63::1/64 dev br0 nodad
  in_ns rt sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
  in_ns rt ip route add "$LB_VIP4/32" via 192.0.2.2
  in_ns rt ip -6 route add "$LB_VIP6/128" via 2001:db8:62::2
  in_client ip addr add 198.51.100.2/24 dev eth0
  in_client ip -6 addr add 2001:db8:61::2/64 dev eth0 nodad
  in_client ip route add default via 198.51.100.1
  in_client ip -6 route add default via 2001:db8:61::1
  in_director ip addr add 192.0.2.2/25 dev eth0
  in_director ip -6 addr add 2001:db8:62::2/64 dev eth0 nodad
  in_director ip route add default via 192.0.2.1
  in_director ip -6 route add default via 2001:db8:62::1
  in_director ip addr add "$LB_VIP4/32" dev eth0
  in_director ip -6 addr add "$LB_VIP6/128" dev eth0 nodad
  for i in $(seq 1 "$n"); do
    _topo_ns_new "rs$i"
    _topo_link "rs$i" rt "r$i" br0
    in_rs "$i" ip addr add "$(lb_rs_ip4 "$i")/24" dev eth0
    in_rs "$i" ip -6 addr add "$(lb_rs_ip6 "$i")/64" dev eth0 nodad
    in_rs "$i" ip route add default via 203.0.113.1
    in_rs "$i" ip -6 route add default via 2001:db8:63::1
    _topo_lb_servers_up "$i"
  done
  _topo_wait_lb_servers
}

# start_vsd_on NODE ROLE CONFIG: vsd --role ROLE in namespace NODE, in the
# background, logging to $TOPO_DIR/vsd-NODE.log; waits for "ready" or fails
# with the log. ROLE "" leaves --role out (vsd's default, auto). Each node is
# its own machine sharing nothing but the config's contents: off the
# director, the control socket's directory is the node's own (a private
# bind mount of $TOPO_DIR/run-NODE, kept across restarts like /run), so
# the nodes' vsds never meet on one socket path or state file. On the
# director, sets VSD_SOCKET (for vsadm) and VSD_LOG. topo_down stops every
# one of them.
start_vsd_on() {
  local node=$1 role=$2 cfg=$3 sock dir log pid
  local args=(-c "$cfg")
  [ -z "$role" ] || args+=(--role "$role")
  log="$TOPO_DIR/vsd-$node.log"
  sock=$(sed -n 's/^socket *= *"\(.*\)"/\1/p' "$cfg" | head -1)
  sock=${sock:-/run/vsd/vsd.sock}
  dir=$(dirname "$sock")
  mkdir -p "$dir"
  # Emptied here (see start_vsd), then appended to.
  : >"$log"
  # Not through a subshell: $! must be vsd itself (ip, unshare and sh exec).
  if [ "$node" = dir ]; then
    VSD_SOCKET=$sock VSD_LOG=$log
    export VSD_SOCKET VSD_LOG
    ip netns exec "$(ns "$node")" "$VSD_BIN" "${args[@]}" >>"$log" 2>&1 &
  else
    # The node's own /run/vsd (socket, state file), kept across restarts
    # as a real node's /run is: a private bind mount of a per-node directory.
    mkdir -p "$TOPO_DIR/run-$node"
    ip netns exec "$(ns "$node")" unshare --mount --propagation private \
      sh -c 'mount --bind "$1" "$0" && shift && exec "$@"' "$dir" "$TOPO_DIR/run-$node" "$VSD_BIN" "${args[@]}" >>"$log" 2>&1 &
  fi
  pid=$!
  VSD_NODE_PID[$node]=$pid
  echo "$pid" >"$TOPO_DIR/vsd-$node.pid"
  for _ in $(seq 1 $((100 * TOPO_WS))); do
    grep -q " info: ready$" "$log" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || fail "vsd on $node exited during start"
    sleep 0.1
  done
  fail "vsd on $node did not become ready in $((10 * TOPO_WS)) s"
}

# node_sock NODE: the control socket of NODE's vsd (not dir's), started by
# start_vsd_on with a config whose socket is .../vsd.sock: it lives in the
# node's own /run/vsd, $TOPO_DIR/run-NODE. vsadm_on NODE ARGS: vsadm there.
node_sock() { echo "$TOPO_DIR/run-$1/vsd.sock"; }
vsadm_on() { local node=$1; shift; "$VSADM_BIN" --socket "$(node_sock "$node")" "$@"; }

# stop_vsd_on NODE: SIGTERM, wait, and insist on a clean exit.
stop_vsd_on() {
  local node=$1 pid=${VSD_NODE_PID[$1]:-} rc=0
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" || rc=$?
  VSD_NODE_PID[$node]=
  rm -f "$TOPO_DIR/vsd-$node.pid"
  [ "$rc" = 0 ] || fail "vsd on $node exited with status $rc on SIGTERM"
}

# vsadm_stats_reals: "PROTO RIP InPkts OutPkts" per real server line of
# `vsadm -L -n --stats --exact` on the director (PROTO: its service's).
vsadm_stats_reals() {
  vsadm -L -n --stats --exact |
    awk '$1 ~ /^(TCP|UDP|FWM)$/ { p = $1 } $1 == "->" && $2 ~ /[0-9]/ { print p, $2, $4, $5 }'
}

# vsd_counter NAME: one engine counter from `vsadm -L --json` on the director.
vsd_counter() {
  vsadm -L -n --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"][sys.argv[1]])' "$1"
}

# lb_split URL COUNT: COUNT HTTP requests from the client, each a new
# connection; prints "rs1=N rs2=M fail=K".
lb_split() {
  local url=$1 count=$2 i out r1=0 r2=0 bad=0
  for i in $(seq 1 "$count"); do
    out=$(in_client curl -s --max-time $((5 * TOPO_WS)) "$url" || true)
    case "$out" in rs1) r1=$((r1 + 1)) ;; rs2) r2=$((r2 + 1)) ;; *) bad=$((bad + 1)) ;; esac
  done
  echo "rs1=$r1 rs2=$r2 fail=$bad"
}

# udp_ask MSG SOCAT-ADDRESS: the client sends MSG in one datagram and
# prints the reply; asked up to 3 times (a datagram may be lost, and its
# reply wait is bounded: 2 s, scaled by TOPO_WS).
udp_ask() {
  local r _
  for _ in 1 2 3; do
    r=$(echo "$1" | in_client socat -T $((2 * TOPO_WS)) - "$2" || true)
    [ -n "$r" ] && break
  done
  echo "$r"
}

# rs_arp_sysctls N: every arp_ignore / arp_announce of real server N, sorted.
rs_arp_sysctls() { in_rs "$1" sysctl -a 2>/dev/null | grep -E '\.arp_(ignore|announce) =' | sort; }

# rs_vsd_stop_clean N SYSCTLS_BEFORE: SIGTERM real server N's vsd; the VIPs
# must leave lo, every nft table vsd_rs go, and the arp sysctls be as before.
rs_vsd_stop_clean() {
  local i=$1 before=$2 lo
  stop_vsd_on "rs$i"
  lo=$(in_rs "$i" ip -o addr show dev lo)
  if grep -q -e " $LB_VIP4/" -e " $LB_VIP6/" <<<"$lo"; then fail "rs$i: a VIP is still on lo after SIGTERM: $lo"; fi
  echo "ok: rs$i: the VIPs left lo"
  assert_eq "" "$(in_rs "$i" nft list tables | grep -w vsd_rs || true)" "rs$i: nft tables vsd_rs after SIGTERM"
  assert_eq "" "$(in_rs "$i" ip -o link show | awk -F': ' '$2 ~ /^vsdt/' || true)" "rs$i: vsdt decapsulation devices after SIGTERM"
  [ "$(rs_arp_sysctls "$i")" = "$before" ] ||
    fail "rs$i: arp_ignore/arp_announce not restored: before: $before after: $(rs_arp_sysctls "$i")"
  echo "ok: rs$i: arp_ignore/arp_announce restored ($(grep -c . <<<"$before") sysctls)"
}

# rs_decap_check N: real server N's vsd (TUN) decapsulates both families
# the way it logged: "by the kernel" (a kernel with ipip / ip6_tunnel, the
# VM lab) through vsdt ipip / ip6tnl devices and no queue tables; "by vsd"
# (this host's 6.18 has neither module) through nft tables ip/ip6 vsd_rs.
# RS_DECAP_WAY gets the way (kernel|vsd), RS_DECAP_DEVS the devices.
rs_decap_check() {
  local i=$1 log="$TOPO_DIR/vsd-rs$1.log" tables kernel vsd
  tables=$(in_rs "$i" nft list tables)
  kernel=$(grep -c " TUN: IP-in-IP to .* decapsulated by the kernel" "$log" || true)
  vsd=$(grep -c " TUN: IP-in-IP to .* decapsulated by vsd" "$log" || true)
  RS_DECAP_DEVS=$(in_rs "$i" ip -o link show | awk -F': ' '$2 ~ /^vsdt/ { sub(/@.*/, "", $2); print $2 }')
  if [ "$kernel" = 2 ] && [ "$vsd" = 0 ]; then
    assert_eq 2 "$(grep -c . <<<"$RS_DECAP_DEVS")" "rs$i: vsdt decapsulation devices (one ipip, one ip6tnl)"
    in_rs "$i" ip -d link show type ipip | grep -q ": vsdt" || fail "rs$i: no vsdt ipip device"
    in_rs "$i" ip -d link show type ip6tnl | grep -q ": vsdt" || fail "rs$i: no vsdt ip6tnl device"
    if grep -q -e '^table ip vsd_rs$' -e '^table ip6 vsd_rs$' <<<"$tables"; then
      fail "rs$i: the kernel decapsulates, yet vsd queues IP-in-IP (nft tables ip/ip6 vsd_rs): $tables"
    fi
    RS_DECAP_WAY=kernel
  elif [ "$vsd" = 2 ] && [ "$kernel" = 0 ]; then
    grep -q '^table ip vsd_rs$' <<<"$tables" || fail "rs$i: no nft table ip vsd_rs while vsd decapsulates: $tables"
    grep -q '^table ip6 vsd_rs$' <<<"$tables" || fail "rs$i: no nft table ip6 vsd_rs while vsd decapsulates: $tables"
    assert_eq "" "$RS_DECAP_DEVS" "rs$i: vsdt devices while vsd decapsulates"
    RS_DECAP_WAY=vsd
  else
    fail "rs$i: its vsd logged $kernel kernel and $vsd vsd decapsulation lines (expected 2 of one kind): $(grep ' TUN: ' "$log")"
  fi
}

# rs_vips_on_lo N: both VIPs are on real server N's lo (while its vsd runs).
rs_vips_on_lo() {
  local lo
  lo=$(in_rs "$1" ip -o addr show dev lo)
  grep -q " $LB_VIP4/" <<<"$lo" || fail "rs$1: $LB_VIP4 not on lo while vsd runs: $lo"
  grep -q " $LB_VIP6/" <<<"$lo" || fail "rs$1: $LB_VIP6 not on lo while vsd runs: $lo"
}

# Counters in the director's ingress (netdev hook on eth0): packets whose
# source is a VIP (replies that went through the director: must stay 0) and
# packets to a VIP (the clients' requests: the hook sees traffic).
# vip_counter NAME prints one counter's packet count.
director_vip_counters() {
  in_director nft -f - <<NFT
table netdev itest {
  counter from_vip4 {}
  counter from_vip6 {}
  counter to_vip4 {}
  counter to_vip6 {}
  chain in {
    type filter hook ingress device "eth0" priority 0; policy accept;
    ip saddr $LB_VIP4 meta l4proto { tcp, udp } counter name "from_vip4"
    ip6 saddr $LB_VIP6 meta l4proto { tcp, udp } counter name "from_vip6"
    ip daddr $LB_VIP4 counter name "to_vip4"
    ip6 daddr $LB_VIP6 counter name "to_vip6"
  }
}
NFT
}
vip_counter() {
  in_director nft list counter netdev itest "$1" | sed -n 's/.*packets \([0-9]*\).*/\1/p'
}
