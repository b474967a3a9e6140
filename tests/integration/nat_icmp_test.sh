#!/usr/bin/env bash
# VS-NAT, ICMP errors about a connection: a UDP service whose real server has
# nothing listening on the port. The real server's port unreachable must
# reach the client translated, as from the VIP about client -> VIP:vport:
#  - the client's connected UDP socket gets ECONNREFUSED (its kernel matched
#    the quoted packet to the socket), IPv4 and IPv6;
#  - a raw ICMP socket on the client sees the error with outer source = VIP,
#    quoting client:port -> VIP:vport.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${TOPO_PREFIX:=vsdni$$}"
source "$here/lib/topology.sh"
trap topo_down EXIT

topo_nat_up 1
# One port unreachable per probe; the kernel's ICMP rate limit must not eat one.
in_rs 1 sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
sock="/run/${TOPO_PREFIX}/vsd.sock"
cfg="$TOPO_DIR/vsd.toml"
cat >"$cfg" <<TOML
[control]
socket = "$sock"
[[service]]
address = "$VIP4:9100"
protocol = "udp"
scheduler = "rr"
[[service.real]]
address = "$(rs_ip4 1):9999"
forward = "nat"
[[service]]
address = "[$VIP6]:9100"
protocol = "udp"
scheduler = "rr"
[[service.real]]
address = "[$(rs_ip6 1)]:9999"
forward = "nat"
TOML
in_director "$VSD_BIN" --check -c "$cfg"

# The underlay: the real server itself refuses the port (routed, no vsd yet).
topo_enable_forwarding
out=$(in_client python3 "$here/lib/icmp_probe.py" refused "$(rs_ip4 1)" 9999)
grep -q '^recv=ECONNREFUSED$' <<<"$out" || fail "underlay: direct UDP to $(rs_ip4 1):9999 not refused: $out"
echo "ok: underlay: $(rs_ip4 1):9999 answers port unreachable directly"
in_director sysctl -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0

start_vsd "$cfg"

# probe VIP QUOTED_VIP: refused UDP through the VIP, with the ICMP seen raw.
probe() {
  local vip=$1 qvip=$2 out
  out=$(in_client python3 "$here/lib/icmp_probe.py" refused "$vip" 9100)
  echo "$out"
  grep -q '^recv=ECONNREFUSED$' <<<"$out" || fail "UDP to $vip:9100: expected ECONNREFUSED, got: $out"
  echo "ok: connected UDP socket to $qvip:9100 got ECONNREFUSED"
  local line found=
  while read -r line; do
    [[ $line == "icmp src=$vip type=$3 code=$4 mtu=0 quoted="*"->$qvip:9100" ]] && found=1
  done <<<"$out"
  [ -n "$found" ] || fail "the port unreachable seen on the client is not from $vip about ->$qvip:9100: $out"
  echo "ok: the port unreachable comes from $vip and quotes the flow to $qvip:9100"
}
probe "$VIP4" "$VIP4" 3 3
probe "$VIP6" "[$VIP6]" 1 4

# A second flow (new source port) is refused the same way.
probe "$VIP4" "$VIP4" 3 3
stop_vsd
assert_eq "" "$(vsd_tables)" "nft tables named vsd after SIGTERM"
echo "PASS: nat_icmp_test"
