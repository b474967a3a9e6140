#!/usr/bin/env bash
# The VM lab: vsd's netns integration tests and the IPVS differential test,
# run inside a Debian 12 VM on Debian's own kernel 6.1 — the kernel that has
# what this host's may lack: the native nft `queue` expression, ipip,
# ip6_tunnel and IPVS. The VM boots the lab image (tests/vm/lab-image.sh,
# cached) under qemu with no NIC: every topology is built inside the VM with
# network namespaces, exactly as on the host. The repository is shared into
# the VM read-only over virtio-9p (mounted at /vsd), a results directory
# read-write (/lab-out), and the .deb under test, installed at boot with
# dpkg -i (the cached image has its dependencies); each test runs as root
# with VSD_BIN (that vsd, through a wrapper that copies its log to
# /lab-out/vsd-logs)
# and VSADM_BIN=/usr/sbin/vsadm, its output in /lab-out/NAME.log.
#
#   sudo tests/vm/lab.sh [--deb ../vsd_0.1.0_amd64.deb | --image IMG] [--tests "nat dr ..."]
#                        [--full] [--bench] [--build DIR] [--logs DIR] [--keep]
#
#   --deb FILE     the vsd package under test (installed in the VM at boot; the
#                  image is built for its dependencies, or found cached);
#                  default: the newest ../vsd_*.deb
#   --image IMG    use this lab image (no build); without --deb, its own vsd
#   --tests LIST   test names, run in this order: NAME runs tests/vm/lab/NAME_test.sh
#                  if it exists, else tests/integration/NAME_test.sh.
#                  Default: the CI subset (LAB_CI_TESTS below)
#   --full         every lab test and the integration tests of LAB_FULL_TESTS
#   --bench        instead of tests, the benchmarks against kernel IPVS
#                  (tests/vm/lab/bench.sh: bench_nat.sh and bench_direct.sh dr,
#                  BENCH_SECONDS each measurement, default 10; about 10 min
#                  under TCG; not in CI); their output in LOGS/bench.log.
#                  Fetches nginx, wrk and iperf3 (apt-get download, on the
#                  host) into build-image/lab/bench-debs
#   --build DIR    run vsd and vsadm of this build directory of the repository
#                  (e.g. build: a developer's build, linked against the same
#                  Debian 12 libraries) instead of the package's; for quick
#                  iterations without dpkg-buildpackage
#   --logs DIR     where the results are kept after the run (default
#                  build-image/lab/logs): each test's log, the vsds' logs, the
#                  serial console
#   --keep         leave the VM running at the end (prints how to reach it)
#
# After the tests the lab checks, from the logs of every vsd that ran, that
# each director used the native queue form ("kernel queue form: nft queue").
# Prints each step's time and a closing "lab: N passed, N failed"; exits 1
# when a test failed. Environment: VSD_VM_ACCEL=kvm|tcg (as tests/vm/run.sh),
# VSD_LAB_TEST_TIMEOUT (seconds per test, default 900), VSD_TEST_WAIT_SCALE
# (multiplies the tests' bounded waits; default 6 under TCG), VSD_TEST_SCALE (passed
# to the tests: VSD_TEST_SCALE=0.25 makes their bulk transfers a quarter as big;
# the lab's default is 1, the tests' own sizes). qemu, its temp files and
# the state are removed on exit, also on failure, Ctrl-C or SIGTERM.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

# What CI runs (about 5 min of tests under TCG on 2 cores, see README "The
# VM lab"): what this host's kernel cannot show (kernel TUN both ways, IPVS
# side by side), and NAT (IPv4 and IPv6, fast path on and off) and DR (the
# fast path) end to end on Debian's kernel. The native queue form is
# checked in every director's log (and by tests/vm/run.sh). The full run
# adds the other netns integration tests (1-5 min each under TCG).
LAB_CI_TESTS="tun_kernel ipvs_diff nat fastpath_dr"
LAB_FULL_TESTS="kernel_facts tun_kernel ipvs_diff tun dr fastpath_dr nat fastpath
  persistence live_change health nat_icmp"

