#!/usr/bin/env bash
# VS-NAT throughput on the netns topology, in one run, against two
# baselines measured the same way on the same machine:
#   routing : client -> real server directly, the director only routes
#   nft DNAT: the kernel's own load balancer (nft dnat + conntrack)
#   vsd     : client -> VIP -> vsd (NFQUEUE) -> real servers
# Prints HTTP requests/s (wrk, new connection per request, and keep-alive)
# and iperf3 Gbit/s, and vsd's ratios to both baselines. Bounded: each
# measurement runs BENCH_SECONDS (default 8 s).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
[ "$(id -u)" = 0 ] || { echo "bench: run as root" >&2; exit 1; }
secs=${BENCH_SECONDS:-8}
export VSD_BIN=${VSD_BIN:-$here/build/appliance/vsd} VSADM_BIN=${VSADM_BIN:-$here/build/appliance/vsadm}
[ -x "$VSD_BIN" ] || { echo "bench: build first (cmake -S . -B build -G Ninja && ninja -C build)" >&2; exit 1; }
# The benchmark's own tools (not needed by the tests): nginx for the real
# servers, conntrack to flush the DNAT baseline's state. policy-rc.d keeps
# apt from starting a system nginx.
bench_pkgs=()
command -v nginx >/dev/null || bench_pkgs+=(nginx-light)
command -v conntrack >/dev/null || bench_pkgs+=(conntrack)
if [ "${#bench_pkgs[@]}" -gt 0 ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${bench_pkgs[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
fi
source tests/integration/lib/topology.sh
trap topo_down EXIT

topo_nat_up 2
topo_enable_forwarding
# nginx on :8080 in each real server: fast enough that the director, not
# the server, is what is measured (busybox httpd forks per connection).
for i in 1 2; do
  mkdir -p "$TOPO_DIR/ngx$i"
  cat >"$TOPO_DIR/ngx$i/nginx.conf" <<NGX
worker_processes 1;
pid $TOPO_DIR/ngx$i/nginx.pid;
error_log $TOPO_DIR/ngx$i/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  server { listen 8080 reuseport backlog=4096; listen [::]:8080;
           location / { return 200 "rs$i\n"; } }
}
NGX
  in_rs "$i" nginx -c "$TOPO_DIR/ngx$i/nginx.conf"
  echo "$(cat "$TOPO_DIR/ngx$i/nginx.pid" 2>/dev/null || true)" >>"$TOPO_DIR/pids"
done
in_rs 1 iperf3 -s -p 5201 >/dev/null 2>&1 &
echo $! >>"$TOPO_DIR/pids"
sleep 0.5

rps() {  # rps URL [close]: requests per second from wrk
  local hdr=()
  [ "${2:-}" = close ] && hdr=(-H "Connection: close")
  in_client timeout $((secs + 10)) wrk -t2 -c32 -d"${secs}s" "${hdr[@]}" "$1" 2>/dev/null |
    awk '/Requests\/sec/ {print $2}'
}
gbps() {  # gbps HOST: iperf3 receiver throughput
  in_client timeout $((secs + 10)) iperf3 -c "$1" -p 5201 -t "$secs" -J 2>/dev/null |
    python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9))'
}
measure() {  # measure NAME URL HOST
  local close keep tput
  close=$(rps "$2" close); keep=$(rps "$2"); tput=$(gbps "$3")
  printf '%-10s %12s %12s %10s\n' "$1" "$close" "$keep" "$tput"
  eval "R_${1//[^a-z]/}=\"$close $keep $tput\""
}

printf '%-10s %12s %12s %10s\n' path "req/s(close)" "req/s(k-a)" "Gbit/s"
measure routing "http://203.0.113.11:8080/" 203.0.113.11

in_director nft -f - <<NFT
table ip vsdbench {
  chain pre { type nat hook prerouting priority dstnat;
    ip daddr $VIP4 tcp dport 80 dnat to numgen inc mod 2 map { 0 : 203.0.113.11, 1 : 203.0.113.12 }:8080
    ip daddr $VIP4 tcp dport 5201 dnat to 203.0.113.11:5201
  }
}
NFT
measure nftdnat "http://$VIP4/" "$VIP4"
in_director nft delete table ip vsdbench
in_director conntrack -F >/dev/null 2>&1 || true

cat >"$TOPO_DIR/bench.toml" <<TOML
[control]
socket = "/run/${TOPO_PREFIX}/vsd.sock"
[[service]]
address = "$VIP4:80"
scheduler = "rr"
[[service.real]]
address = "203.0.113.11:8080"
[[service.real]]
address = "203.0.113.12:8080"
[[service]]
address = "$VIP4:5201"
scheduler = "rr"
[[service.real]]
address = "203.0.113.11:5201"
TOML
start_vsd "$TOPO_DIR/bench.toml"
measure vsd "http://$VIP4/" "$VIP4"
vsadm -L -n
stop_vsd

ratio() { python3 -c "a,b=float('$1' or 0),float('$2' or 0); print('%.2f' % (a/b) if b else 'n/a')"; }
read -r vc vk vt <<<"$R_vsd"; read -r dc dk dt <<<"$R_nftdnat"; read -r rc rk rt <<<"$R_routing"
echo
printf 'vsd / nft DNAT : req/s(close) %s  req/s(keep-alive) %s  Gbit/s %s\n' "$(ratio "$vc" "$dc")" "$(ratio "$vk" "$dk")" "$(ratio "$vt" "$dt")"
printf 'vsd / routing  : req/s(close) %s  req/s(keep-alive) %s  Gbit/s %s\n' "$(ratio "$vc" "$rc")" "$(ratio "$vk" "$rk")" "$(ratio "$vt" "$rt")"
