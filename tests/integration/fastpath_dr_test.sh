#!/usr/bin/env bash
# The kernel fast path for VS-DR: the director's nft flow table forwards a
# flow's packets to its real server's MAC after vsd decided the first one.
#  - a 20 MiB upload through the DR VIP arrives intact at a real server while
#    the kernel queues fewer than 100 packets to vsd (it sees a flow's SYN,
#    its second packet and its FIN, no more);
#  - `nft list ruleset` shows the flow in the table `tcp_flows`;
#  - ActiveConn is 1 while it runs and the upload's bytes are counted;
#  - HTTP over both families still splits rr over both real servers;
#  - a removed real server's running upload goes on (through vsd).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${TOPO_PREFIX:=vsdfpdr$$}"
source "$here/lib/topology.sh"
trap topo_down EXIT

topo_dr_up 2
_topo_make_content  # big.bin and its sha256
V4=$LB_VIP4 V6=$LB_VIP6
sock="$TOPO_DIR/ctl/vsd.sock"
cfg="$TOPO_DIR/vsd.toml"
cat >"$cfg" <<TOML
[director]
queue = 4
[control]
socket = "$sock"
[[service]]
address = "$V4:8000"
scheduler = "rr"
[[service.real]]
address = "$(lb_rs_ip4 1)"
forward = "dr"
[[service.real]]
address = "$(lb_rs_ip4 2)"
forward = "dr"
[[service]]
address = "[$V6]:8000"
scheduler = "rr"
[[service.real]]
address = "[$(lb_rs_ip6 1)]"
forward = "dr"
[[service.real]]
address = "[$(lb_rs_ip6 2)]"
forward = "dr"
[[service]]
address = "$V4:9000"
scheduler = "rr"
[[service.real]]
address = "$(lb_rs_ip4 1)"
forward = "dr"
TOML
for node in rs1 rs2; do start_vsd_on "$node" realserver "$cfg"; done
start_vsd_on dir director "$cfg"
wait_log "$VSD_LOG" "DR/TUN by the flow table: 3" || fail "the director does not carry its 3 DR services in the kernel: $(grep 'fast path' "$VSD_LOG")"

queued() { in_director awk '$1 == 4 { print $8 + 0 }' /proc/net/netfilter/nfnetlink_queue; }

assert_eq "rs1=5 rs2=5 fail=0" "$(lb_split "http://$V4:8000/" 10)" "IPv4 HTTP through the DR VIP (rr)"
assert_eq "rs1=5 rs2=5 fail=0" "$(lb_split "http://[$V6]:8000/" 10)" "IPv6 HTTP through the DR VIP (rr)"

# The upload: rs1 hashes what it receives.
printf '#!/bin/sh\nsha256sum | cut -d" " -f1 >%s\n' "$TOPO_DIR/upload.sha" >"$TOPO_DIR/sink.sh"
chmod +x "$TOPO_DIR/sink.sh"
in_rs 1 socat -u TCP-LISTEN:9000,reuseaddr,fork "SYSTEM:$TOPO_DIR/sink.sh" &
echo $! >>"$TOPO_DIR/pids"
for _ in $(seq 1 20); do in_rs 1 ss -ltn | grep -q ':9000 ' && break; sleep 0.1; done
# upload: the 20 MiB to VIP:9000 in about 5 s (4 MiB/s), so the flow can be
# looked at while it runs; its pid in UP.
upload() {
  rm -f "$TOPO_DIR/upload.sha"
  in_client timeout 60 python3 - "$TOPO_DIR/big.bin" "$V4" <<'PY' &
import socket, sys, time
data = open(sys.argv[1], "rb").read()
s = socket.create_connection((sys.argv[2], 9000), timeout=10)
start, sent = time.time(), 0
while sent < len(data):
    sent += s.send(data[sent:sent + 65536])
    ahead = sent / (4 << 20) - (time.time() - start)
    if ahead > 0:
        time.sleep(ahead)
s.shutdown(socket.SHUT_WR)
s.recv(1)
PY
  UP=$!
}
before=$(queued)
upload; up=$UP
# While it runs: the flow is in the kernel's table, and listed active.
for _ in $(seq 1 100); do
  in_director nft list map ip vsd tcp_flows 2>/dev/null | grep -q "$V4 . 9000" && break
  sleep 0.1
