#!/usr/bin/env bash
# vsd's nft tables put back after someone else removes them:
#  (a) NAT director, fast path on: `nft flush ruleset` in its namespace (what
#      `systemctl restart nftables` does) -> tables ip/ip6 vsd back within
#      2 s (polled), one warning line naming what happened and what vsd did,
#      and HTTP through the VIP answered again (10 of 10);
#  (b) a file loaded the way nftables.service loads /etc/nftables.conf
#      (`flush ruleset` + the operator's own table, one transaction): vsd's
#      tables back beside the operator's;
#  (c) `nft flush table ip vsd` (the table stays, its rules go): rules back;
#  (d) vsd's own reload (an in-place update) is not mistaken for a flush;
#  (e) SIGTERM still removes the tables (the watch stops first);
#  (f) a DR real server: `nft flush ruleset` on it -> table arp vsd_rs back
#      within 2 s, and HTTP through the VIP still answered.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${TOPO_PREFIX:=vsdfl$$}"
source "$here/lib/topology.sh"
trap topo_down EXIT

# now_ms: a monotonic-enough clock for the restore time.
now_ms() { date +%s%3N; }

# wait_tables NODE WANT...: polls `nft list tables` in NODE (every 50 ms, at
# most 2 s) until every WANT ("ip vsd") is there; prints the ms it took.
wait_tables() {
  local node=$1 t0 have w ok
  shift
  t0=$(now_ms)
  for _ in $(seq 1 40); do
    have=$(in_ns "$node" nft list tables 2>/dev/null || true)
    ok=1
    for w in "$@"; do grep -qx "table $w" <<<"$have" || ok=0; done
    if [ "$ok" = 1 ]; then echo $(($(now_ms) - t0)); return 0; fi
    sleep 0.05
  done
  echo "tables in $node after 2 s: $have" >&2
  return 1
}

requests() {  # requests URL N: how many of N requests were answered by rs1/rs2
  local url=$1 n=$2 ok=0 out
  for _ in $(seq 1 "$n"); do
    out=$(in_client curl -s --max-time 3 "$url" || true)
    case "$out" in rs1 | rs2) ok=$((ok + 1)) ;; esac
  done
  echo "$ok"
}

count_lines() { grep -c -- "$2" "$1" 2>/dev/null || true; }

# ------------------------------------------------------------ (a)-(e) NAT
topo_nat_up 2
sock="/run/${TOPO_PREFIX}/vsd.sock"
cfg="$TOPO_DIR/vsd.toml"
cat >"$cfg" <<TOML
[director]
queue = 5
[control]
socket = "$sock"
[[service]]
address = "192.0.2.10:80"
protocol = "tcp"
scheduler = "rr"
[[service.real]]
address = "203.0.113.11:8000"
[[service.real]]
address = "203.0.113.12:8000"
[[service]]
address = "[2001:db8::10]:80"
protocol = "tcp"
scheduler = "rr"
[[service.real]]
address = "[2001:db8:2::11]:8000"
TOML
start_vsd "$cfg"
assert_eq 10 "$(requests http://192.0.2.10/ 10)" "HTTP answers before the flush"
rules_before=$(in_director nft list table ip vsd 2>/dev/null | grep -c ' queue \| counter \|dnat\|notrack' || true)

in_director nft flush ruleset
ms=$(wait_tables dir "ip vsd" "ip6 vsd") || fail "vsd's tables not back within 2 s of nft flush ruleset"
echo "ok: tables ip vsd and ip6 vsd back ${ms} ms after nft flush ruleset"
wait_log "$VSD_LOG" "warning: nft: table ip vsd deleted, table ip6 vsd deleted by nft" 3 ||
  fail "no warning naming the flush"
line=$(grep "warning: nft: table ip vsd deleted" "$VSD_LOG")
echo "  log: ${line#* vsd\[*\] }"
assert_eq 1 "$(wc -l <<<"$line")" "warning lines for one flush"
grep -q "installed table(s) ip vsd, ip6 vsd again in [0-9]* ms" <<<"$line" || fail "the warning does not say what vsd did: $line"
grep -q "conntrack entries, and the NAT flows in them, survive" <<<"$line" || fail "the warning does not say what survives: $line"
assert_eq "$rules_before" "$(in_director nft list table ip vsd 2>/dev/null | grep -c ' queue \| counter \|dnat\|notrack' || true)" \
  "rules in table ip vsd after the restore (as before)"
