#!/usr/bin/env bash
# IPVS connection semantics end to end, through vsd in a netns cluster:
#  - a persistent service sends every connection of one client to one real
#    server while other clients spread over the others;
#  - a port-0 persistent service sends ports 80 and 443 of one client to the
#    same real server;
#  - weight 0 (set live with vsadm -e) lets a long download finish intact
#    while every new connection goes elsewhere;
#  - vsadm -L -n shows the persistence, vsadm -L -c the templates.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/topology.sh"
trap topo_down EXIT

topo_nat_up 3
# More clients: each address is its own persistence client (netmask /32).
for a in 3 4 5; do in_client ip addr add "198.51.100.$a/24" dev cl0; done
# Ports 80 and 443 on every real server for the port-0 service.
for i in 1 2 3; do
  for p in 80 443; do
    in_rs "$i" busybox httpd -f -p "$p" -h "$TOPO_DIR/www$i" &
    echo $! >>"$TOPO_DIR/pids"
  done
done
sleep 0.3

sock="/run/${TOPO_PREFIX}/vsd.sock"
cfg="$TOPO_DIR/vsd.toml"
cat >"$cfg" <<TOML
[control]
socket = "$sock"

[[service]]
address = "192.0.2.10:80"
scheduler = "rr"
persistent = 300
[[service.real]]
address = "203.0.113.11:8000"
[[service.real]]
address = "203.0.113.12:8000"
[[service.real]]
address = "203.0.113.13:8000"

[[service]]
address = "192.0.2.20:0"
scheduler = "rr"
persistent = 600
[[service.real]]
address = "203.0.113.11"
[[service.real]]
address = "203.0.113.12"
[[service.real]]
address = "203.0.113.13"

[[service]]
address = "192.0.2.10:81"
scheduler = "rr"
[[service.real]]
address = "203.0.113.11:8000"
[[service.real]]
address = "203.0.113.12:8000"
TOML
in_director "$VSD_BIN" --check -c "$cfg"
start_vsd "$cfg"

get() {  # get SOURCE URL: the answering real server ("rsN"), or "fail"
  in_client curl -s --max-time 5 --interface "$1" "$2" || echo fail
}

# 1. Persistence: each client always lands on its own server; three clients spread.
declare -A first
for c in 198.51.100.2 198.51.100.3 198.51.100.4; do
  first[$c]=$(get "$c" http://192.0.2.10/)
  for n in $(seq 1 6); do
    r=$(get "$c" http://192.0.2.10/)
    [ "$r" = "${first[$c]}" ] || fail "client $c went to $r on request $((n + 1)), first to ${first[$c]} (persistent service)"
  done
  echo "ok: client $c: 7 connections, all to ${first[$c]}"
done
distinct=$(printf '%s\n' "${first[@]}" | sort -u | wc -l)
assert_eq "3" "$distinct" "real servers used by 3 persistent clients (rr over templates)"

# 2. Port 0: ports 80 and 443 of one client go to the same server.
for c in 198.51.100.2 198.51.100.3 198.51.100.5; do
  h=$(get "$c" http://192.0.2.20:80/)
  s=$(get "$c" http://192.0.2.20:443/)
  [ "$h" != fail ] || fail "client $c: port 80 of the port-0 VIP did not answer"
  assert_eq "$h" "$s" "client $c: port 443 on the same real server as port 80 (port-0 persistent service)"
done

listing=$(vsadm -L -n)
echo "$listing"
grep -q '^TCP  192.0.2.10:80 rr persistent 300$' <<<"$listing" || fail "vsadm -L -n lacks 'persistent 300'"
grep -q '^TCP  192.0.2.20:0 rr persistent 600$' <<<"$listing" || fail "vsadm -L -n lacks the port-0 service"
templates=$(vsadm -L -c -n | grep -c ' NONE ' || true)
[ "$templates" -ge 6 ] || fail "vsadm -L -c -n shows $templates templates, expected at least 6"
echo "ok: vsadm -L -c -n shows $templates persistence templates"

# 3. Weight 0: a long download keeps going while new connections go elsewhere.
want=$(cat "$TOPO_DIR/big.sha256")
in_client curl -s --max-time 60 --limit-rate 3M -o "$TOPO_DIR/slow.bin" http://192.0.2.10:81/big.bin &
dl=$!
for t in $(seq 1 100); do  # until bytes flow (bounded: 10 s)
  [ "$(stat -c %s "$TOPO_DIR/slow.bin" 2>/dev/null || echo 0)" -gt 100000 ] && break
  sleep 0.1
done
# The server carrying the download: the one with an active connection.
busy=$(vsadm -L -n | awk '/^TCP  192.0.2.10:81/ {on=1; next} /^TCP/ {on=0} on && $5 == 1 {print $2}')
case "$busy" in
  203.0.113.11:8000) other=rs2 ;;
  203.0.113.12:8000) other=rs1 ;;
  *) fail "no real server of 192.0.2.10:81 shows the download as ActiveConn 1: $(vsadm -L -n)" ;;
esac
echo "ok: the download runs on $busy (ActiveConn 1)"
vsadm -e -t 192.0.2.10:81 -r "$busy" -m -w 0
for n in $(seq 1 6); do
  r=$(get 198.51.100.2 http://192.0.2.10:81/)
  assert_eq "$other" "$r" "new connection $n while $busy is quiesced"
done
kill -0 "$dl" 2>/dev/null || fail "the download ended before the quiesced server was checked (too fast to prove anything)"
wait "$dl" || fail "the long download failed after its server was quiesced"
assert_eq "$want" "$(sha256sum <"$TOPO_DIR/slow.bin" | cut -d' ' -f1)" "sha256 of the download that outlived weight 0"
wait_log "$VSD_LOG" "real server $busy now nat weight 0" || fail "no log line for the weight change"

stop_vsd
assert_eq "" "$(vsd_tables)" "nft tables named vsd after SIGTERM"
echo "PASS: persistence_test"
