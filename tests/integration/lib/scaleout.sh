# Scale-out in network namespaces (README "Scale-out"): a router running
# bird2 with ECMP (L4 hash) in front of N directors, each running vsd and
# bird2 configured as the README says (`vsd bgp bird`), and two DR real
# servers. Source after topology.sh. so_up N builds:
#
#   client  203.0.113.2/24, 2001:db8:203::2/64, default via the router
#   router  203.0.113.1/24, 2001:db8:203::1/64 (client side), 198.51.100.1/24,
#           2001:db8:51::1/64 (lan, bridge in sw); bird2: AS 65000, one eBGP
#           session per director and family, merge paths (L4 hash, both families)
#   dN      198.51.100.1N/24, 2001:db8:51::1N/64, default via the router;
#           vsd (director) and bird2, AS 65001
#   rsN     198.51.100.3N/24, 2001:db8:51::3N/64, default via the router; vsd
#           --role realserver (VIPs on lo), busybox httpd :8000 ("/" answers
#           rsN, /big.bin 20 MiB)
#   VIPs    192.0.2.100:8000 and [2001:db8:100::100]:8000, mh with mh-port:
#           routed to the directors by BGP (IPv4 and IPv6 sessions)

SO_VIP=192.0.2.100
SO_VIP6=2001:db8:100::100
SO_N=0
declare -gA SO_PID=()

so_vsadm() { local n=$1; shift; vsadm_on "d$n" "$@"; }

_so_port() { _topo_link "$1" sw "$1" lan; }  # _so_port NODE: eth0 in NODE on the sw bridge lan

so_config() {
  cat <<EOF2
[director]
queue = 51
[control]
socket = "/run/vsd/vsd.sock"
[bgp]
local_as = 65001
neighbors = ["198.51.100.1", "2001:db8:51::1"]
neighbor_as = 65000
hold_time = 3
routes_file = "/run/vsd/bird-vips.conf"
bird_socket = "/run/vsd/bird.ctl"

[[service]]
address = "$SO_VIP:8000"
scheduler = "mh"
scheduler_flags = ["mh-port"]
[[service.real]]
address = "198.51.100.31:8000"
forward = "dr"
[[service.real]]
address = "198.51.100.32:8000"
forward = "dr"

[[service]]
address = "[$SO_VIP6]:8000"
scheduler = "mh"
scheduler_flags = ["mh-port"]
[[service.real]]
address = "[2001:db8:51::31]:8000"
forward = "dr"
[[service.real]]
address = "[2001:db8:51::32]:8000"
forward = "dr"
EOF2
}

so_router_conf() {
  local n
  printf 'router id 198.51.100.1;\nprotocol device { scan time 10; }\n'
  printf 'protocol kernel { ipv4 { import none; export all; }; merge paths yes; }\n'
  printf 'protocol kernel { ipv6 { import none; export all; }; merge paths yes; }\n'
  for n in $(seq 1 "$SO_N"); do
    printf 'protocol bgp d%s {\n  local as 65000;\n  neighbor 198.51.100.1%s as 65001;\n  hold time 3;\n  keepalive time 1;\n  connect retry time 1;\n  ipv4 { import all; export none; };\n}\n' "$n" "$n"
    printf 'protocol bgp d%s_6 {\n  local as 65000;\n  neighbor 2001:db8:51::1%s as 65001;\n  hold time 3;\n  keepalive time 1;\n  connect retry time 1;\n  ipv6 { import all; export none; };\n}\n' "$n" "$n"
  done
}

# _so_bird NODE CONF: bird in NODE's namespace and in the node's /run/vsd
# (the bind mount start_vsd_on gives vsd), so both see one path.
_so_bird() {
  local node=$1 conf=$2
  mkdir -p "$TOPO_DIR/run-$node"
  ip netns exec "$(ns "$node")" unshare --mount --propagation private \
    sh -c 'mount --bind "$1" /run/vsd && exec bird -f -c "$2" -s /run/vsd/bird.ctl -P "$3"' \
    _ "$TOPO_DIR/run-$node" "$conf" "$TOPO_DIR/$node.bird.pid" >"$TOPO_DIR/$node.bird.log" 2>&1 &
  SO_PID[$node-bird]=$!
  echo $! >>"$TOPO_DIR/pids"
  disown $!
}

