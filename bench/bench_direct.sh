#!/usr/bin/env bash
# VS-DR and VS-TUN throughput on the netns topologies of the integration
# tests, each against the baseline measured the same way in the same run:
#   direct : the client talks to a real server's own address (DR: on the
#            same segment; TUN: through the router), no director at all;
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
trap topo_down EXIT

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

read -r dc dk dd du <<<"$R_direct"
echo
for row in vsd vsduser; do
  eval "read -r vc vk vd vu <<<\"\$R_$row\""
  printf '%s %s / direct : req/s(close) %s  req/s(keep-alive) %s  Gbit/s down %s  up %s\n' "$row" "${mode^^}" \
    "$(ratio "$vc" "$dc")" "$(ratio "$vk" "$dk")" "$(ratio "$vd" "$dd")" "$(ratio "$vu" "$du")"
done
