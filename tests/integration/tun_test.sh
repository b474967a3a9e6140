#!/usr/bin/env bash
# VS-TUN end to end: client -- router -- director, the real servers on a
# third subnet behind the router; the router routes the VIPs to the
# director, which forwards IP-in-IP (IPv4) / IPv6-in-IPv6 to the real
# servers, whose vsd (--role realserver on rs1, --role auto on rs2)
# decapsulates: in userspace on this host (no ipip), by the kernel's
# devices where it has ipip (the VM lab). Every node runs vsd from the
# same config file.
#  - HTTP through the VIP, IPv4 and IPv6: rr over both real servers;
#  - UDP through the VIP is answered by a real server, from the VIP;
#  - the replies bypass the director: its ingress counter of TCP/UDP packets
#    from a VIP stays 0 (the counter of packets to the VIP moves), vsadm
#    --stats shows OutPkts 0 (InPkts > 0 for the TCP real servers);
#  - too big: the director's route toward the real servers has MTU 1400. A
#    datagram with DF whose encapsulation fits exactly (IPv4 1380 + 20,
#    IPv6 1360 + 40) is answered; one byte more and the director answers
#    ICMP frag-needed with MTU 1380 / packet-too-big with MTU 1360 quoting
#    the client's datagram, and the client's kernel then reports that path
#    MTU (IP_MTU / IPV6_MTU);
#  - the real servers' segment: the router's arping / neighbour
#    solicitation for a VIP gets no answer (the VIPs on the real servers'
#    lo stay hidden; the router reaches them through the director);
#  - SIGTERM to a real server's vsd takes the VIPs off lo, removes its
#    vsd_rs tables and vsdt devices, and restores arp_ignore / arp_announce.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${TOPO_PREFIX:=vsdtun$$}"
source "$here/lib/topology.sh"
trap topo_down EXIT

topo_tun_up 2
V4=$LB_VIP4 V6=$LB_VIP6
# The deterministic too-big: MTU 1400 on the director's routes toward the
# real servers (every link itself is 1500).
in_director ip route add "$LB_NET4.0/24" via 192.0.2.1 mtu 1400
in_director ip -6 route add "$LB_NET6::/64" via 2001:db8:62::1 mtu 1400

# The underlay, without vsd: routed paths work both ways.
for i in 1 2; do
  assert_eq "rs$i" "$(in_client curl -s --max-time 3 "http://$(lb_rs_ip4 "$i"):8000/")" "underlay: routed HTTP to rs$i over IPv4"
  assert_eq "rs$i" "$(in_client curl -s --max-time 3 "http://[$(lb_rs_ip6 "$i")]:8000/")" "underlay: routed HTTP to rs$i over IPv6"
done
for a in "$V4" "$V6"; do
  in_client busybox ping -c 1 -W 2 "$a" >/dev/null || fail "underlay: the client cannot ping the VIP $a (held by the director)"
  echo "ok: underlay: the router takes $a to the director"
done
r4=$(in_director ip route get "$(lb_rs_ip4 1)")
r6=$(in_director ip -6 route get "$(lb_rs_ip6 1)")
grep -q 'mtu 1400' <<<"$r4" || fail "underlay: no MTU 1400 toward $(lb_rs_ip4 1): $r4"
grep -q 'mtu 1400' <<<"$r6" || fail "underlay: no MTU 1400 toward $(lb_rs_ip6 1): $r6"
echo "ok: underlay: the director's route MTU toward the real servers is 1400"

sock="$TOPO_DIR/ctl/vsd.sock"
cfg="$TOPO_DIR/vsd.toml"
{
  echo "[control]"
  echo "socket = \"$sock\""
  for proto_port in tcp:8000 udp:9000; do
    for vip in "$V4" "[$V6]"; do
      printf '[[service]]\naddress = "%s:%s"\nprotocol = "%s"\nscheduler = "rr"\n' "$vip" "${proto_port#*:}" "${proto_port%:*}"
      for i in 1 2; do
        if [ "$vip" = "$V4" ]; then rip=$(lb_rs_ip4 "$i"); else rip="[$(lb_rs_ip6 "$i")]"; fi
        printf '[[service.real]]\naddress = "%s:%s"\nforward = "tun"\n' "$rip" "${proto_port#*:}"
      done
    done
  done
} >"$cfg"
in_director "$VSD_BIN" --check -c "$cfg"

