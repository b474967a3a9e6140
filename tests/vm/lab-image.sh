#!/usr/bin/env bash
# The VM lab's image: etc/image/build.sh --variant lab (Debian 12 with
# Debian's kernel 6.1, the vsd .deb installed but not enabled, ip_vs
# loadable, and the integration tests' tools: ipvsadm, conntrack, socat,
# curl, python3, busybox, arping, ndisc6; the benchmarks' nginx, wrk and
# iperf3 are not in it: `lab.sh --bench` brings them).
#
#   sudo tests/vm/lab-image.sh [--deb ../vsd_0.1.0_amd64.deb] [--out DIR] [--force]
#
# Cached in DIR (default $VSD_LAB_CACHE or /var/cache/vsd-lab, outside the
# work tree so that fresh clones on this machine, CI's too, find it): the
# image is rebuilt only when the recipe (etc/image/*, this script) or the
# .deb's dependencies (Depends, Pre-Depends) change, not for every new build
# of vsd: tests/vm/lab.sh installs the .deb under test at every boot (dpkg
# -i, its dependencies are in the image). The key is DIR/vsd-lab.key.
# Prints the image's path as the last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
deb="" out="${VSD_LAB_CACHE:-/var/cache/vsd-lab}" force=0
while [ $# -gt 0 ]; do
  case "$1" in
    --deb) deb=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --force) force=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "lab-image.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "lab-image.sh: run as root" >&2; exit 1; }
if [ -z "$deb" ]; then
  deb=$(ls -t "$repo"/../vsd_*.deb 2>/dev/null | grep -v dbgsym | head -1 || true)
  [ -n "$deb" ] || { echo "lab-image.sh: no --deb and no ../vsd_*.deb (dpkg-buildpackage -b -us -uc)" >&2; exit 2; }
fi
[ -f "$deb" ] || { echo "lab-image.sh: $deb: no such file" >&2; exit 2; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
img=$out/vsd-lab.qcow2
key=$( { dpkg-deb -f "$deb" Depends Pre-Depends; cat "$repo"/etc/image/* "$0"; } | sha256sum | cut -c1-16)
if [ "$force" = 0 ] && [ -f "$img" ] && [ "$(cat "$out/vsd-lab.key" 2>/dev/null)" = "$key" ]; then
  echo "lab-image.sh: cached (key $key): $img"
  echo "$img"
  exit 0
fi
rm -f "$out/vsd-lab.key"
bash "$repo/etc/image/build.sh" --variant lab --deb "$deb" --out "$out" --name vsd-lab >&2
echo "$key" >"$out/vsd-lab.key"
echo "$img"
