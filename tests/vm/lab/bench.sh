#!/usr/bin/env bash
# The benchmarks inside the VM lab, with kernel IPVS as a baseline: not a
# test and not in CI; run by `sudo tests/vm/lab.sh --bench` (which fetches
# the load tools' packages, see below, and keeps this output as bench.log).
# Runs bench/bench_nat.sh (with an IPVS NAT row) and bench/bench_direct.sh
# dr (with an IPVS DR row), BENCH_IPVS=1, so vsd and IPVS are measured in
# the same run on Debian's 6.1 kernel. Under qemu TCG every figure is tens
# of times lower than on the host: only the ratios within the run mean
# something. Each measurement lasts BENCH_SECONDS (lab.sh's default: 10).
#
# The lab image has no nginx, wrk nor iperf3 (and the VM no network):
# lab.sh --bench downloads their Debian 12 packages on the host into
# build-image/lab/bench-debs (apt-get download), seen here through the
# read-only repository share; they are unpacked (dpkg-deb -x, no maintainer
# scripts: nothing starts a system nginx) under /opt/vsd-bench.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../../.." && pwd)
debs=$repo/build-image/lab/bench-debs
tools=/opt/vsd-bench

ls "$debs"/*.deb >/dev/null 2>&1 || { echo "FAIL: no packages in $debs (run tests/vm/lab.sh --bench)" >&2; exit 1; }
mkdir -p "$tools" /var/lib/nginx /var/log/nginx
for d in "$debs"/*.deb; do dpkg-deb -x "$d" "$tools"; done
export PATH=$tools/usr/sbin:$tools/usr/bin:$PATH
export LD_LIBRARY_PATH=$tools/usr/lib/x86_64-linux-gnu
for t in nginx wrk iperf3 ipvsadm conntrack; do
  command -v "$t" >/dev/null || { echo "FAIL: no $t in the VM" >&2; exit 1; }
done

echo "NOTE: kernel $(uname -r), $(nproc) vCPUs, vsd $VSD_BIN, BENCH_SECONDS=${BENCH_SECONDS:-8}, load average $(cut -d' ' -f1-3 /proc/loadavg)"
cd "$repo"
# The repository is read-only here: the benches write only under /tmp.
t=$(date +%s)
BENCH_IPVS=1 bash bench/bench_nat.sh
echo "NOTE: bench_nat.sh took $(( $(date +%s) - t )) s, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
t=$(date +%s)
BENCH_IPVS=1 bash bench/bench_direct.sh dr
echo "NOTE: bench_direct.sh dr took $(( $(date +%s) - t )) s, load average $(cut -d' ' -f1-3 /proc/loadavg)"
