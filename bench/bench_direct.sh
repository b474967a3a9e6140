#!/usr/bin/env bash
# VS-DR and VS-TUN throughput on the netns topologies of the integration
# tests, each against the baseline measured the same way in the same run:
#   direct : the client talks to a real server's own address (DR: on the
#            same segment; TUN: through the router), no director at all;
#   ipvs   : (DR only) kernel IPVS DR (ipvsadm -g) on the director, the same
#            services, real servers and schedulers as vsd's, the VIP on the
#            real servers' lo with arp_ignore=1, arp_announce=2; where ip_vs
#            loads (the VM lab's Debian kernel: tests/vm/lab.sh --bench),
#            see BENCH_IPVS in bench/lib.sh. It and the vsd row are then
#            measured in turn, each measurement back to back (paired in
#            bench/lib.sh), vsd restarted for each;
#   vsd    : the client talks to the VIP; vsd on the director sends the
#            requests on (DR: to the real server's MAC; TUN: IP-in-IP), vsd
#            on each real server hides the VIP (TUN: and decapsulates), and
#            the replies go straight back to the client. With the kernel
#            fast path (default) the director's flow table forwards a DR
#            flow after its first packets; TUN has no kernel path on a
#            kernel without ipip, so vsd encapsulates every packet;
#   vsduser: the same with fast_path = false (every packet through vsd).
# Prints HTTP requests/s (wrk, new connection per request, and keep-alive)
# and iperf3 Gbit/s both ways: "down" (the real server sends: the replies
# that bypass the director, where DR/TUN should be close to direct) and
# "up" (the client sends: every packet crosses vsd). Bounded: each
# measurement runs BENCH_SECONDS (default 8 s).
#   sudo bash bench/bench_direct.sh [dr|tun]     (default: both)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
if [ $# -eq 0 ]; then
  for m in dr tun; do bash "$0" "$m"; echo; done
  exit 0
fi
mode=$1
case "$mode" in dr | tun) ;; *) echo "usage: $0 [dr|tun]" >&2; exit 2 ;; esac
secs=${BENCH_SECONDS:-8}
: "${TOPO_PREFIX:=vsdb$mode$$}"
source bench/lib.sh
trap bench_down EXIT

"topo_${mode}_up" 2
for i in 1 2; do bench_nginx_up "$i"; done
bench_iperf_up 1
sleep 0.5

metrics() {  # metrics URL HOST: the measurements of a row, as commands for paired
  echo "rps $1 close"; echo "rps $1"; echo "gbps $2 -R"; echo "gbps $2"
}
row() {  # row NAME FIGURES...: prints a row, keeps it as R_NAME for the ratios
  printf '%-8s %12s %12s %10s %10s\n' "$@"
  local name=R_$1
  shift
  printf -v "$name" '%s' "$*"
}
measure() {  # measure NAME URL HOST
  local m figs=()
  while read -r m; do figs+=("$($m)"); done < <(metrics "$2" "$3")
  row "$1" "${figs[@]}"
}

echo "== VS-${mode^^}"
printf '%-8s %12s %12s %10s %10s\n' path "req/s(close)" "req/s(k-a)" "Gbit/s dn" "Gbit/s up"
measure direct "http://$(lb_rs_ip4 1):8080/" "$(lb_rs_ip4 1)"

