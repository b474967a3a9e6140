#!/usr/bin/env bash
# VM test of the vsd appliance on Debian's own kernel: boots the image built
# by etc/image/build.sh under qemu — KVM where the host has VT-x/AMD-V and a
# Debian kernel actually boots under it, TCG otherwise — with its two NICs on
# tap devices in network namespaces of this host, and a VSDCONF config disk
# (a NAT vsd.toml and systemd-networkd files). Then, end to end:
#
#   - vsd-config.service installed the disk's files; vsd came up (bounded wait)
#   - vsd logs "kernel queue form: nft queue" (the native expression), and
#     `vsadm --version` says so; ip_vs is not loaded and cannot be
#   - HTTP from the client namespace to the VIPs 192.0.2.10 and
#     [2001:db8::10] reaches both busybox httpd real servers (rr)
#   - vsadm -L -n over the serial console lists both services; the package's
#     bash completion offers the running services and real servers
#   - health check: a real server whose httpd stops is marked [down] and
#     logged, traffic goes to the other; it comes back when httpd restarts
#   - reload: weight 0 in /etc/vsd/vsd.toml + `systemctl reload vsd`
#     quiesces that real server
#   - systemd: Type=notify, STATUS= from vsd, WatchdogSec=30s fed by vsd;
#     `journalctl -p warning`; a reload of a file that fails --check is
#     refused; systemd-analyze security <= 5.0; vsd's tables back after
#     `systemctl restart nftables`
#
#   client ns  198.51.100.2/24 2001:db8:1::2/64 ── tap ── VM NIC 1 (52:54:00:5d:00:01)
#                                   198.51.100.1, VIPs 192.0.2.10/32, 2001:db8::10/128
#   lan ns     bridge ── tap ── VM NIC 2 (52:54:00:5d:00:02)  203.0.113.1/24 2001:db8:2::1/64
#     ├─ rs1 ns  203.0.113.11/24 2001:db8:2::11/64  busybox httpd :8000 ("rs1")
#     └─ rs2 ns  203.0.113.12/24 2001:db8:2::12/64  busybox httpd :8000 ("rs2")
#
# Usage: sudo tests/vm/run.sh [--image build-image/vsd-appliance.qcow2] [--keep]
#   --keep leaves the VM and namespaces up (prints how to reach and remove them)
# Environment: VSD_VM_ACCEL=kvm|tcg forces the accelerator; VSD_VM_PROBE_KVM=1
# probes KVM even without vmx/svm in /proc/cpuinfo (nested setups).
# Everything (qemu, namespaces, taps, temp files) is removed on exit, also on
# failure, Ctrl-C or SIGTERM. About 1 minute under TCG (boot to shell 30-50 s).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
image=$repo/build-image/vsd-appliance.qcow2
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --image) image=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "tests/vm/run.sh: run as root (network namespaces, taps)" >&2; exit 1; }
[ -f "$image" ] || { echo "tests/vm/run.sh: no image $image; build it: dpkg-buildpackage -b -us -uc && sudo etc/image/build.sh" >&2; exit 1; }
image=$(cd "$(dirname "$image")" && pwd)/$(basename "$image")
for t in qemu-system-x86_64 busybox curl mkfs.vfat mcopy python3 ip; do
  command -v "$t" >/dev/null || { echo "run.sh: needs $t (apt-get install qemu-system-x86 busybox curl dosfstools mtools python3 iproute2)" >&2; exit 1; }
done

