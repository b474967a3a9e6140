#!/usr/bin/env bash
# VS-TUN where the kernel does the IP-in-IP on both ends (the VM lab,
# tests/vm/lab.sh: Debian's kernel has ipip and ip6_tunnel; not in ctest).
# tun_test.sh's topology: client -- router -- director, the real servers
# behind the router.
#  - rs1 is a classic LVS-TUN real server, set up by hand: the kernel's
#    fallback devices tunl0 / ip6tnl0 decapsulate, the VIPs are on lo, ARP
#    hidden; no vsd runs on it;
#  - rs2 runs vsd's real-server role from the same cluster file: it logs
#    that the kernel decapsulates both families, through its own vsdt ipip
#    and ip6tnl devices (no queue table, no packet through vsd), which
#    receive the traffic; SIGTERM removes them with the VIPs;
#  - the director is vsd with the fast path on: it logs the native queue
#    form and "TUN: kernel ipip/ip6tnl tunnels (4 devices)", and made one
#    ipip device per IPv4 real server and one ip6tnl per IPv6 one;
#  - HTTP through both VIPs: rr over both real servers; UDP answered; the
#    replies bypass the director;
#  - a 20 MiB upload through the VIP arrives intact while the kernel queues
#    fewer than 100 packets to vsd; vsd encapsulated no packet itself (its
#    counter `tunneled` stays 0), the tunnel devices sent them, the real
#    servers' tunnel devices received them;
#  - SIGTERM removes the tunnel devices with the tables;
#  - the same traffic with fast_path = false: vsd encapsulates every packet
#    (tunneled > 0), and the kernel real servers decapsulate them alike.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${TOPO_PREFIX:=vsdtunk$$}"
source "$here/../../integration/lib/topology.sh"
trap topo_down EXIT

modprobe ipip || fail "modprobe ipip"
modprobe ip6_tunnel || fail "modprobe ip6_tunnel"

# The tunnel devices' unit tests against this kernel, which has what they
# need (they skip on one without ipip): from the repository's build
# directory when tests/vm/lab.sh found one (VSD_LAB_UNIT_DIR).
if [ -n "${VSD_LAB_UNIT_DIR:-}" ]; then
  out=$("$VSD_LAB_UNIT_DIR/test_rtnl" --gtest_filter='RtnlTunnelKernel.*' 2>&1) ||
    fail "test_rtnl --gtest_filter=RtnlTunnelKernel.*: $out"
  if grep -q "SKIPPED" <<<"$out"; then fail "RtnlTunnelKernel tests skipped on a kernel with ipip: $out"; fi
  echo "ok: $(grep -E '^\[  PASSED  \]' <<<"$out") RtnlTunnelKernel.* (the unit tests of the tunnel devices, none skipped)"
fi
topo_tun_up 2
_topo_make_content  # big.bin (20 MiB) and its sha256
V4=$LB_VIP4 V6=$LB_VIP6

# rs1: the classic LVS-TUN real server, by hand (what the seed's rc.lvs did).
for i in 1; do
  in_rs "$i" ip link show tunl0 >/dev/null || fail "rs$i: no tunl0 (ipip fallback device) in its namespace"
  in_rs "$i" ip link set tunl0 up
  in_rs "$i" ip link set ip6tnl0 up
  in_rs "$i" ip addr add "$V4/32" dev lo
  in_rs "$i" ip -6 addr add "$V6/128" dev lo
  in_rs "$i" sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
    net.ipv4.conf.tunl0.rp_filter=0 net.ipv4.conf.all.rp_filter=0
done
echo "ok: rs1: tunl0 and ip6tnl0 up, the VIPs on lo, arp_ignore=1 arp_announce=2"
# The upload's sink on rs1: hashes what it receives (both families).
printf '#!/bin/sh\nsha256sum | cut -d" " -f1 >%s\n' "$TOPO_DIR/upload.sha" >"$TOPO_DIR/sink.sh"
chmod +x "$TOPO_DIR/sink.sh"
in_rs 1 socat -u TCP6-LISTEN:9100,ipv6only=0,reuseaddr,fork "SYSTEM:$TOPO_DIR/sink.sh" &
echo $! >>"$TOPO_DIR/pids"
for _ in $(seq 1 $((50 * TOPO_WS))); do in_rs 1 ss -ltn | grep -q ':9100 ' && break; sleep 0.1; done

