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
# Only documentation addresses are used, only inside these namespaces.

: "${TOPO_PREFIX:=vsd$$}"
# Killed by a signal (ctest timeout, Ctrl-C), a script still runs its EXIT
# trap, so topo_down removes the namespaces then too.
trap 'exit 130' INT
trap 'exit 143' TERM
: "${VSD_BIN:=build/appliance/vsd}"
: "${VSADM_BIN:=build/appliance/vsadm}"
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
    for t in $(seq 1 50); do
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
  # Not through in_director: $! must be vsd itself, not a subshell.
  ip netns exec "$(ns dir)" "$VSD_BIN" -c "$cfg" >"$VSD_LOG" 2>&1 &
  VSD_PID=$!
  echo "$VSD_PID" >"$TOPO_DIR/vsd.pid"
  for t in $(seq 1 100); do
    grep -q "ready" "$VSD_LOG" 2>/dev/null && return 0
    kill -0 "$VSD_PID" 2>/dev/null || fail "vsd exited during start"
    sleep 0.1
  done
  fail "vsd did not become ready in 10 s"
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
  local p
  if [ -f "$TOPO_DIR/vsd.pid" ]; then kill -TERM "$(cat "$TOPO_DIR/vsd.pid")" 2>/dev/null || true; sleep 0.3; fi
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
