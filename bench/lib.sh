# Shared by the netns throughput benchmarks (bench_nat.sh, bench_direct.sh):
# tools, nginx real servers and the measurements. Source it from the repo
# root after setting `secs`; it sources the integration topology helpers.
# Every load run is bounded by `secs` (wrk -d, iperf3 -t) plus a timeout.

[ "$(id -u)" = 0 ] || { echo "bench: run as root" >&2; exit 1; }
export VSD_BIN=${VSD_BIN:-$PWD/build/appliance/daemon/vsd} VSADM_BIN=${VSADM_BIN:-$PWD/build/appliance/vsadm/vsadm}
[ -x "$VSD_BIN" ] || { echo "bench: build first (cmake -S . -B build -G Ninja && ninja -C build)" >&2; exit 1; }
# The benchmarks' own tools (not needed by the tests): nginx for the real
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

# bench_nginx_up I: nginx on :8080 (both families) in real server I, fast
# enough that the director, not the server, is what is measured (busybox
# httpd forks per connection).
bench_nginx_up() {
  local i=$1
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
  # Answering before it is measured (slow to start under the VM lab's TCG).
  for _ in $(seq 1 $((50 * TOPO_WS))); do
    in_rs "$i" curl -s --max-time 1 -o /dev/null "http://127.0.0.1:8080/" && break
    sleep 0.1
  done
  echo "$(cat "$TOPO_DIR/ngx$i/nginx.pid" 2>/dev/null || true)" >>"$TOPO_DIR/pids"
}

# bench_iperf_up I: an iperf3 server on :5201 in real server I, listening
# before it returns.
bench_iperf_up() {
  in_rs "$1" iperf3 -s -p 5201 >/dev/null 2>&1 &
  echo $! >>"$TOPO_DIR/pids"
  for _ in $(seq 1 $((50 * TOPO_WS))); do
    [ -n "$(in_rs "$1" ss -Hltn 'sport = :5201')" ] && break
    sleep 0.1
  done
}

# Kernel IPVS as a further baseline (the VM lab's Debian 6.1 kernel has it;
# this host's may not). BENCH_IPVS=auto (default): measured where `modprobe
# ip_vs` works, else one line says why not; 1: required; 0: skipped.
# ipvs_usable SCHEDULER...: true when IPVS can be measured (loads ip_vs and
# the schedulers' modules), else prints the skip line (or fails for 1).
ipvs_usable() {
  local want=${BENCH_IPVS:-auto} why="" m err
  case "$want" in 0 | 1 | auto) ;; *) echo "bench: BENCH_IPVS=$want: use 0, 1 or auto" >&2; exit 2 ;; esac
  if [ "$want" = 0 ]; then
    why="BENCH_IPVS=0"
  elif ! command -v modprobe >/dev/null; then
    [ -e /proc/net/ip_vs ] || why="kernel $(uname -r) has no ip_vs loaded, and no modprobe to load it"
  else
    for m in ip_vs "${@/#/ip_vs_}"; do
      err=$(modprobe "$m" 2>&1) || { why="modprobe $m failed on kernel $(uname -r): ${err##*: }"; break; }
    done
  fi
  if [ -z "$why" ] && ! command -v ipvsadm >/dev/null; then why="no ipvsadm (apt-get install ipvsadm)"; fi
  [ -z "$why" ] && return 0
  [ "$want" = 1 ] && { echo "bench: BENCH_IPVS=1 but $why" >&2; exit 1; }
  echo "bench: kernel IPVS baseline skipped: $why"
  return 1
}

