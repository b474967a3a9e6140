#!/usr/bin/env bash
# VS-DR and VS-TUN throughput on the netns topologies of the integration
# tests, each against the baseline measured the same way in the same run:
#   direct : the client talks to a real server's own address (DR: on the
#            same segment; TUN: through the router), no director at all;
#   ipvs   : (DR only) kernel IPVS DR (ipvsadm -g) on the director, the same
#            services, real servers and schedulers as vsd's, the VIP on the
#            real servers' lo with arp_ignore=1, arp_announce=2; where ip_vs
#            loads (the VM lab's Debian kernel: tests/vm/lab.sh --bench),
#            see BENCH_IPVS in bench/lib.sh;
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

measure() {  # measure NAME URL HOST
  local close keep down up
  close=$(rps "$2" close); keep=$(rps "$2"); down=$(gbps "$3" -R); up=$(gbps "$3")
  printf '%-8s %12s %12s %10s %10s\n' "$1" "$close" "$keep" "$down" "$up"
  eval "R_$1=\"$close $keep $down $up\""
}

echo "== VS-${mode^^}"
printf '%-8s %12s %12s %10s %10s\n' path "req/s(close)" "req/s(k-a)" "Gbit/s dn" "Gbit/s up"
measure direct "http://$(lb_rs_ip4 1):8080/" "$(lb_rs_ip4 1)"

# IPVS DR: the real servers' side done by hand (what vsd --role realserver
# does): the VIP on lo, not answered for in ARP nor used as an ARP source.
rows="vsd vsduser" bases="direct"
if [ "$mode" = dr ] && ipvs_usable rr wlc; then
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
  measure ipvs "http://$LB_VIP4:8080/" "$LB_VIP4"
  ipvs_down
  for i in 1 2; do
    in_rs "$i" ip addr del "$LB_VIP4/32" dev lo
    read -r ign ann <<<"${arp_before[i]}"
    in_rs "$i" sysctl -qw "net.ipv4.conf.all.arp_ignore=$ign" "net.ipv4.conf.all.arp_announce=$ann"
  done
  in_client ip neigh flush all
  rows="ipvs vsd vsduser" bases="ipvs direct"
fi

cfg="$TOPO_DIR/bench.toml"
vsd_row() {  # vsd_row NAME FAST_PATH
  cat >"$cfg" <<TOML
[director]
fast_path = $2
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
  measure "$1" "http://$LB_VIP4:8080/" "$LB_VIP4"
  grep -h "fast path:" "$VSD_LOG" | tail -1 | sed 's/^/   /'
  echo "   vsd counters: $(vsadm -L -n --json | python3 -c 'import json,sys; c=json.load(sys.stdin)["counters"]; print(" ".join("%s=%s" % (k, c[k]) for k in ("kernel_decided", "direct_routed", "tunneled", "tun_too_big", "no_route", "transmit_errors")))')"
  for n in dir rs1 rs2; do stop_vsd_on "$n"; done
}
vsd_row vsd true
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
