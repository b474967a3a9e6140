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
  echo "$(cat "$TOPO_DIR/ngx$i/nginx.pid" 2>/dev/null || true)" >>"$TOPO_DIR/pids"
}

# bench_iperf_up I: an iperf3 server on :5201 in real server I.
bench_iperf_up() {
  in_rs "$1" iperf3 -s -p 5201 >/dev/null 2>&1 &
  echo $! >>"$TOPO_DIR/pids"
}

rps() {  # rps URL [close]: requests per second from wrk
  local hdr=()
  [ "${2:-}" = close ] && hdr=(-H "Connection: close")
  in_client timeout $((secs + 10)) wrk -t2 -c32 -d"${secs}s" "${hdr[@]}" "$1" 2>/dev/null |
    awk '/Requests\/sec/ {print $2}'
}
gbps() {  # gbps HOST [-R]: iperf3 receiver throughput (-R: the server sends)
  in_client timeout $((secs + 10)) iperf3 -c "$1" -p 5201 -t "$secs" ${2:+"$2"} -J 2>/dev/null |
    python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9))'
}
gbps_streams() {  # gbps_streams HOST N: iperf3 receiver throughput over N parallel streams
  in_client timeout $((secs + 10)) iperf3 -c "$1" -p 5201 -t "$secs" -P "$2" -J 2>/dev/null |
    python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9))'
}
udp_kpps() {  # udp_kpps HOST: 64-byte UDP datagrams per second received (thousands), unlimited rate
  in_client timeout $((secs + 10)) iperf3 -c "$1" -p 5201 -u -l 64 -b 0 -t "$secs" -J 2>/dev/null |
    python3 -c 'import json,sys; s=json.load(sys.stdin)["end"]["sum_received"]; print("%.0f" % (s["bytes"]/64/s["seconds"]/1e3))'
}
ratio() { python3 -c "a,b=float('$1' or 0),float('$2' or 0); print('%.2f' % (a/b) if b else 'n/a')"; }