sock="$TOPO_DIR/ctl/vsd.sock"
write_config() {  # write_config FAST_PATH
  {
    printf '[director]\nfast_path = %s\nqueue = 4\n[control]\nsocket = "%s"\n' "$1" "$sock"
    for proto_port in tcp:8000 udp:9000; do
      for vip in "$V4" "[$V6]"; do
        printf '[[service]]\naddress = "%s:%s"\nprotocol = "%s"\nscheduler = "rr"\n' "$vip" "${proto_port#*:}" "${proto_port%:*}"
        for i in 1 2; do
          if [ "$vip" = "$V4" ]; then rip=$(lb_rs_ip4 "$i"); else rip="[$(lb_rs_ip6 "$i")]"; fi
          printf '[[service.real]]\naddress = "%s:%s"\nforward = "tun"\n' "$rip" "${proto_port#*:}"
        done
      done
    done
    printf '[[service]]\naddress = "%s:9100"\nscheduler = "rr"\n[[service.real]]\naddress = "%s:9100"\nforward = "tun"\n' \
      "$V4" "$(lb_rs_ip4 1)"
  } >"$TOPO_DIR/vsd.toml"
}
queued() { in_director awk '$1 == 4 { print $8 + 0 }' /proc/net/netfilter/nfnetlink_queue; }
tunnel_devices() { in_director ip -o -d link show | awk -F': ' '$2 ~ /^vsdt/ { sub(/@.*/, "", $2); print $2 }'; }
rx() { in_rs "$1" cat "/sys/class/net/$2/statistics/rx_packets"; }

traffic() {  # HTTP (rr) and UDP through both VIPs
  assert_eq "rs1=5 rs2=5 fail=0" "$(lb_split "http://$V4:8000/" 10)" "IPv4 HTTP through the VIP (rr)"
  assert_eq "rs1=5 rs2=5 fail=0" "$(lb_split "http://[$V6]:8000/" 10)" "IPv6 HTTP through the VIP (rr)"
  local r
  r=$(udp_ask ping "UDP:$V4:9000")
  case "$r" in rs1:ping | rs2:ping) echo "ok: UDP reply via the IPv4 VIP: $r" ;; *) fail "UDP via $V4:9000: expected rsN:ping, got '$r'" ;; esac
  r=$(udp_ask ping6 "UDP6:[$V6]:9000")
  case "$r" in rs1:ping6 | rs2:ping6) echo "ok: UDP reply via the IPv6 VIP: $r" ;; *) fail "UDP via [$V6]:9000: expected rsN:ping6, got '$r'" ;; esac
}

# ------------------------------------------------ fast path: kernel tunnels
write_config true
# rs2: vsd's real-server role, from the same file.
rs2_before=$(rs_arp_sysctls 2)
start_vsd_on rs2 realserver "$TOPO_DIR/vsd.toml"
grep " TUN: " "$TOPO_DIR/vsd-rs2.log" | sed 's/^.* info: /NOTE: rs2: /'
rs_vips_on_lo 2
rs_decap_check 2
assert_eq kernel "$RS_DECAP_WAY" "rs2: who decapsulates IP-in-IP (vsd's real-server role on Debian's kernel)"
rs2_devs=$RS_DECAP_DEVS
check=$(in_director "$VSD_BIN" --check -c "$TOPO_DIR/vsd.toml") || fail "vsd --check: $check"
grep "TUN" <<<"$check" | sed 's/^/NOTE: vsd --check: /' || true
director_vip_counters
start_vsd_on dir director "$TOPO_DIR/vsd.toml"
grep "kernel queue form\|fast path\|TUN: " "$VSD_LOG" | sed 's/^.* info: /NOTE: director: /'
grep -q "kernel queue form: nft queue$" "$VSD_LOG" || fail "vsd does not log the native queue form"
echo "ok: vsd logs: kernel queue form: nft queue"
assert_eq 1 "$(grep -c " TUN: " "$VSD_LOG")" "director log lines saying how TUN packets leave"
grep -q " TUN: kernel ipip/ip6tnl tunnels (4 devices)$" "$VSD_LOG" || fail "vsd does not use the kernel's tunnels: $(grep ' TUN: ' "$VSD_LOG")"
echo "ok: vsd logs: TUN: kernel ipip/ip6tnl tunnels (4 devices)"
devs=$(tunnel_devices)
assert_eq 4 "$(grep -c . <<<"$devs")" "vsdt tunnel devices on the director"
for d in $devs; do in_director ip -d link show "$d" | sed -n '3s/^ */NOTE: '"$d"': /p'; done
assert_eq 2 "$(in_director ip -o -d link show type ipip | grep -c ': vsdt')" "ipip devices (IPv4 real servers)"
assert_eq 2 "$(in_director ip -o -d link show type ip6tnl | grep -c ': vsdt')" "ip6tnl devices (IPv6 real servers)"
in_director nft list chain ip vsd direct_forward | grep -q "dup to .* device \"vsdt" ||
  fail "no dup into a tunnel device in nft chain ip vsd direct_forward: $(in_director nft list chain ip vsd direct_forward)"