P=vsdvm$$
state=$(mktemp -d /tmp/vsdvm.XXXXXX)
t0=$(date +%s)
log() { printf '[%4ss] %s\n' "$(( $(date +%s) - t0 ))" "$*"; }
in_ns() { local n=$1; shift; ip netns exec "$P-$n" "$@"; }
# vm ARGS: tests/vm/vm.py, its output in $out. It runs in the background and
# the script waits for it, so that a SIGTERM to this script runs the cleanup
# at once (bash defers traps while a foreground command runs).
vm_pid=
vm() {
  python3 "$here/vm.py" "$@" >"$state/vm.out" 2>&1 &
  vm_pid=$!
  local rc=0
  wait "$vm_pid" || rc=$?
  vm_pid=
  out=$(cat "$state/vm.out")
  return "$rc"
}
# vm_run [TIMEOUT] SCRIPT: run a shell script in the VM over the serial
# console; its output (stdout and stderr) in $out, its status returned.
vm_run() {
  local to=120
  if [ $# -gt 1 ]; then to=$1; shift; fi
  vm run --state "$state" --timeout "$to" -- "$1"
}

cleanup() {
  local rc=$?
  set +e
  [ -n "$vm_pid" ] && kill "$vm_pid" 2>/dev/null
  if [ "$keep" = 1 ] && [ "$rc" = 0 ]; then
    echo "left running: qemu pid $(cat "$state/qemu.pid"), namespaces $P-*, state $state"
    echo "  console:  python3 $here/vm.py run --state $state -- 'vsadm -L -n'"
    echo "  client:   ip netns exec $P-client curl http://192.0.2.10/"
    echo "  remove:   kill $(cat "$state/qemu.pid"); for n in client lan rs1 rs2; do ip netns pids $P-\$n | xargs -r kill; ip netns del $P-\$n; done; rm -rf $state"
    exit 0
  fi
  if [ "$rc" != 0 ] && [ -f "$state/serial.log" ]; then
    echo "--- last lines of the serial console ($state/serial.log):" >&2
    tail -n 40 "$state/serial.log" | tr -d '\r' >&2
  fi
  if [ -f "$state/qemu.pid" ]; then
    local qp; qp=$(cat "$state/qemu.pid")
    kill "$qp" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$qp" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$qp" 2>/dev/null
  fi
  local n p
  for n in client lan rs1 rs2; do
    ip netns list 2>/dev/null | grep -qw "$P-$n" || continue
    for p in $(ip netns pids "$P-$n" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    ip netns del "$P-$n" 2>/dev/null
  done
  rm -rf "$state"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

# ---------------------------------------------------------------- accelerator
# KVM only where the CPU has VT-x/AMD-V and Debian's kernel really boots under
# it: some nested setups (PVM) offer /dev/kvm, but the guest kernel hangs there.
# The probe boots the image's kernel without root fs: under a working KVM it
# panics ("VFS: Unable to mount root fs") within seconds and qemu exits.
accel=${VSD_VM_ACCEL:-}
if [ -z "$accel" ]; then
  accel=tcg
  kernel=$(dirname "$image")/vmlinuz
  if { grep -qwE 'vmx|svm' /proc/cpuinfo || [ "${VSD_VM_PROBE_KVM:-0}" = 1 ]; } && [ -w /dev/kvm ]; then
    if [ -f "$kernel" ]; then
      # In a subshell: where qemu aborts on a broken KVM, bash's report goes to /dev/null too.
      ( timeout 40 qemu-system-x86_64 -accel kvm -cpu host -m 256 -display none -monitor none \
        -no-user-config -nodefaults -no-reboot -serial "file:$state/kvm-probe.log" \
        -kernel "$kernel" -append "console=ttyS0 panic=-1" ) >/dev/null 2>&1 || true
      if grep -q "Unable to mount root\|Kernel panic" "$state/kvm-probe.log" 2>/dev/null; then
        accel=kvm
      else
        log "KVM probe: Debian's kernel did not boot under KVM (hang or qemu error within 40 s); using TCG"
      fi
    else
      log "no $kernel next to the image for the KVM probe; using TCG"
    fi
  fi
fi
log "accelerator: $accel"
boot_timeout=360 step_timeout=180
[ "$accel" = kvm ] && boot_timeout=120 step_timeout=60

# ------------------------------------------------------------------ topology
log "namespaces $P-{client,lan,rs1,rs2}, taps, real servers"
for n in client lan rs1 rs2; do ip netns add "$P-$n"; in_ns "$n" ip link set lo up; done
in_ns client ip tuntap add dev vmc0 mode tap
in_ns client ip addr add 198.51.100.2/24 dev vmc0
in_ns client ip -6 addr add 2001:db8:1::2/64 dev vmc0 nodad
in_ns client ip link set vmc0 up
in_ns client ip route add default via 198.51.100.1
in_ns client ip -6 route add default via 2001:db8:1::1
in_ns lan ip link add br0 type bridge
in_ns lan ip link set br0 up
in_ns lan ip tuntap add dev vml0 mode tap
in_ns lan ip link set vml0 master br0 up
for i in 1 2; do
  ip link add eth0 netns "$P-rs$i" type veth peer name "rs$i" netns "$P-lan"
  in_ns lan ip link set "rs$i" master br0 up
  in_ns "rs$i" ip addr add "203.0.113.1$i/24" dev eth0
  in_ns "rs$i" ip -6 addr add "2001:db8:2::1$i/64" dev eth0 nodad
  in_ns "rs$i" ip link set eth0 up
  in_ns "rs$i" ip route add default via 203.0.113.1
  in_ns "rs$i" ip -6 route add default via 2001:db8:2::1
  mkdir -p "$state/www$i"
  echo "rs$i" >"$state/www$i/index.html"
  # busybox httpd listens dual-stack on [::]:8000; -f: stays in the foreground.
  ip netns exec "$P-rs$i" busybox httpd -f -p 8000 -h "$state/www$i" &
  disown  # the cleanup kills it with its namespace, quietly
done

# --------------------------------------------------------------- config disk
cfg=$state/cfg
mkdir -p "$cfg"
cat >"$cfg/vsd.toml" <<'EOF'
# tests/vm/run.sh: a NAT director with two real servers, both families.
[log]
level = "info"

[[service]]
address = "192.0.2.10:80"
scheduler = "rr"
[service.check]
type = "tcp"
interval = 2
timeout = 2
[[service.real]]
address = "203.0.113.11:8000"
forward = "nat"
[[service.real]]
address = "203.0.113.12:8000"
forward = "nat"

[[service]]
address = "[2001:db8::10]:80"
scheduler = "rr"
[[service.real]]
address = "[2001:db8:2::11]:8000"
forward = "nat"
[[service.real]]
address = "[2001:db8:2::12]:8000"
forward = "nat"
EOF
cat >"$cfg/10-client.network" <<'EOF'
[Match]
MACAddress=52:54:00:5d:00:01

[Network]
Address=198.51.100.1/24
Address=192.0.2.10/32
Address=2001:db8:1::1/64
Address=2001:db8::10/128
IPv6AcceptRA=no
EOF
cat >"$cfg/20-lan.network" <<'EOF'
[Match]
MACAddress=52:54:00:5d:00:02

[Network]
Address=203.0.113.1/24
Address=2001:db8:2::1/64
IPv6AcceptRA=no
EOF
echo vsd-vmtest >"$cfg/hostname"
bash "$repo/etc/image/mkconfig.sh" "$state/config.img" "$cfg"/vsd.toml "$cfg"/10-client.network "$cfg"/20-lan.network "$cfg"/hostname >/dev/null

# ---------------------------------------------------------------------- boot
log "booting $(basename "$image") ($accel)"
vm start --image "$image" --state "$state" --accel "$accel" --config-disk "$state/config.img" \
  --nic "$P-client:vmc0:52:54:00:5d:00:01" --nic "$P-lan:vml0:52:54:00:5d:00:02" || fail "qemu: $out"
vm wait-shell --state "$state" --timeout "$boot_timeout" || fail "no shell on the serial console: $out"
log "root shell on ttyS0"
t_boot=$(( $(date +%s) - t0 ))

# vsd ready: bounded polling of its journal.
vm_run "$step_timeout" '
for i in $(seq 1 120); do
  journalctl -u vsd -b --no-pager -o cat | grep -q " info: ready$" && exit 0
  systemctl is-failed -q vsd && { systemctl status vsd --no-pager; exit 1; }
  sleep 1
done
exit 1' || { echo "$out"; vm_run 'journalctl -b --no-pager -u vsd-config -u vsd | tail -40' || true; echo "$out"; fail "vsd did not log ready"; }
log "vsd ready"

# ------------------------------------------------------------------- checks
vm_run 'journalctl -u vsd -b --no-pager -o cat' || fail "journalctl: $out"; journal=$out
echo "--- journalctl -u vsd (VM):"
echo "$journal" | sed 's/^/  /'
grep -q "kernel queue form: nft queue" <<<"$journal" || fail "vsd does not log the native queue form"
ok "vsd logs: kernel queue form: nft queue"

vm_run 'journalctl -u vsd-config -b --no-pager -o cat' || fail "journalctl: $out"; cfglog=$out
grep -q "installed /etc/vsd/vsd.toml" <<<"$cfglog" || fail "vsd-config did not install vsd.toml: $cfglog"
grep -q "installed /etc/systemd/network/20-lan.network" <<<"$cfglog" || fail "vsd-config did not install the .network files"
vm_run 'hostname' && [ "$out" = vsd-vmtest ] || fail "hostname from the config disk not applied: $out"
ok "vsd-config.service installed vsd.toml, two .network files and the hostname from the VSDCONF disk"

vm_run 'lsmod | grep "^ip_vs" && exit 1; modprobe ip_vs && exit 1; exit 0' \
  || fail "ip_vs is loaded or loadable: $out"
ok "ip_vs not loaded, and modprobe ip_vs fails (blacklisted)"

vm_run 'vsadm --version' || fail "vsadm --version: $out"; version=$out
grep -q "queue form: nft queue" <<<"$version" || fail "vsadm --version: $version"
ok "vsadm --version over the serial console: $(grep 'queue form' <<<"$version")"

vm_run 'nft list table ip vsd' || fail "nft: $out"; rules=$out
grep -q " queue " <<<"$rules" || fail "no queue statement in table ip vsd: $rules"
grep -q "xt target" <<<"$rules" && fail "table ip vsd uses the xt NFQUEUE target: $rules"
ok "nft list table ip vsd: native queue statements"

# HTTP through the VIP, both families: rr must reach both real servers.
http() {  # http URL COUNT -> the bodies, one a line
  local url=$1 n=$2 i body
  for i in $(seq 1 "$n"); do
    body=$(in_ns client curl -s --max-time 20 --retry 2 --retry-all-errors "$url") || fail "curl $url (request $i) failed"
    echo "$body"
  done
}
v4=$(http http://192.0.2.10/ 6)
echo "--- 6 requests to http://192.0.2.10/:"; echo "$v4" | sed 's/^/  /'
[ "$(sort -u <<<"$v4" | tr '\n' ' ')" = "rs1 rs2 " ] || fail "IPv4: expected answers from rs1 and rs2"
[ "$(grep -c rs1 <<<"$v4")" = 3 ] || fail "IPv4 rr: expected 3 answers from each real server"
ok "HTTP over IPv4 through the VIP: rs1 and rs2, 3 each (rr)"
v6=$(http 'http://[2001:db8::10]/' 4)
echo "--- 4 requests to http://[2001:db8::10]/:"; echo "$v6" | sed 's/^/  /'
[ "$(sort -u <<<"$v6" | tr '\n' ' ')" = "rs1 rs2 " ] || fail "IPv6: expected answers from rs1 and rs2"
ok "HTTP over IPv6 through the VIP: rs1 and rs2"

vm_run 'vsadm -L -n --stats' || fail "vsadm -L: $out"; listing=$out
echo "--- vsadm -L -n --stats (VM):"; echo "$listing" | sed 's/^/  /'
grep -q "TCP  192.0.2.10:80" <<<"$listing" || fail "vsadm -L: no IPv4 service"
grep -q "TCP  \[2001:db8::10\]:80" <<<"$listing" || fail "vsadm -L: no IPv6 service"
ok "vsadm -L -n over the serial console lists both services"

# The package's bash completion asks the running vsd for services and real servers.
vm_run 'source /usr/share/bash-completion/completions/vsadm
COMP_WORDS=(vsadm -e -t ""); COMP_CWORD=3; _vsadm; echo "services: ${COMPREPLY[*]}"
COMP_WORDS=(vsadm -d -t 192.0.2.10:80 -r ""); COMP_CWORD=5; _vsadm; echo "reals: ${COMPREPLY[*]}"' \
  || fail "bash completion: $out"
grep -qF "services: 192.0.2.10:80 [2001:db8::10]:80" <<<"$out" || fail "bash completion of -t: $out"
grep -qF "reals: 203.0.113.11:8000 203.0.113.12:8000" <<<"$out" || fail "bash completion of -r: $out"
ok "bash completion of vsadm -t / -r lists the running services and real servers"

# Health check: rs1's httpd stops -> vsd marks it down (TCP check, every 2 s,
# 3 failures) and only rs2 answers; it starts again -> back up (2 passes).
wait_listing() {  # wait_listing AWK-CONDITION WHAT: poll vsadm -L -n in the VM (bounded)
  vm_run "$step_timeout" "for i in \$(seq 1 60); do vsadm -L -n | awk '$1 {f=1} END {exit !f}' && exit 0; sleep 1; done; vsadm -L -n; exit 1" \
    || fail "$2: $out"
}
for p in $(ip netns pids "$P-rs1"); do kill "$p"; done
wait_listing '$2 == "203.0.113.11:8000" && /\[down\]/' "rs1 not marked down after its server stopped"
vm_run 'journalctl -u vsd -b --no-pager -o cat | grep "health: .*203.0.113.11:8000.* is down"' || fail "no health log line: $out"
echo "  $out"
bodies=$(http http://192.0.2.10/ 4)
[ "$(sort -u <<<"$bodies")" = rs2 ] || fail "with rs1 down, expected rs2 only, got: $bodies"
ok "health check: rs1 down ([down] in vsadm -L -n, logged), 4 requests all to rs2"
ip netns exec "$P-rs1" busybox httpd -f -p 8000 -h "$state/www1" &
disown
wait_listing '$2 == "203.0.113.11:8000" && !/\[down\]/' "rs1 not back up after its server restarted"
ok "health check: rs1 back up"

# Reload: quiesce rs2 in the file (weight 0), systemctl reload vsd (SIGHUP
# through the unit's ExecReload): new connections go to rs1 only.
vm_run 'sed -i "s/^address = \"203.0.113.12:8000\"$/&\nweight = 0/" /etc/vsd/vsd.toml && systemctl reload vsd' \
  || fail "systemctl reload vsd: $out"
wait_listing '$2 == "203.0.113.12:8000" && $4 == "0"' "rs2 not quiesced by the reload"
vm_run 'journalctl -u vsd -b --no-pager -o cat | grep "reloaded /etc/vsd/vsd.toml"' || fail "no reload log line: $out"
echo "  $out"
bodies=$(http http://192.0.2.10/ 4)
[ "$(sort -u <<<"$bodies")" = rs1 ] || fail "with rs2 quiesced, expected rs1 only, got: $bodies"
ok "reload (systemctl reload vsd): rs2 weight 0, 4 requests all to rs1"

# systemd and journald: Type=notify (active means vsd said READY=1 after its
# rules and queues), STATUS= from vsd, the watchdog armed and fed, the
# reload's STATUS=, priorities journald understands, a file that fails
# --check refused by `systemctl reload`, the sandbox's score, and vsd's
# tables back after `systemctl restart nftables` (its flush ruleset).
vm_run 'systemctl show vsd -p Type,ActiveState,SubState,StatusText,WatchdogUSec,NRestarts' || fail "systemctl show vsd: $out"; show=$out
echo "--- systemctl show vsd (VM):"; echo "$show" | sed 's/^/  /'
grep -qx 'Type=notify' <<<"$show" || fail "vsd.service is not Type=notify"
grep -qx 'ActiveState=active' <<<"$show" || fail "vsd is not active"
grep -qx 'NRestarts=0' <<<"$show" || fail "vsd was restarted (watchdog?)"
grep -qx 'WatchdogUSec=30s' <<<"$show" || fail "vsd.service has no WatchdogSec=30s"
grep -q '^StatusText=director: 2 services, 4 real servers, NFQUEUE 0..0; reloaded at ' <<<"$show" || fail "no STATUS= from vsd after the reload"
vm_run 'journalctl -u vsd -b --no-pager -o cat | grep "watchdog: systemd expects a sign of life every 30000 ms"' || fail "vsd does not feed the watchdog: $out"
ok "systemd: Type=notify, active, STATUS= from vsd (reloaded), WatchdogSec=30s fed by vsd"
vm_run 'journalctl -u vsd -b --no-pager -o cat -p warning' || fail "journalctl -p warning: $out"; warn=$out
grep -q "health: .*203.0.113.11:8000.* is down" <<<"$warn" || fail "journalctl -p warning lacks the health check's warning: $warn"
grep -q " info: " <<<"$warn" && fail "journalctl -p warning shows info lines: $warn"
vm_run 'journalctl -u vsd -b --no-pager -o cat -p info..info | grep -c " info: ready$"' || fail "no info-priority ready line: $out"
ok "journald: journalctl -p warning shows vsd's warnings and no info lines"
vm_run 'cp /etc/vsd/vsd.toml /root/vsd.toml.good && echo "broken = [" >>/etc/vsd/vsd.toml
systemctl reload vsd && { echo "reload of a broken file succeeded"; exit 1; }
cp /root/vsd.toml.good /etc/vsd/vsd.toml
systemctl is-active -q vsd || { echo "vsd is not active"; exit 1; }
n=$(journalctl -u vsd -b --no-pager -o cat | grep -c "reload refused" || true)
[ "$n" = 0 ] || { echo "vsd read the broken file"; exit 1; }' \
  || fail "a broken file: systemctl reload vsd must fail, vsd keep running and never see it: $out"
ok "systemctl reload vsd with a file that fails vsd --check: refused, vsd running on the old file"
vm_run 'systemd-analyze security vsd --no-pager | tail -n 1' || fail "systemd-analyze security vsd: $out"
score=$(sed -n 's/.*vsd.service: \([0-9.]*\).*/\1/p' <<<"$out" | tail -n 1)
awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 5.0) }' || fail "systemd-analyze security vsd: $out (want <= 5.0)"
ok "systemd-analyze security vsd: $score"
vm_run 'systemctl restart nftables
for i in $(seq 1 20); do nft list table ip vsd >/dev/null 2>&1 && nft list table ip6 vsd >/dev/null 2>&1 && exit 0; sleep 0.1; done
nft list tables; exit 1' || fail "vsd's tables not back within 2 s of systemctl restart nftables: $out"
vm_run 'journalctl -u vsd -b --no-pager -o cat -p warning | grep "nft: table ip vsd deleted"' || fail "no warning about the flush: $out"
echo "  $out"
bodies=$(http http://192.0.2.10/ 2)
[ "$(sort -u <<<"$bodies")" = rs1 ] || fail "after systemctl restart nftables, expected rs1, got: $bodies"
ok "systemctl restart nftables: vsd's tables back within 2 s, logged, HTTP answered"

log "all VM checks passed (boot to shell ${t_boot} s, $accel)"
