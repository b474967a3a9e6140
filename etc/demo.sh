#!/usr/bin/env bash
# The vsd demo: installs what is missing, builds, and runs a NAT cluster in
# network namespaces — a client, the director running vsd with
# etc/demo.toml, and three real servers with an HTTP server on port 8000.
# A dozen curls to the VIP show which real server answered each; then
# `vsadm -L -n` and the nft table vsd installed; then everything is torn
# down (--keep leaves it up for poking; `bash etc/demo.sh --down` removes it).
# --dr: the VS-DR cluster of etc/demo-dr.toml instead, vsd on every node.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

keep=0 mode=nat
for a in "$@"; do
  case "$a" in
    --keep) keep=1 ;;
    --dr) mode=dr ;;
    --down) export TOPO_PREFIX=vsddemo; source tests/integration/lib/topology.sh; topo_down; exit 0 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "demo: unknown option $a (use --dr, --keep or --down)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "demo: run as root (it creates network namespaces)" >&2; exit 1; }

bash .ci/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build vsd vsadm

export VSD_BIN="$here/build/appliance/daemon/vsd" VSADM_BIN="$here/build/appliance/vsadm/vsadm"
export TOPO_PREFIX=vsddemo
source tests/integration/lib/topology.sh
if [ "$keep" = 0 ]; then trap topo_down EXIT; fi
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ "$mode" = dr ]; then
  cfg="$here/etc/demo-dr.toml"
  topo_dr_up 2
  say "vsd --check on the director and on rs1 (same file)"
  in_director "$VSD_BIN" --check -c "$cfg" || true
  in_rs 1 "$VSD_BIN" --check -c "$cfg" || true
  start_vsd_on rs1 "" "$cfg"
  start_vsd_on rs2 "" "$cfg"
  start_vsd_on dir "" "$cfg"
  say "6 HTTP requests to the VIP 198.51.100.100:8000 and 4 to [2001:db8:5::100]:8000 (rr, DR)"
  for i in $(seq 1 6); do
    printf 'request %2d -> %s\n' "$i" "$(in_client curl -s --max-time 5 http://198.51.100.100:8000/)"
  done
  for i in $(seq 1 4); do
    printf 'request %2d -> %s\n' "$i" "$(in_client curl -s --max-time 5 'http://[2001:db8:5::100]:8000/')"
  done
  say "arping the VIP from the client: only the director's MAC ($(mac_of dir eth0)) answers"
  in_client arping -c 2 -i eth0 198.51.100.100 || true
  say "vsadm -L -n --stats (OutPkts 0: replies bypass the director)"
  vsadm -L -n --stats
  say "rs1: the VIPs on lo, and nft list table arp vsd_rs"
  in_rs 1 ip -brief addr show dev lo
  in_rs 1 nft list table arp vsd_rs
  if [ "$keep" = 1 ]; then
    say "left running (namespaces ${TOPO_PREFIX}-*); tear down with: bash etc/demo.sh --down"
    trap - EXIT
  else
    for n in dir rs1 rs2; do stop_vsd_on "$n"; done
    say "demo done; VIPs off lo, sysctls restored, namespaces removed"
  fi
  exit 0
fi

topo_nat_up 3
start_vsd "$here/etc/demo.toml"
say "12 HTTP requests to the VIP 192.0.2.10:80 (wrr, weights 3:2:1)"
for i in $(seq 1 12); do
  printf 'request %2d -> %s\n' "$i" "$(in_client curl -s --max-time 5 http://192.0.2.10/)"
done
say "6 HTTP requests to the VIP [2001:db8::10]:80 (rr)"
for i in $(seq 1 6); do
  printf 'request %2d -> %s\n' "$i" "$(in_client curl -s --max-time 5 'http://[2001:db8::10]/')"
done
say "vsadm -L -n"
in_director env VSD_SOCKET=/run/vsd-demo/vsd.sock "$VSADM_BIN" -L -n
say "nft list ruleset: tables ip vsd and ip6 vsd (what the kernel diverts to vsd)"
rules=$(in_director nft list ruleset | sed -n '/table .* vsd/,/^}/p')
echo "$rules"
if grep -q "managed by iptables-nft" <<<"$rules"; then
  echo "(nft says 'managed by iptables-nft' because this kernel lacks the native nft queue"
  echo " expression: vsd uses the xtables NFQUEUE target through nft_compat; see README)"
fi
if [ "$keep" = 1 ]; then
  say "left running (namespaces ${TOPO_PREFIX}-*); try: ip netns exec ${TOPO_PREFIX}-client curl http://192.0.2.10/"
  echo "tear down with: bash etc/demo.sh --down"
  trap - EXIT
else
  stop_vsd
  say "vsd stopped; nft tables left in the director (none expected):"
  t=$(in_director nft list tables); echo "${t:-(none)}"
  say "demo done; namespaces removed"

fi
