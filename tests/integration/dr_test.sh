#!/usr/bin/env bash
# VS-DR end to end: client, director and two real servers on one L2 segment
# (a bridge in its own namespace), every node running vsd from the same
# config file: the director with --role director, rs1 with --role
# realserver, rs2 with --role auto.
#  (a) HTTP through the VIP, IPv4 and IPv6: rr over both real servers, each
#      answering its own content;
#  (b) the replies bypass the director: its ingress counter of TCP/UDP
#      packets from a VIP stays 0 while the client gets every answer (and the
#      counter of packets to the VIP moves), and vsadm --stats shows InPkts > 0,
#      OutPkts 0 for every real server;
#  (c) only the director answers ARP (arping) and NDP (ndisc6) for the VIPs,
#      although the real servers hold them on lo;
#  (d) the director's vsd announces the VIPs when it starts: gratuitous ARP
#      (sender VIP, director's MAC) and unsolicited NA for the IPv6 VIP reach
#      the client's segment, and no other node announces them; again on
#      `vsadm --garp`;
#  (e) SIGTERM to a real server's vsd takes the VIPs off lo, removes its
#      vsd_rs tables and restores arp_ignore / arp_announce;
#  (f) with [arp] hiding = "sysctl" the real servers hide the VIPs by the
#      sysctls alone (no nft arp table), and still only the director answers;
#  (g) a director started without DR servers (queues with GSO) gets its
#      first DR server from vsadm: it turns GSO off live, and a 3 MB upload
#      (TSO-sized packets from the client) reaches the real server whole;
#  (h) a VIP added by vsadm is announced at once (gratuitous ARP / NA).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${TOPO_PREFIX:=vsddr$$}"
source "$here/lib/topology.sh"
trap topo_down EXIT

topo_dr_up 2
V4=$LB_VIP4 V6=$LB_VIP6
dir_mac=$(mac_of dir eth0)
echo "director MAC $dir_mac, rs1 $(mac_of rs1 eth0), rs2 $(mac_of rs2 eth0)"

# The underlay, without vsd: the client reaches each real server directly.
for i in 1 2; do
  assert_eq "rs$i" "$(in_client curl -s --max-time 3 "http://$(lb_rs_ip4 "$i"):8000/")" "underlay: direct HTTP to rs$i over IPv4"
  assert_eq "rs$i" "$(in_client curl -s --max-time 3 "http://[$(lb_rs_ip6 "$i")]:8000/")" "underlay: direct HTTP to rs$i over IPv6"
done

sock="$TOPO_DIR/ctl/vsd.sock"
cfg="$TOPO_DIR/vsd.toml"
# vsd forwards every packet itself here (MACs it resolves, frames it sends,
# GSO switched off live); fastpath_dr_test covers the kernel's flow table.
cat >"$cfg" <<TOML
[director]
fast_path = false
[control]
socket = "$sock"
[arp]
garp_repeat = 3
garp_interval_ms = 200
[[service]]
address = "$V4:8000"
protocol = "tcp"
scheduler = "rr"
[[service.real]]
address = "$(lb_rs_ip4 1):8000"
forward = "dr"
[[service.real]]
address = "$(lb_rs_ip4 2):8000"
forward = "dr"
[[service]]
address = "[$V6]:8000"
protocol = "tcp"
scheduler = "rr"
[[service.real]]
address = "[$(lb_rs_ip6 1)]:8000"
forward = "dr"
[[service.real]]
address = "[$(lb_rs_ip6 2)]:8000"
forward = "dr"
TOML
in_director "$VSD_BIN" --check -c "$cfg"

# rs1 starts from a non-default value, so "restored" cannot mean "reset to 0".
in_rs 1 sysctl -qw net.ipv4.conf.all.arp_announce=1
before1=$(rs_arp_sysctls 1)
before2=$(rs_arp_sysctls 2)

director_vip_counters