assert_eq 10 "$(requests http://192.0.2.10/ 10)" "HTTP answers after the flush (IPv4)"
assert_eq 3 "$(requests 'http://[2001:db8::10]/' 3)" "HTTP answers after the flush (IPv6)"

# (b) nftables.service's way: one transaction, flush + the operator's table.
cat >"$TOPO_DIR/nftables.conf" <<'NFT'
flush ruleset
table inet filter {
	chain input {
		type filter hook input priority filter; policy accept;
	}
}
NFT
in_director nft -f "$TOPO_DIR/nftables.conf"
ms=$(wait_tables dir "ip vsd" "ip6 vsd" "inet filter") || fail "vsd's tables not back after nft -f nftables.conf"
echo "ok: after nft -f nftables.conf (flush ruleset + table inet filter): ip vsd, ip6 vsd and inet filter, ${ms} ms"
assert_eq 5 "$(requests http://192.0.2.10/ 5)" "HTTP answers after nft -f nftables.conf"

# (c) the table stays, its rules go.
n_warn=$(count_lines "$VSD_LOG" "warning: nft:")
in_director nft flush table ip vsd
for _ in $(seq 1 40); do
  [ "$(in_director nft list table ip vsd 2>/dev/null | grep -c ' queue \| counter \|dnat\|notrack' || true)" = "$rules_before" ] && break
  sleep 0.05
done
assert_eq "$rules_before" "$(in_director nft list table ip vsd 2>/dev/null | grep -c ' queue \| counter \|dnat\|notrack' || true)" \
  "rules in table ip vsd after nft flush table ip vsd"
wait_log "$VSD_LOG" "warning: nft: .*of table ip vsd deleted by nft" 3 || fail "no warning for nft flush table"
assert_eq 5 "$(requests http://192.0.2.10/ 5)" "HTTP answers after nft flush table ip vsd"

# (d) vsd's own in-place update (a reload) is no flush.
n_warn=$(count_lines "$VSD_LOG" "warning: nft:")
sed -i 's/^scheduler = "rr"$/scheduler = "wrr"/' "$cfg"
vsadm --reload >/dev/null
wait_log "$VSD_LOG" "reloaded $cfg" 5 || fail "reload not logged"
sleep 1
assert_eq "$n_warn" "$(count_lines "$VSD_LOG" "warning: nft:")" "nft warnings after vsd's own reload (none new)"
assert_eq 5 "$(requests http://192.0.2.10/ 5)" "HTTP answers after the reload"

# (e) a clean stop still removes the tables, and puts nothing back.
stop_vsd
sleep 0.5
assert_eq "" "$(vsd_tables)" "nft tables named vsd after SIGTERM"
topo_down

# ------------------------------------------------------ (f) DR real server
topo_dr_up 1
cfg="$TOPO_DIR/vsd.toml"
cat >"$cfg" <<TOML
[director]
fast_path = false
[control]
socket = "$TOPO_DIR/ctl/vsd.sock"
[[service]]
address = "$LB_VIP4:8000"
protocol = "tcp"
scheduler = "rr"
[[service.real]]
address = "$(lb_rs_ip4 1):8000"
forward = "dr"
TOML
start_vsd_on dir director "$cfg"
start_vsd_on rs1 realserver "$cfg"
assert_eq rs1 "$(in_client curl -s --max-time 3 "http://$LB_VIP4:8000/")" "DR: HTTP through the VIP before the flush"
in_ns rs1 nft flush ruleset
ms=$(wait_tables rs1 "arp vsd_rs") || fail "table arp vsd_rs not back on the real server within 2 s"
echo "ok: table arp vsd_rs back on rs1 ${ms} ms after nft flush ruleset"
wait_log "$TOPO_DIR/vsd-rs1.log" "warning: nft: table arp vsd_rs deleted" 3 || fail "rs1 logged no warning"
# The table may be listed a moment before its rule: poll, bounded.
for _ in $(seq 1 40); do
  in_ns rs1 nft list table arp vsd_rs 2>/dev/null | grep -q "arp daddr ip $LB_VIP4 drop" && break
  sleep 0.05
done
in_ns rs1 nft list table arp vsd_rs | grep -q "arp daddr ip $LB_VIP4 drop" || fail "table arp vsd_rs back without its rule (2 s)"
assert_eq rs1 "$(in_client curl -s --max-time 3 "http://$LB_VIP4:8000/")" "DR: HTTP through the VIP after the flush on rs1"
echo "nft_flush_test: all passed"