echo "ok: nft list chain ip vsd direct_forward: dup into the vsdt devices"

traffic

# The upload: rs1 hashes it; the kernel carries all but a flow's first packets.
before=$(queued)
in_client timeout $((60 * TOPO_WS)) socat -u "FILE:$TOPO_DIR/big.bin" "TCP:$V4:9100" || fail "the upload through the TUN VIP failed"
for _ in $(seq 1 $((50 * TOPO_WS))); do [ -s "$TOPO_DIR/upload.sha" ] && break; sleep 0.1; done
assert_eq "$(cat "$TOPO_DIR/big.sha256")" "$(cat "$TOPO_DIR/upload.sha" 2>/dev/null)" "sha256 of the 20 MiB uploaded through the TUN VIP, at rs1"
n=$(( $(queued) - before ))
[ "$n" -lt 100 ] || fail "the kernel queued $n packets for the 20 MiB TUN upload (kernel TUN path: fewer than 100)"
echo "ok: $n packets queued to vsd for the 20 MiB TUN upload"

assert_eq 0 "$(vsd_counter tunneled)" "packets vsd encapsulated itself (tunneled)"
assert_eq 0 "$(vsd_counter transmit_errors)" "packets vsd failed to send (transmit_errors)"
for d in $devs; do
  tx=$(in_director cat "/sys/class/net/$d/statistics/tx_packets")
  [ "$tx" -gt 0 ] || fail "the director's tunnel device $d sent no packet"
  echo "ok: the director's $d sent $tx packets"
done
a=$(rx 1 tunl0) b=$(rx 1 ip6tnl0)
[ "$a" -gt 0 ] && [ "$b" -gt 0 ] || fail "rs1: tunl0 received $a, ip6tnl0 $b packets"
echo "ok: rs1: the kernel decapsulated $a IPv4-in-IPv4 (tunl0) and $b IPv6-in-IPv6 (ip6tnl0) packets"
for d in $rs2_devs; do
  a=$(rx 2 "$d")
  [ "$a" -gt 0 ] || fail "rs2: vsd's decapsulation device $d received no packet"
  echo "ok: rs2: the kernel decapsulated $a packets on vsd's $d"
done
assert_eq 0 "$(in_rs 2 awk '{ n += $8 } END { print n + 0 }' /proc/net/netfilter/nfnetlink_queue 2>/dev/null || echo 0)" "packets rs2 queued to userspace"
assert_eq 0 "$(vip_counter from_vip4)" "TCP/UDP packets from $V4 arriving at the director"
assert_eq 0 "$(vip_counter from_vip6)" "TCP/UDP packets from $V6 arriving at the director"
stop_vsd_on dir
assert_eq "" "$(tunnel_devices)" "vsdt devices on the director after SIGTERM"
assert_eq "" "$(vsd_tables)" "nft tables named vsd on the director after SIGTERM"

# ---------------------------------------------- fast path off: vsd encapsulates
write_config false
start_vsd_on dir director "$TOPO_DIR/vsd.toml"
assert_eq 0 "$(grep -c " TUN: kernel" "$VSD_LOG")" "kernel tunnel lines with the fast path off"
assert_eq "" "$(tunnel_devices)" "vsdt devices with the fast path off"
traffic
n=$(vsd_counter tunneled)
[ "$n" -gt 0 ] || fail "vsd counted no packet sent IP-in-IP with the fast path off (tunneled = $n)"
echo "ok: fast path off: vsd encapsulated $n packets, the kernel real servers took them"
stop_vsd_on dir
rs_vsd_stop_clean 2 "$rs2_before"
echo "PASS: tun_kernel_test"