done
flows=$(in_director nft list map ip vsd tcp_flows 2>/dev/null || true)
grep -q "198.51.100.2 . [0-9]* . $V4 . 9000" <<<"$flows" || fail "the upload is not in the flow table tcp_flows: $flows"
echo "ok: nft list map ip vsd tcp_flows shows the upload: $(grep -o "198.51.100.2 . [0-9]* . $V4 . 9000 [^,}]*" <<<"$flows" | head -1)"
for _ in $(seq 1 50); do
  act=$(vsadm -L -n | awk -v s="$V4:9000" '$1 ~ /^(TCP|UDP|FWM)$/ { on = ($2 == s) } on && $1 == "->" { n += $6 } END { print n + 0 }')
  [ "$act" = 1 ] && break
  sleep 0.1
done
assert_eq 1 "$act" "ActiveConn of $V4:9000 while the upload runs"
wait "$up" || fail "the upload through the DR VIP failed"
for _ in $(seq 1 50); do [ -s "$TOPO_DIR/upload.sha" ] && break; sleep 0.1; done
assert_eq "$(cat "$TOPO_DIR/big.sha256")" "$(cat "$TOPO_DIR/upload.sha" 2>/dev/null)" "sha256 of the 20 MiB uploaded through the DR VIP, at rs1"
n=$(( $(queued) - before ))
[ "$n" -lt 100 ] || fail "the kernel queued $n packets for the 20 MiB DR upload (fast path: fewer than 100)"
echo "ok: $n packets queued to vsd for the 20 MiB DR upload"

# The kernel's counters: the upload's bytes, in InBytes (DR: no OutBytes).
for _ in $(seq 1 50); do
  in_bytes=$(vsadm -L -n --stats --exact | awk -v s="$V4:9000" '$1 ~ /^(TCP|UDP|FWM)$/ { on = ($2 == s) } on && $1 == "->" { n += $6 } END { print n + 0 }')
  [ "$in_bytes" -ge 20971520 ] && break
  sleep 0.1
done
[ "$in_bytes" -ge 20971520 ] || fail "vsadm --stats --exact shows InBytes $in_bytes for $V4:9000: $(vsadm -L -n --stats --exact)"
echo "ok: vsadm -L -n --stats --exact counts the upload: InBytes $in_bytes"
assert_eq 0 "$(vsd_counter transmit_errors)" "packets vsd failed to send (transmit_errors)"

# A removed real server (expire_nodest_conn off, IPVS's default): its
# running upload goes on to the end. Its decision left the kernel's maps,
# so the flow's packets are queued and vsd forwards them itself.
flows9000() { in_director nft list map ip vsd tcp_flows 2>/dev/null | grep -o "$V4 . 9000" | wc -l; }
had=$(flows9000)
upload; up=$UP
for _ in $(seq 1 100); do [ "$(flows9000)" -gt "$had" ] && break; sleep 0.1; done
[ "$(flows9000)" -gt "$had" ] || fail "the second upload is not in the flow table"
before=$(queued)
vsadm -d -t "$V4:9000" -r "$(lb_rs_ip4 1)"
wait "$up" || fail "the upload failed after its real server was removed"
for _ in $(seq 1 50); do [ -s "$TOPO_DIR/upload.sha" ] && break; sleep 0.1; done
assert_eq "$(cat "$TOPO_DIR/big.sha256")" "$(cat "$TOPO_DIR/upload.sha" 2>/dev/null)" "sha256 of the upload that outlived its real server's removal"
n=$(( $(queued) - before ))
[ "$n" -gt 100 ] || fail "only $n packets were queued after the removal: who forwarded the rest?"
echo "ok: vsd forwarded the removed server's flow itself ($n packets queued)"

for node in rs1 rs2 dir; do stop_vsd_on "$node"; done
assert_eq "" "$(vsd_tables)" "nft tables named vsd on the director after SIGTERM"
echo "PASS: fastpath_dr_test"