# (d) Captures of VIP announcements on the client's segment.
listen_start() {  # listen_start NAME: capture into $TOPO_DIR/NAME.txt
  rm -f "$TOPO_DIR/listen.ready" "$TOPO_DIR/listen.stop"
  in_client python3 "$here/lib/announce_listen.py" eth0 "$V4" "$V6" \
    "$TOPO_DIR/listen.ready" "$TOPO_DIR/listen.stop" 60 >"$TOPO_DIR/$1.txt" &
  listener=$!
  echo "$listener" >>"$TOPO_DIR/pids"
  for _ in $(seq 1 50); do [ -f "$TOPO_DIR/listen.ready" ] && break; sleep 0.1; done
  [ -f "$TOPO_DIR/listen.ready" ] || fail "announcement listener did not start"
}
listen_check() {  # listen_check NAME WHEN: stop the capture, judge it
  local f="$TOPO_DIR/$1.txt" n others
  sleep 1.5   # garp_repeat 3 x 200 ms, with margin
  touch "$TOPO_DIR/listen.stop"
  wait "$listener" || true
  cat "$f"
  n=$(grep -c "^garp .* sha=$dir_mac eth_src=$dir_mac$" "$f" || true)
  [ "$n" -ge 1 ] || fail "$2: no gratuitous ARP for $V4 from the director ($dir_mac) on the client's segment"
  echo "ok: $2: $n gratuitous ARP(s) for $V4 from the director's MAC"
  others=$(grep '^garp ' "$f" | grep -v "sha=$dir_mac eth_src=$dir_mac$" || true)
  [ -z "$others" ] || fail "$2: gratuitous ARPs for $V4 from another MAC: $others"
  n=$(grep -E -c "^na target=$V6 eth_src=$dir_mac tlla=($dir_mac|-) " "$f" || true)
  [ "$n" -ge 1 ] || fail "$2: no unsolicited NA for $V6 from the director ($dir_mac) on the client's segment"
  echo "ok: $2: $n unsolicited NA(s) for $V6 from the director's MAC"
  others=$(grep '^na ' "$f" | grep -E -v "eth_src=$dir_mac tlla=($dir_mac|-) " || true)
  [ -z "$others" ] || fail "$2: unsolicited NAs for $V6 from another MAC: $others"
}
# The first capture starts before any vsd.
listen_start start

start_vsd_on rs1 realserver "$cfg"
start_vsd_on rs2 auto "$cfg"
for i in 1 2; do
  rs_vips_on_lo "$i"
  tables=$(in_rs "$i" nft list tables)
  grep -q '^table arp vsd_rs$' <<<"$tables" || fail "rs$i: no nft table arp vsd_rs while vsd runs: $tables"
done
echo "ok: both real servers hold the VIPs on lo and an arp vsd_rs table"
start_vsd_on dir director "$cfg"
listen_check start "vsd start"
listen_start again
vsadm --garp
listen_check again "vsadm --garp"

# (a) rr over both real servers, each new connection to the next one.
assert_eq "rs1=5 rs2=5 fail=0" "$(lb_split "http://$V4:8000/" 10)" "IPv4 HTTP through the VIP over 10 requests (rr)"
assert_eq "rs1=5 rs2=5 fail=0" "$(lb_split "http://[$V6]:8000/" 10)" "IPv6 HTTP through the VIP over 10 requests (rr)"

# (b) The replies went straight from the real servers to the client.
assert_eq 0 "$(vip_counter from_vip4)" "TCP/UDP packets from $V4 arriving at the director"
assert_eq 0 "$(vip_counter from_vip6)" "TCP/UDP packets from $V6 arriving at the director"
for c in to_vip4 to_vip6; do
  n=$(vip_counter "$c")
  [ "$n" -gt 0 ] || fail "the director's ingress counted no packet to the VIP ($c = $n): the counter sees nothing"
  echo "ok: $c = $n packets (the director's ingress counter works)"
done
stats=$(vsadm_stats_reals)
vsadm -L -n --stats --exact
[ "$(wc -l <<<"$stats")" = 4 ] || fail "vsadm --stats: expected 4 real servers, got: $stats"
while read -r _ rip inp outp; do
  [ "$inp" -gt 0 ] || fail "vsadm --stats: $rip InPkts $inp, expected > 0"
  [ "$outp" = 0 ] || fail "vsadm --stats: $rip OutPkts $outp, expected 0 (DR replies bypass the director)"
done <<<"$stats"
echo "ok: vsadm --stats: InPkts > 0 and OutPkts 0 for every real server"
n=$(vsd_counter direct_routed)
[ "$n" -gt 0 ] || fail "vsd counted no packet sent to a real server's MAC (direct_routed = $n)"
echo "ok: direct_routed = $n packets"
assert_eq 0 "$(vsd_counter transmit_errors)" "packets vsd failed to send (transmit_errors)"