so_up() {
  SO_N=$1
  local n i
  TOPO_RS=2
  mkdir -p "$TOPO_DIR" /run/vsd
  _topo_make_content
  _topo_ns_new sw
  in_ns sw ip link add lan type bridge stp_state 0 mcast_snooping 0
  in_ns sw ip link set lan up
  for n in client router $(seq -f 'd%g' 1 "$SO_N") rs1 rs2; do _topo_ns_new "$n"; done
  ip link add eth0 netns "$(ns client)" type veth peer name c0 netns "$(ns router)"
  in_client ip link set eth0 up
  in_ns router ip link set c0 up
  in_client ip addr add 203.0.113.2/24 dev eth0
  in_client ip -6 addr add 2001:db8:203::2/64 dev eth0 nodad
  in_client ip route add default via 203.0.113.1
  in_client ip -6 route add default via 2001:db8:203::1
  in_ns router ip addr add 203.0.113.1/24 dev c0
  in_ns router ip -6 addr add 2001:db8:203::1/64 dev c0 nodad
  _so_port router
  in_ns router ip addr add 198.51.100.1/24 dev eth0
  in_ns router ip -6 addr add 2001:db8:51::1/64 dev eth0 nodad
  in_ns router sysctl -qw net.ipv4.ip_forward=1 net.ipv4.fib_multipath_hash_policy=1 \
    net.ipv6.conf.all.forwarding=1 net.ipv6.fib_multipath_hash_policy=1
  for n in $(seq 1 "$SO_N"); do
    _so_port "d$n"
    in_ns "d$n" ip addr add "198.51.100.1$n/24" dev eth0
    in_ns "d$n" ip -6 addr add "2001:db8:51::1$n/64" dev eth0 nodad
    in_ns "d$n" ip route add default via 198.51.100.1
    in_ns "d$n" ip -6 route add default via 2001:db8:51::1
  done
  so_config >"$TOPO_DIR/vsd.toml"
  for i in 1 2; do
    _so_port "rs$i"
    in_rs "$i" ip addr add "198.51.100.3$i/24" dev eth0
    in_rs "$i" ip -6 addr add "2001:db8:51::3$i/64" dev eth0 nodad
    in_rs "$i" ip route add default via 198.51.100.1
    in_rs "$i" ip -6 route add default via 2001:db8:51::1
    local www="$TOPO_DIR/www$i"
    mkdir -p "$www"
    echo "rs$i" >"$www/index.html"
    ln -f "$TOPO_DIR/big.bin" "$www/big.bin"
    in_rs "$i" busybox httpd -f -p 8000 -h "$www" &
    echo $! >>"$TOPO_DIR/pids"
  done
  _topo_wait_servers
  for i in 1 2; do start_vsd_on "rs$i" realserver "$TOPO_DIR/vsd.toml"; done
  so_router_conf >"$TOPO_DIR/router.bird.conf"
  mkdir -p "$TOPO_DIR/run-router"
  _so_bird router "$TOPO_DIR/router.bird.conf"
  for n in $(seq 1 "$SO_N"); do so_director_up "$n"; done
}

# so_director_up N: vsd, then bird with `vsd bgp bird`'s configuration.
so_director_up() {
  local n=$1
  start_vsd_on "d$n" "" "$TOPO_DIR/vsd.toml"
  disown "${VSD_NODE_PID[d$n]}"
  in_ns "d$n" "$VSD_BIN" bgp bird -c "$TOPO_DIR/vsd.toml" >"$TOPO_DIR/d$n.bird.conf" || fail "vsd bgp bird on d$n"
  _so_bird "d$n" "$TOPO_DIR/d$n.bird.conf"
}

# so_paths [VIP]: how many next hops the router's kernel has for the VIP
# (default SO_VIP).
so_paths() {
  local r vip=${1:-$SO_VIP}
  if [[ $vip == *:* ]]; then r=$(in_ns router ip -6 route show "$vip/128" 2>/dev/null); else r=$(in_ns router ip route show "$vip" 2>/dev/null); fi
  if [ -z "$r" ]; then echo 0; elif grep -q nexthop <<<"$r"; then grep -c nexthop <<<"$r"; else echo 1; fi
}

# so_wait_paths N [SECONDS [VIP]]: until the router has N next hops for the
# VIP (default SO_VIP); prints the seconds it took.
so_wait_paths() {
  local want=$1 secs=${2:-30} vip=${3:-$SO_VIP} start
  start=$(date +%s.%N)
  for _ in $(seq 1 $((secs * 20))); do
    if [ "$(so_paths "$vip")" = "$want" ]; then
      echo "$start $(date +%s.%N)" | awk '{ printf "%.2f", $2 - $1 }'
      return 0
    fi
    sleep 0.05
  done
  echo never
}

# so_conns N: connections director dN scheduled (vsadm --stats Conns, exact).
so_conns() { so_vsadm "$1" -L -n --stats --exact 2>/dev/null | awk '$1 == "->" { n += $3 } END { print n + 0 }'; }
so_counter() { so_vsadm "$1" --json 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin)['counters'].get('$2', 0))"; }

# so_kill N: a hard failure of dN: its link down, vsd and bird killed.
so_kill() {
  local node="d$1" p
  in_ns "$node" ip link set eth0 down
  for p in $(ip netns pids "$(ns "$node")" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
  VSD_NODE_PID[$node]=
  rm -f "$TOPO_DIR/vsd-$node.pid"
}
