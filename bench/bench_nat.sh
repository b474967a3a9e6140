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
secs=${BENCH_SECONDS:-8}
source bench/lib.sh
trap topo_down EXIT

topo_nat_up 2
topo_enable_forwarding
for i in 1 2; do bench_nginx_up "$i"; done
bench_iperf_up 1
sleep 0.5

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

read -r vc vk vt <<<"$R_vsd"; read -r dc dk dt <<<"$R_nftdnat"; read -r rc rk rt <<<"$R_routing"
echo
printf 'vsd / nft DNAT : req/s(close) %s  req/s(keep-alive) %s  Gbit/s %s\n' "$(ratio "$vc" "$dc")" "$(ratio "$vk" "$dk")" "$(ratio "$vt" "$dt")"
printf 'vsd / routing  : req/s(close) %s  req/s(keep-alive) %s  Gbit/s %s\n' "$(ratio "$vc" "$rc")" "$(ratio "$vk" "$rk")" "$(ratio "$vt" "$rt")"