before1=$(rs_arp_sysctls 1)
before2=$(rs_arp_sysctls 2)
director_vip_counters
start_vsd_on rs1 realserver "$cfg"
start_vsd_on rs2 auto "$cfg"
for i in 1 2; do
  rs_vips_on_lo "$i"
  rs_decap_check "$i"
  echo "ok: rs$i holds the VIPs on lo; IP-in-IP decapsulated by $RS_DECAP_WAY"
done
start_vsd_on dir director "$cfg"
# One line says how TUN packets leave the director: through the kernel's
# ipip / ip6tnl devices where it makes them (Debian's kernel: the VM lab),
# else encapsulated by vsd (this machine's 6.18 refuses ipip).
tun_lines=$(grep " TUN: " "$VSD_LOG" || true)
assert_eq 1 "$(grep -c . <<<"$tun_lines")" "director log lines saying how TUN packets leave"
echo "NOTE: director: ${tun_lines#* info: }"
kernel_tun=0
grep -q " TUN: kernel ipip/ip6tnl tunnels (4 devices)$" <<<"$tun_lines" && kernel_tun=1
if [ "$kernel_tun" = 0 ]; then
  grep -q " TUN: encapsulated by vsd (this kernel has no ipip: " <<<"$tun_lines" || fail "unexpected TUN path: $tun_lines"
fi

assert_eq "rs1=5 rs2=5 fail=0" "$(lb_split "http://$V4:8000/" 10)" "IPv4 HTTP through the VIP over 10 requests (rr)"
assert_eq "rs1=5 rs2=5 fail=0" "$(lb_split "http://[$V6]:8000/" 10)" "IPv6 HTTP through the VIP over 10 requests (rr)"

r=$(udp_ask ping "UDP:$V4:9000")
case "$r" in rs1:ping | rs2:ping) echo "ok: UDP reply via the IPv4 VIP: $r" ;; *) fail "UDP via $V4:9000: expected rsN:ping, got '$r'" ;; esac
r=$(udp_ask ping6 "UDP6:[$V6]:9000")
case "$r" in rs1:ping6 | rs2:ping6) echo "ok: UDP reply via the IPv6 VIP: $r" ;; *) fail "UDP via [$V6]:9000: expected rsN:ping6, got '$r'" ;; esac

# too_big VIP QUOTED_VIP INNER_MTU ICMP_TYPE ICMP_CODE: at INNER_MTU the
# datagram is answered; at INNER_MTU + 1 the director answers too big.
too_big() {
  local vip=$1 qvip=$2 mtu=$3 type=$4 code=$5 out line found=
  out=$(in_client python3 "$here/lib/icmp_probe.py" send "$vip" 9000 "$mtu")
  grep -q '^reply=rs[12]:x' <<<"$out" || fail "a $mtu-byte datagram to $vip:9000 (encapsulated: 1400, fits) got no reply: $out"
  if grep -q '^icmp ' <<<"$out"; then fail "a $mtu-byte datagram to $vip:9000 (fits) drew an ICMP error: $out"; fi
  echo "ok: a $mtu-byte datagram with DF to $vip:9000 fits the tunnel and is answered"
  out=$(in_client python3 "$here/lib/icmp_probe.py" send "$vip" 9000 $((mtu + 1)))
  echo "$out"
  while read -r line; do
    [[ $line == "icmp src="*" type=$type code=$code mtu=$mtu quoted="*"->$qvip:9000" ]] && found=1
  done <<<"$out"
  [ -n "$found" ] || fail "a $((mtu + 1))-byte datagram to $vip:9000: no ICMP type $type code $code with MTU $mtu quoting it: $out"
  echo "ok: a $((mtu + 1))-byte datagram draws ICMP type $type code $code, MTU $mtu"
  grep -q "^path_mtu=$mtu$" <<<"$out" || fail "the client's kernel did not take path MTU $mtu to $vip: $out"
  echo "ok: the client's kernel now has path MTU $mtu to $vip"
}
too_big "$V4" "$V4" 1380 3 4
too_big "$V6" "[$V6]" 1360 2 0