# ipvs_up < RULES: kernel IPVS in the director from ipvsadm-save lines
# (`ipvsadm -R`, as tests/vm/lab/ipvs_diff_test.sh does); ipvs_down clears
# it and the conntrack entries it left. bench_down (the benches' EXIT trap)
# clears it too, also on failure.
IPVS_ON=0
ipvs_up() {
  IPVS_ON=1
  in_director ipvsadm -R || { echo "bench: ipvsadm -R failed" >&2; exit 1; }
}
ipvs_down() {
  in_director ipvsadm -C
  IPVS_ON=0
  in_director conntrack -F >/dev/null 2>&1 || true
}
# paired ON_A OFF_A ON_B OFF_B METRIC...: each METRIC (a command printing
# one figure, e.g. "rps URL close") measured once with A set up (ON_A ...
# OFF_A) and once with B, back to back, B first for every other metric:
# load that changes during the run (a shared machine; the VM lab under
# TCG) then skews A against B far less than whole rows measured a minute
# or more apart. Sets PAIR_A and PAIR_B to the figures, in METRIC order.
paired() {
  local on_a=$1 off_a=$2 on_b=$3 off_b=$4 m i=0 a b
  shift 4
  PAIR_A="" PAIR_B=""
  for m in "$@"; do
    # shellcheck disable=SC2086  # METRIC is a command line: split it
    if [ $((i % 2)) = 0 ]; then
      "$on_a"; a=$($m); "$off_a"; "$on_b"; b=$($m); "$off_b"
    else
      "$on_b"; b=$($m); "$off_b"; "$on_a"; a=$($m); "$off_a"
    fi
    PAIR_A+="${PAIR_A:+ }$a" PAIR_B+="${PAIR_B:+ }$b"
    i=$((i + 1))
  done
}

bench_down() {
  if [ "$IPVS_ON" = 1 ]; then in_director ipvsadm -C 2>/dev/null || true; fi
  topo_down
}

# The load tools' time limit beyond their own `secs`: start-up and the final
# exchange (iperf3's results), stretched like the tests' waits under the VM
# lab's TCG (VSD_TEST_WAIT_SCALE, topology.sh's TOPO_WS).
slack=$((10 * TOPO_WS))

# A measurement that fails prints "n/a" as its figure, and why on stderr;
# the run goes on.
rps() {  # rps URL [close]: requests per second from wrk
  local hdr=() out rc=0
  [ "${2:-}" = close ] && hdr=(-H "Connection: close")
  out=$(in_client timeout $((secs + slack)) wrk -t2 -c32 -d"${secs}s" "${hdr[@]}" "$1" 2>&1) || rc=$?
  if [ "$rc" != 0 ] || ! grep -q 'Requests/sec' <<<"$out"; then
    echo "bench: wrk $1 ${2:-} failed (exit $rc): $(tail -n 3 <<<"$out" | paste -sd' ')" >&2
    echo n/a
    return 0
  fi
  awk '/Requests\/sec/ {print $2}' <<<"$out"
}
# _iperf PYEXPR ARGS...: PYEXPR on the result (j) of iperf3 -J -c ARGS
# (port 5201, secs seconds), or n/a.
_iperf() {
  local expr=$1 out rc=0
  shift
  out=$(in_client timeout $((secs + slack)) iperf3 -p 5201 -t "$secs" -J -c "$@" 2>/dev/null) || rc=$?
  python3 -c '
import json, sys
expr, rc, args = sys.argv[1:4]
j = {}
try:
    j = json.loads(sys.stdin.read())
    print(eval(expr))
except Exception as e:
    err = j.get("error", repr(e)) if isinstance(j, dict) else repr(e)
    print("bench: iperf3 -c %s failed (exit %s): %s" % (args, rc, err), file=sys.stderr)
    print("n/a")' "$expr" "$rc" "$*" <<<"$out"
}
gbps() {  # gbps HOST [-R]: iperf3 receiver throughput (-R: the server sends)
  _iperf '"%.2f" % (j["end"]["sum_received"]["bits_per_second"] / 1e9)' "$1" ${2:+"$2"}
}
gbps_streams() {  # gbps_streams HOST N: iperf3 receiver throughput over N parallel streams
  _iperf '"%.2f" % (j["end"]["sum_received"]["bits_per_second"] / 1e9)' "$1" -P "$2"
}
udp_kpps() {  # udp_kpps HOST: 64-byte UDP datagrams per second received (thousands), unlimited rate
  _iperf '"%.0f" % (j["end"]["sum_received"]["bytes"] / 64 / j["end"]["sum_received"]["seconds"] / 1e3)' "$1" -u -l 64 -b 0
}
ratio() {  # ratio A B: A/B to 2 decimals, n/a when either is not a number or B is 0
  python3 -c 'import sys
try: print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))
except (ValueError, ZeroDivisionError): print("n/a")' "$1" "$2"
}
