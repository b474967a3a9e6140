#!/usr/bin/env bash
# The VM lab's kernel (tests/vm/lab.sh): Debian's 6.1 has what the lab is
# for, and vsd uses it.
#  - the modules: nft_queue (the native `queue` expression), ipip and
#    ip6_tunnel (kernel IP-in-IP decapsulation on real servers), ip_vs and
#    its schedulers (the differential test's baseline), nf_conntrack;
#  - a director started in a namespace logs "kernel queue form: nft queue",
#    `vsadm --version` says so, `nft list table ip vsd` has native queue
#    statements (no xt target), and the fast path is on (conntrack + maps).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${TOPO_PREFIX:=vsdkf$$}"
source "$here/../../integration/lib/topology.sh"
trap topo_down EXIT

kver=$(uname -r)
echo "NOTE: kernel $kver ($(. /etc/os-release; echo "$PRETTY_NAME"))"
[[ $kver == 6.1.* ]] || fail "expected Debian's 6.1 kernel, got $kver"
for m in nft_queue ipip ip6_tunnel ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_sh nf_conntrack; do
  modprobe "$m" || fail "modprobe $m"
done
echo "ok: modprobe nft_queue ipip ip6_tunnel ip_vs ip_vs_{rr,wrr,lc,wlc,sh} nf_conntrack"

topo_nat_up 1
sock="/run/${TOPO_PREFIX}/vsd.sock"
cat >"$TOPO_DIR/vsd.toml" <<TOML
[control]
socket = "$sock"
[[service]]
address = "192.0.2.10:80"
scheduler = "rr"
[[service.real]]
address = "203.0.113.11:8000"
TOML
start_vsd "$TOPO_DIR/vsd.toml"
grep "kernel queue form\|fast path" "$VSD_LOG" | sed 's/^/NOTE: vsd: /'
grep -q "kernel queue form: nft queue$" "$VSD_LOG" || fail "vsd does not log the native queue form"
echo "ok: vsd logs: kernel queue form: nft queue"
vsadm --version | grep -q "queue form: nft queue" || fail "vsadm --version: $(vsadm --version)"
echo "ok: vsadm --version: $(vsadm --version | grep -o 'queue form: [a-z ]*')"
rules=$(in_director nft list table ip vsd)
grep -q " queue " <<<"$rules" || fail "no queue statement in table ip vsd: $rules"
if grep -q "xt target" <<<"$rules"; then fail "table ip vsd uses the xt NFQUEUE target: $rules"; fi
echo "ok: nft list table ip vsd: native queue statements, no xt target"
grep -q "fast path: 1 service(s) in the kernel" "$VSD_LOG" || fail "the fast path is not on: $(grep 'fast path' "$VSD_LOG")"
echo "ok: the fast path is on"
assert_eq rs1 "$(in_client curl -s --max-time 10 http://192.0.2.10/)" "HTTP through the VIP"
stop_vsd
echo "PASS: kernel_facts_test"