cfg="$TOPO_DIR/bench.toml"
vsd_up() {  # vsd_up FAST_PATH: vsd on the director and the real servers
  cat >"$cfg" <<TOML
[director]
fast_path = $1
[control]
socket = "$TOPO_DIR/ctl/vsd.sock"
[arp]
garp_repeat = 1
[[service]]
address = "$LB_VIP4:8080"
scheduler = "rr"
[[service.real]]
address = "$(lb_rs_ip4 1)"
forward = "$mode"
[[service.real]]
address = "$(lb_rs_ip4 2)"
forward = "$mode"
[[service]]
address = "$LB_VIP4:5201"
[[service.real]]
address = "$(lb_rs_ip4 1)"
forward = "$mode"
TOML
  start_vsd_on rs1 realserver "$cfg"
  start_vsd_on rs2 realserver "$cfg"
  start_vsd_on dir director "$cfg"
}
vsd_down() {
  local n
  for n in dir rs1 rs2; do stop_vsd_on "$n"; done
}
vsd_fast_up() { vsd_up true; }
vsd_row() {  # vsd_row NAME FAST_PATH
  vsd_up "$2"
  measure "$1" "http://$LB_VIP4:8080/" "$LB_VIP4"
  grep -h "fast path:" "$VSD_LOG" | tail -1 | sed 's/^/   /'
  echo "   vsd counters: $(vsadm -L -n --json | python3 -c 'import json,sys; c=json.load(sys.stdin)["counters"]; print(" ".join("%s=%s" % (k, c[k]) for k in ("kernel_decided", "direct_routed", "tunneled", "tun_too_big", "no_route", "transmit_errors")))')"
  vsd_down
}

# IPVS DR, vsd's services above (wlc: vsd's default scheduler, as IPVS's);
# the real servers' side done by hand, as vsd --role realserver does it:
# the VIP on lo, neither answered for in ARP nor used as an ARP source.
declare -a arp_before
ipvs_dr_up() {
  local i
  for i in 1 2; do
    arp_before[i]=$(in_rs "$i" sysctl -n net.ipv4.conf.all.arp_ignore net.ipv4.conf.all.arp_announce | paste -sd' ')
    in_rs "$i" sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
    in_rs "$i" ip addr add "$LB_VIP4/32" dev lo
  done
  ipvs_up <<IPVS
-A -t $LB_VIP4:8080 -s rr
-a -t $LB_VIP4:8080 -r $(lb_rs_ip4 1):8080 -g -w 1
-a -t $LB_VIP4:8080 -r $(lb_rs_ip4 2):8080 -g -w 1
-A -t $LB_VIP4:5201 -s wlc
-a -t $LB_VIP4:5201 -r $(lb_rs_ip4 1):5201 -g -w 1
IPVS
}
ipvs_dr_down() {
  local i ign ann
  ipvs_down
  for i in 1 2; do
    in_rs "$i" ip addr del "$LB_VIP4/32" dev lo
    read -r ign ann <<<"${arp_before[i]}"
    in_rs "$i" sysctl -qw "net.ipv4.conf.all.arp_ignore=$ign" "net.ipv4.conf.all.arp_announce=$ann"
  done
}

rows="vsd vsduser" bases="direct"
if [ "$mode" = dr ] && ipvs_usable rr wlc; then
  # IPVS DR and vsd's fast path, measurement by measurement in turn.
  mapfile -t ms < <(metrics "http://$LB_VIP4:8080/" "$LB_VIP4")
  paired ipvs_dr_up ipvs_dr_down vsd_fast_up vsd_down "${ms[@]}"
  # shellcheck disable=SC2086
  row ipvs $PAIR_A
  # shellcheck disable=SC2086
  row vsd $PAIR_B
  grep -h "fast path:" "$VSD_LOG" | tail -1 | sed 's/^/   /'
  echo "   (ipvs and vsd: measured in turn, each measurement back to back)"
  rows="ipvs vsd vsduser" bases="ipvs direct"
else
  vsd_row vsd true
fi
vsd_row vsduser false

echo
for row in $rows; do
  for base in $bases; do
    [ "$row" != "$base" ] || continue
    rv=R_$row rb=R_$base
    read -r vc vk vd vu <<<"${!rv}"
    read -r bc bk bd bu <<<"${!rb}"
    printf '%s %s / %s : req/s(close) %s  req/s(keep-alive) %s  Gbit/s down %s  up %s\n' "$row" "${mode^^}" "$base" \
      "$(ratio "$vc" "$bc")" "$(ratio "$vk" "$bk")" "$(ratio "$vd" "$bd")" "$(ratio "$vu" "$bu")"
  done
done