image="" deb="" tests="" keep=0 logs="$repo/build-image/lab/logs" build=""
while [ $# -gt 0 ]; do
  case "$1" in
    --deb) deb=$2; shift 2 ;;
    --image) image=$2; shift 2 ;;
    --tests) tests=$2; shift 2 ;;
    --full) tests=$LAB_FULL_TESTS; shift ;;
    --bench) tests=bench; shift ;;
    --build) build=$2; shift 2 ;;
    --logs) logs=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "lab.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$tests" ] || tests=$LAB_CI_TESTS
[ "$(id -u)" = 0 ] || { echo "tests/vm/lab.sh: run as root" >&2; exit 1; }
for t in qemu-system-x86_64 python3; do
  command -v "$t" >/dev/null || { echo "lab.sh: needs $t (apt-get install qemu-system-x86 python3)" >&2; exit 1; }
done
test_timeout=${VSD_LAB_TEST_TIMEOUT:-900}
scale=${VSD_TEST_SCALE:-1}

# Each name resolves to a script now, before anything is built.
declare -A script=()
for name in $tests; do
  if [ -f "$here/lab/${name}_test.sh" ]; then script[$name]=tests/vm/lab/${name}_test.sh
  elif [ "$name" = bench ]; then script[$name]=tests/vm/lab/bench.sh
  elif [ -f "$repo/tests/integration/${name}_test.sh" ]; then script[$name]=tests/integration/${name}_test.sh
  else echo "lab.sh: no test $name (tests/vm/lab/${name}_test.sh or tests/integration/${name}_test.sh)" >&2; exit 2
  fi
done

# --bench: the load tools the image lacks, unpacked in the VM by bench.sh.
if [ -n "${script[bench]:-}" ]; then
  bench_debs=$repo/build-image/lab/bench-debs
  mkdir -p "$bench_debs"
  ls "$bench_debs"/wrk_*.deb >/dev/null 2>&1 ||
    (cd "$bench_debs" && apt-get download -qq nginx wrk libluajit-5.1-2 libluajit-5.1-common iperf3 libiperf0 libsctp1) ||
    { echo "lab.sh: --bench: apt-get download of nginx, wrk, iperf3 failed" >&2; exit 1; }
fi

t0=$(date +%s)
log() { printf '[%4ss] %s\n' "$(( $(date +%s) - t0 ))" "$*"; }

