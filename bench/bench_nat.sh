#!/usr/bin/env bash
# VS-NAT throughput on the netns topology, in one run, against two
# baselines measured the same way on the same machine:
#   routing  : client -> real server directly, the director only routes
#   nftdnat  : the kernel's own load balancer (nft dnat + conntrack)
#   ipvs     : kernel IPVS NAT (ipvsadm -m), the same services, real
#              servers and schedulers as vsd's; where ip_vs loads (the VM
#              lab's Debian kernel: tests/vm/lab.sh --bench), see BENCH_IPVS
#              in bench/lib.sh. It and the vsd row are then measured in
#              turn, each measurement back to back (paired in bench/lib.sh),
#              vsd restarted for each
#   vsd      : client -> VIP -> vsd, the kernel fast path (default): vsd
#              decides each flow's first packet, conntrack carries the rest
#   vsd-2q   : the same with queues = 2 (two data threads)
#   vsd-user : fast_path = false: every packet through vsd (NFQUEUE)
# Prints HTTP requests/s (wrk, 32 connections: a new connection per request
# -- new connections per second -- and keep-alive), iperf3 TCP Gbit/s with
# 1 and 4 streams, and 64-byte UDP datagrams per second (thousands,
# received, unlimited send rate); then each vsd row's ratios to IPVS, nft
# DNAT and routing. Bounded: each measurement runs BENCH_SECONDS (default 8 s).
#   sudo bash bench/bench_nat.sh
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
secs=${BENCH_SECONDS:-8}
source bench/lib.sh
trap bench_down EXIT

topo_nat_up 2
topo_enable_forwarding
for i in 1 2; do bench_nginx_up "$i"; done
bench_iperf_up 1
sleep 0.5

metrics() {  # metrics URL HOST: the measurements of a row, as commands for paired
  echo "rps $1 close"; echo "rps $1"; echo "gbps $2"; echo "gbps_streams $2 4"; echo "udp_kpps $2"
}
row() {  # row NAME FIGURES...: prints a row, keeps it as R_NAME for the ratios
  printf '%-9s %12s %12s %9s %9s %10s\n' "$@"
  local name=R_${1//[^a-z0-9]/}
  shift
  printf -v "$name" '%s' "$*"
}
measure() {  # measure NAME URL HOST
  local m figs=()
  while read -r m; do figs+=("$($m)"); done < <(metrics "$2" "$3")
  row "$1" "${figs[@]}"
}

printf '%-9s %12s %12s %9s %9s %10s\n' path "req/s(close)" "req/s(k-a)" "Gbit/s 1" "Gbit/s 4" "UDP kpps"
measure routing "http://203.0.113.11:8080/" 203.0.113.11

in_director nft -f - <<NFT
table ip vsdbench {
  chain pre { type nat hook prerouting priority dstnat;
    ip daddr $VIP4 tcp dport 80 dnat to numgen inc mod 2 map { 0 : 203.0.113.11, 1 : 203.0.113.12 }:8080
    ip daddr $VIP4 meta l4proto { tcp, udp } th dport 5201 dnat to 203.0.113.11:5201
  }
}
NFT
measure nftdnat "http://$VIP4:80/" "$VIP4"
in_director nft delete table ip vsdbench
in_director conntrack -F >/dev/null 2>&1 || true

vsd_up() {  # vsd_up QUEUES FAST_PATH: vsd in the director with the benchmark's services
  cat >"$TOPO_DIR/bench.toml" <<TOML
[director]
queues = $1
fast_path = $2
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
[[service.real]]
address = "203.0.113.11:5201"
[[service]]
address = "$VIP4:5201"
protocol = "udp"
[[service.real]]
address = "203.0.113.11:5201"
TOML
  start_vsd "$TOPO_DIR/bench.toml"
}
vsd_down() {
  stop_vsd
  in_director conntrack -F >/dev/null 2>&1 || true
}
vsd_fast_up() { vsd_up 1 true; }
vsd_row() {  # vsd_row NAME QUEUES FAST_PATH
  vsd_up "$2" "$3"
  measure "$1" "http://$VIP4:80/" "$VIP4"
  grep -h "fast path:" "$VSD_LOG" | tail -1 | sed 's/^/   /'
  vsd_down
}
# IPVS NAT: vsd's services above (wlc: vsd's default scheduler, as IPVS's).
ipvs_nat_up() {
  ipvs_up <<IPVS
-A -t $VIP4:80 -s rr
-a -t $VIP4:80 -r 203.0.113.11:8080 -m -w 1
-a -t $VIP4:80 -r 203.0.113.12:8080 -m -w 1
-A -t $VIP4:5201 -s wlc
-a -t $VIP4:5201 -r 203.0.113.11:5201 -m -w 1
-A -u $VIP4:5201 -s wlc
-a -u $VIP4:5201 -r 203.0.113.11:5201 -m -w 1
IPVS
}

bases="nftdnat routing"
if ipvs_usable rr wlc; then
  # IPVS and vsd's fast path, measurement by measurement in turn.
  mapfile -t ms < <(metrics "http://$VIP4:80/" "$VIP4")
  paired ipvs_nat_up ipvs_down vsd_fast_up vsd_down "${ms[@]}"
  # shellcheck disable=SC2086
  row ipvs $PAIR_A
  # shellcheck disable=SC2086
  row vsd $PAIR_B
  grep -h "fast path:" "$VSD_LOG" | tail -1 | sed 's/^/   /'
  echo "   (ipvs and vsd: measured in turn, each measurement back to back)"
  bases="ipvs $bases"
else
  vsd_row vsd 1 true
fi
vsd_row vsd-2q 2 true
vsd_row vsd-user 1 false

echo
fmt='%-18s %12s %12s %9s %9s %10s\n'
printf "$fmt" ratio "req/s(close)" "req/s(k-a)" "Gbit/s 1" "Gbit/s 4" "UDP kpps"
for row in vsd vsd2q vsduser; do
  for base in $bases; do
    rv=R_$row rb=R_$base
    read -r -a v <<<"${!rv}"
    read -r -a b <<<"${!rb}"
    printf "$fmt" "$row / $base" "$(ratio "${v[0]}" "${b[0]}")" "$(ratio "${v[1]}" "${b[1]}")" \
      "$(ratio "${v[2]}" "${b[2]}")" "$(ratio "${v[3]}" "${b[3]}")" "$(ratio "${v[4]}" "${b[4]}")"
  done
done
