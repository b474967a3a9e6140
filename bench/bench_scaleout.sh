#!/usr/bin/env bash
# Scale-out (README "Scale-out"): new HTTP connections per second through
# 1, 2 and 3 active directors behind the bird2 router's ECMP, in one run,
# as ratios to one director; and the ceiling: the client straight to the
# real server through the router, no director at all. On 2 cores every
# namespace shares the same CPUs, so read it as a scaling signal, not an
# absolute. Bounded: each measurement runs BENCH_SECONDS (default 8 s).
#   sudo bash bench/bench_scaleout.sh
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
secs=${BENCH_SECONDS:-8}
: "${TOPO_PREFIX:=vsdbso$$}"
source bench/lib.sh
source tests/integration/lib/scaleout.sh
trap topo_down EXIT

so_up 3
for i in 1 2; do bench_nginx_up "$i"; done
# nginx answers on :8080: the same service there, on every director.
for n in 1 2 3; do
  so_vsadm "$n" -A -t "$SO_VIP:8080" -s mh -b mh-port
  for i in 1 2; do so_vsadm "$n" -a -t "$SO_VIP:8080" -r "198.51.100.3$i:8080" -g; done
done
[ "$(so_wait_paths 3 40)" != never ] || { echo "bench: the router never had 3 paths" >&2; exit 1; }

declare -A cps=()
measure() {  # measure NAME URL
  cps[$1]=$(rps "$2" close)
  printf '%-22s %10s\n' "$1" "${cps[$1]}"
}
printf '%-22s %10s\n' "path" "conn/s"
measure "direct to rs1" "http://198.51.100.31:8080/"
measure "3 directors" "http://$SO_VIP:8080/"
kill -TERM "${SO_PID[d3-bird]}"
[ "$(so_wait_paths 2 10)" != never ] || { echo "bench: d3's route stayed" >&2; exit 1; }
measure "2 directors" "http://$SO_VIP:8080/"
kill -TERM "${SO_PID[d2-bird]}"
[ "$(so_wait_paths 1 10)" != never ] || { echo "bench: d2's route stayed" >&2; exit 1; }
measure "1 director" "http://$SO_VIP:8080/"
echo
echo "ratios to 1 director: 2 directors $(ratio "${cps[2 directors]}" "${cps[1 director]}")," \
  "3 directors $(ratio "${cps[3 directors]}" "${cps[1 director]}");" \
  "1 director / direct $(ratio "${cps[1 director]}" "${cps[direct to rs1]}")"