state=$(mktemp -d /tmp/vsdlab.XXXXXX)
mkdir -p "$state/out"
vm_pid=
vm() {  # tests/vm/vm.py in the background (a SIGTERM runs the cleanup at once); output in $out
  python3 "$here/vm.py" "$@" >"$state/vm.out" 2>&1 &
  vm_pid=$!
  local rc=0
  wait "$vm_pid" || rc=$?
  vm_pid=
  out=$(cat "$state/vm.out")
  return "$rc"
}
vm_run() {  # vm_run TIMEOUT SCRIPT
  vm run --state "$state" --timeout "$1" -- "$2"
}
cleanup() {
  local rc=$?
  set +e
  [ -n "$vm_pid" ] && kill "$vm_pid" 2>/dev/null
  if [ -d "$state/out" ]; then
    rm -rf "$logs"; mkdir -p "$logs"
    cp -r "$state/out/." "$logs/" 2>/dev/null
    [ -f "$state/serial.log" ] && tr -d '\r' <"$state/serial.log" >"$logs/serial.log"
    echo "lab.sh: logs in $logs"
  fi
  if [ "$keep" = 1 ] && [ -f "$state/qemu.pid" ] && kill -0 "$(cat "$state/qemu.pid")" 2>/dev/null; then
    echo "left running: qemu pid $(cat "$state/qemu.pid"), state $state"
    echo "  console: python3 $here/vm.py run --state $state -- 'uname -r'"
    echo "  remove:  kill $(cat "$state/qemu.pid"); rm -rf $state"
    exit "$rc"
  fi
  if [ "$rc" != 0 ] && [ -f "$state/serial.log" ]; then
    echo "--- last lines of the serial console:" >&2
    tail -n 20 "$state/serial.log" | tr -d '\r' >&2
  fi
  if [ -f "$state/qemu.pid" ]; then
    local qp; qp=$(cat "$state/qemu.pid")
    kill "$qp" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$qp" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$qp" 2>/dev/null
  fi
  rm -rf "$state"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
fail() { echo "FAIL: $*" >&2; exit 1; }

# ---------------------------------------------------------------- the image
if [ -z "$image" ] && [ -z "$deb" ]; then
  deb=$(ls -t "$repo"/../vsd_*.deb 2>/dev/null | grep -v dbgsym | head -1 || true)
  [ -n "$deb" ] || fail "no --deb and no ../vsd_*.deb: build it (dpkg-buildpackage -b -us -uc) or give --image"
fi
if [ -n "$deb" ]; then
  [ -f "$deb" ] || fail "$deb: no such file"
  mkdir -p "$state/deb"
  cp "$deb" "$state/deb/vsd.deb"
fi
if [ -z "$image" ]; then
  log "lab image (tests/vm/lab-image.sh: cached on the recipe and the .deb's dependencies)"
  t=$(date +%s)
  bash "$here/lab-image.sh" --deb "$deb" >"$state/image.out" 2>&1 || { tail -40 "$state/image.out"; fail "lab image build"; }
  image=$(tail -1 "$state/image.out")
  grep -E '^\[ *[0-9]+s\]|cached' "$state/image.out" | sed 's/^/  /' || true
  log "lab image ready in $(( $(date +%s) - t )) s: $image"
fi
[ -f "$image" ] || fail "no image $image"

# -------------------------------------------------------------- accelerator
# As tests/vm/run.sh: KVM only where the CPU has VT-x/AMD-V and Debian's
# kernel really boots under it (PVM's /dev/kvm hangs it); TCG otherwise.
accel=${VSD_VM_ACCEL:-}
if [ -z "$accel" ]; then
  accel=tcg
  kernel=$(dirname "$image")/vmlinuz
  if grep -qwE 'vmx|svm' /proc/cpuinfo && [ -w /dev/kvm ] && [ -f "$kernel" ]; then
    ( timeout 40 qemu-system-x86_64 -accel kvm -cpu host -m 256 -display none -monitor none \
      -no-user-config -nodefaults -no-reboot -serial "file:$state/kvm-probe.log" \
      -kernel "$kernel" -append "console=ttyS0 panic=-1" ) >/dev/null 2>&1 || true
    grep -q "Unable to mount root\|Kernel panic" "$state/kvm-probe.log" 2>/dev/null && accel=kvm
  fi
fi
mult=1
[ "$accel" = tcg ] && mult=3
# The tests' bounded waits (tests/integration/lib/topology.sh), stretched for TCG.
wait_scale=${VSD_TEST_WAIT_SCALE:-$([ "$accel" = tcg ] && echo 6 || echo 1)}

# --------------------------------------------------------------------- boot
log "booting $(basename "$image") ($accel, 2 vCPUs, 3 GiB), repository shared read-only"
t=$(date +%s)
vm start --image "$image" --state "$state" --accel "$accel" --mem 3072 --smp 2 \
  --share "vsdrepo=$repo:ro" --share "labout=$state/out" ${deb:+--share "labdeb=$state/deb:ro"} || fail "qemu: $out"
vm wait-shell --state "$state" --timeout $(( 120 * mult )) || fail "no shell on the serial console: $out"
t_boot=$(( $(date +%s) - t ))
log "root shell on ttyS0 after $t_boot s"

# The binaries under test: the package's, or those of --build.
vsd_bin=/usr/sbin/vsd vsadm_bin=/usr/sbin/vsadm
if [ -n "$build" ]; then
  for b in appliance/daemon/vsd appliance/vsadm/vsadm; do
    [ -x "$repo/$build/$b" ] || fail "--build $build: no $repo/$build/$b"
  done
  vsd_bin=/vsd/$build/appliance/daemon/vsd vsadm_bin=/vsd/$build/appliance/vsadm/vsadm
fi

# The unit tests that need this kernel (tun_kernel runs the tunnel-device
# ones, skipped on a kernel without ipip) from the repository's build
# directory, when it has one (tests/run.sh builds build/ before CI's VM stage).
unit_dir=
[ -x "$repo/${build:-build}/tests/unit/test_rtnl" ] && unit_dir=/vsd/${build:-build}/tests/unit

# The shares, and VSD_BIN: vsd through a wrapper that copies its log to
# /lab-out/vsd-logs (the tests' own logs go with their namespaces).
vm_run 60 "vsd_bin=$vsd_bin"'
set -e
mkdir -p /vsd /lab-out
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,ro vsdrepo /vsd
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 labout /lab-out
mkdir -p /lab-deb
if mount -t 9p -o trans=virtio,version=9p2000.L,ro labdeb /lab-deb 2>/dev/null; then
  dpkg -i /lab-deb/vsd.deb >/lab-out/dpkg-i.log 2>&1 || { cat /lab-out/dpkg-i.log; exit 1; }
  echo "installed the .deb under test"
fi
# vsd asks for transparent huge pages for its connection table: under TCG,
# direct compaction for them stalls the VM for minutes (soft lockups).
echo never >/sys/kernel/mm/transparent_hugepage/defrag
sysctl -qw vm.compaction_proactiveness=0
mkdir -p /lab-out/vsd-logs /usr/local/lib/vsd-lab
cat >/usr/local/lib/vsd-lab/vsd <<EOF
#!/bin/bash
# vsd under test; a copy of its log in /lab-out/vsd-logs.
exec $vsd_bin "\$@" 2> >(exec tee -a "/lab-out/vsd-logs/\${LAB_TEST:-x}-\$\$.log" >&2)
EOF
chmod +x /usr/local/lib/vsd-lab/vsd
test -f /vsd/tests/integration/lib/topology.sh
echo "kernel $(uname -r), vsd $(dpkg-query -W -f="\${Version}" vsd) ($vsd_bin), $(nproc) CPUs, $(awk "/MemTotal/ {print int(\$2/1024)}" /proc/meminfo) MiB"
' || fail "VM setup: $out"
log "$out"

# -------------------------------------------------------------------- tests
passed=0 failed=0 failed_names=()
for name in $tests; do
  s=${script[$name]}
  log "=== $name ($s)"
  t=$(date +%s)
  rc=0
  vm_run $(( test_timeout + 30 )) "
cd /tmp
LAB_TEST=$name BENCH_SECONDS=${BENCH_SECONDS:-10} VSD_LAB_UNIT_DIR=$unit_dir VSD_BIN=/usr/local/lib/vsd-lab/vsd VSADM_BIN=$vsadm_bin VSD_TEST_SCALE=$scale VSD_TEST_WAIT_SCALE=$wait_scale \
  timeout -k 10 $test_timeout bash /vsd/$s >/lab-out/$name.log 2>&1
rc=\$?
echo \$rc >/lab-out/$name.rc
exit \$rc" || rc=$?
  secs=$(( $(date +%s) - t ))
  echo "$name $rc $secs" >>"$state/out/summary.txt"
  if [ "$rc" = 0 ]; then
    passed=$((passed + 1))
    if [ "$name" = bench ]; then sed 's/^/  /' "$state/out/$name.log"
    else grep -E '^(ok|PASS|DIFF|NOTE)' "$state/out/$name.log" | sed 's/^/  /' | tail -n 60
    fi
    log "ok: $name ($secs s)"
  else
    failed=$((failed + 1)); failed_names+=("$name")
    [ "$rc" = 124 ] && echo "  (timed out after $test_timeout s)"
    tail -n 60 "$state/out/$name.log" 2>/dev/null | sed 's/^/  /'
    log "FAIL: $name (exit $rc, $secs s; full log: $logs/$name.log)"
  fi
done

# Every director that ran used the native queue expression of this kernel.
vm_run 60 'cd /lab-out/vsd-logs && grep -h "kernel queue form" ./*.log | sed "s/.*kernel queue form/kernel queue form/" | sort | uniq -c' \
  || true
forms=$out
echo "--- queue forms logged by the directors in the VM:"; echo "$forms" | sed 's/^/  /'
if [ -z "$forms" ] || grep -qv "kernel queue form: nft queue" <<<"$forms"; then
  failed=$((failed + 1)); failed_names+=("queue-form")
  log "FAIL: queue form: expected only 'kernel queue form: nft queue'"
else
  passed=$((passed + 1))
  log "ok: every director used the native nft queue expression"
fi

log "VM lab done: boot $t_boot s ($accel), tests $(awk '{ printf "%s%s=%ss", (NR > 1 ? " " : ""), $1, $3 }' "$state/out/summary.txt")"
[ "$failed" = 0 ] || echo "failed: ${failed_names[*]}"
echo "lab: $passed passed, $failed failed"
[ "$failed" = 0 ]