# (c) Only the director answers for the VIPs on the segment.
only_director_answers() {  # only_director_answers WHEN
  local arp macs n nd
  arp=$(in_client timeout 15 arping -c 3 -i eth0 "$V4" 2>&1 || true)
  macs=$(awk '/bytes from/ { print tolower($4) }' <<<"$arp" | sort -u | paste -sd ' ' -)
  n=$(grep -c 'bytes from' <<<"$arp" || true)
  [ "$n" -ge 1 ] || fail "$1: arping $V4: no reply: $arp"
  assert_eq "$dir_mac" "$macs" "$1: MACs answering arping $V4 ($n replies)"
  nd=$(in_client timeout 15 ndisc6 -m -n -r 3 -w 1000 "$V6" eth0 2>&1 || true)
  macs=$(awk '/Target link-layer address/ { print tolower($4) }' <<<"$nd" | sort -u | paste -sd ' ' -)
  assert_eq "$dir_mac" "$macs" "$1: MACs answering a neighbor solicitation for $V6"
}
only_director_answers "hiding = both"

# (e) A real server's vsd leaves nothing behind.
rs_vsd_stop_clean 1 "$before1"
rs_vsd_stop_clean 2 "$before2"

# (f) The same cluster with the sysctls alone hiding the VIPs.
cfg2="$TOPO_DIR/vsd-sysctl.toml"
sed 's/^garp_interval_ms = 200$/&\nhiding = "sysctl"/' "$cfg" >"$cfg2"
grep -q '^hiding = "sysctl"$' "$cfg2" || fail "could not write $cfg2"
start_vsd_on rs1 realserver "$cfg2"
start_vsd_on rs2 realserver "$cfg2"
for i in 1 2; do
  rs_vips_on_lo "$i"
  assert_eq "" "$(in_rs "$i" nft list tables | grep -w vsd_rs || true)" "hiding = sysctl: rs$i nft tables vsd_rs"
  assert_eq "1" "$(in_rs "$i" sysctl -n net.ipv4.conf.eth0.arp_ignore)" "hiding = sysctl: rs$i arp_ignore on eth0"
  assert_eq "2" "$(in_rs "$i" sysctl -n net.ipv4.conf.all.arp_announce)" "hiding = sysctl: rs$i arp_announce on all"
done
only_director_answers "hiding = sysctl"
assert_eq "rs1=2 rs2=2 fail=0" "$(lb_split "http://$V4:8000/" 4)" "hiding = sysctl: IPv4 HTTP through the VIP"
rs_vsd_stop_clean 1 "$before1"
rs_vsd_stop_clean 2 "$before2"

# (g) The first DR real server added live.
stop_vsd_on dir
cfg3="$TOPO_DIR/vsd-empty.toml"
printf '[control]\nsocket = "%s"\n[arp]\ngarp_repeat = 3\n' "$sock" >"$cfg3"
start_vsd_on dir director "$cfg3"
wait_log "$VSD_LOG" "gso=true" || fail "director without DR servers: expected its queues with GSO: $(grep NFQUEUE "$VSD_LOG")"
start_vsd_on rs1 realserver "$cfg"
in_rs 1 socat TCP-LISTEN:9000,reuseaddr,fork SYSTEM:'wc -c' &
echo $! >>"$TOPO_DIR/pids"
vsadm -A -t "$V4:9000" -s rr
vsadm -a -t "$V4:9000" -r "$(lb_rs_ip4 1)" -g
wait_log "$VSD_LOG" "NFQUEUE 0: GSO off" || fail "vsadm added a DR server but the queue kept GSO: $(grep NFQUEUE "$VSD_LOG")"
echo "ok: the first DR server added by vsadm turned the queue's GSO off"
for _ in $(seq 1 20); do in_rs 1 ss -ltn | grep -q ':9000 ' && break; sleep 0.1; done
got=$(head -c 3000000 /dev/zero | in_client timeout 20 socat -t 10 - "TCP:$V4:9000" | tr -d ' ' || true)
assert_eq 3000000 "$got" "bytes of a 3 MB upload counted by rs1 through a live-added DR server"
assert_eq 0 "$(vsd_counter transmit_errors)" "packets vsd failed to send after the live add (transmit_errors)"

# (h) New VIPs, added live, are announced when they appear.
NV4=$LB_NET4.101 NV6=$LB_NET6::101
in_director ip addr add "$NV4/32" dev eth0
in_director ip -6 addr add "$NV6/128" dev eth0 nodad
old4=$V4 old6=$V6
V4=$NV4 V6=$NV6   # what listen_start / listen_check look for
listen_start added
vsadm -A -t "$NV4:8000" -s rr
vsadm -A -t "[$NV6]:8000" -s rr
listen_check added "VIPs added by vsadm"
V4=$old4 V6=$old6
stop_vsd_on rs1
stop_vsd_on dir
assert_eq "" "$(vsd_tables)" "nft tables named vsd on the director after SIGTERM"
echo "PASS: dr_test"