assert_eq 0 "$(vip_counter from_vip4)" "TCP/UDP packets from $V4 arriving at the director"
assert_eq 0 "$(vip_counter from_vip6)" "TCP/UDP packets from $V6 arriving at the director"
for c in to_vip4 to_vip6; do
  n=$(vip_counter "$c")
  [ "$n" -gt 0 ] || fail "the director's ingress counted no packet to the VIP ($c = $n): the counter sees nothing"
  echo "ok: $c = $n packets (the director's ingress counter works)"
done
vsadm -L -n --stats --exact
stats=$(vsadm_stats_reals)
[ "$(grep -c '^TCP ' <<<"$stats")" = 4 ] || fail "vsadm --stats: expected 4 TCP real servers, got: $stats"
while read -r proto rip inp outp; do
  [ "$proto" != TCP ] || [ "$inp" -gt 0 ] || fail "vsadm --stats: $proto $rip InPkts $inp, expected > 0"
  [ "$outp" = 0 ] || fail "vsadm --stats: $proto $rip OutPkts $outp, expected 0 (TUN replies bypass the director)"
done <<<"$stats"
echo "ok: vsadm --stats: OutPkts 0 for every real server, InPkts > 0 for the TCP ones"
if [ "$kernel_tun" = 1 ]; then
  # The kernel carried every packet, the first ones after vsd's verdict
  # too: vsd encapsulated none, its tunnel devices sent them (and answered
  # the too-big ones above).
  assert_eq 0 "$(vsd_counter tunneled)" "packets vsd encapsulated itself (tunneled), kernel TUN path"
  for d in $(in_director ip -o link show | awk -F': ' '$2 ~ /^vsdt/ { sub(/@.*/, "", $2); print $2 }'); do
    tx=$(in_director cat "/sys/class/net/$d/statistics/tx_packets")
    [ "$tx" -gt 0 ] || fail "the director's tunnel device $d sent no packet"
    echo "ok: tunnel device $d sent $tx packets"
  done
else
  n=$(vsd_counter tunneled)
  [ "$n" -gt 0 ] || fail "vsd counted no packet sent IP-in-IP (tunneled = $n)"
  echo "ok: tunneled = $n packets"
  n=$(vsd_counter tun_too_big)
  [ "$n" -ge 2 ] || fail "vsd counted $n too-big TUN packets, expected >= 2 (one per family)"
  echo "ok: tun_too_big = $n (answered with ICMP)"
fi
assert_eq 0 "$(vsd_counter transmit_errors)" "packets vsd failed to send (transmit_errors)"

# Nobody on the real servers' segment claims a VIP.
arp=$(in_ns rt timeout 15 arping -c 3 -i br0 "$V4" 2>&1 || true)
assert_eq 0 "$(grep -c 'bytes from' <<<"$arp" || true)" "ARP replies for $V4 on the real servers' segment"
nd=$(in_ns rt timeout 15 ndisc6 -m -n -r 3 -w 1000 "$V6" br0 2>&1 || true)
assert_eq 0 "$(grep -c 'Target link-layer address' <<<"$nd" || true)" "neighbour advertisements for $V6 on the real servers' segment"
# ...while each real server still answers for its own address there.
arp=$(in_ns rt timeout 15 arping -c 1 -i br0 "$(lb_rs_ip4 1)" 2>&1 || true)
[ "$(grep -c 'bytes from' <<<"$arp" || true)" -ge 1 ] || fail "arping rs1's own address from the router got no reply: $arp"
echo "ok: rs1 still answers ARP for its own address"

rs_vsd_stop_clean 1 "$before1"
rs_vsd_stop_clean 2 "$before2"
stop_vsd_on dir
assert_eq "" "$(vsd_tables)" "nft tables named vsd on the director after SIGTERM"
echo "PASS: tun_test"
