#!/usr/bin/env bash
# Live changes never drop a connection: a long download through the VIP
# keeps flowing while services and real servers are added, edited and
# deleted with vsadm, and while vsd reloads a changed file and refuses a
# broken one. Then the seed's ipvsadm script (VIP:0, wrr, persistent 1800,
# real servers by weight) restored with `vsadm -R` lists back identically
# with `vsadm -S -n`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/topology.sh"
trap topo_down EXIT

topo_nat_up 2
sock="/run/${TOPO_PREFIX}/vsd.sock"
cfg="$TOPO_DIR/vsd.toml"
write_cfg() {  # write_cfg [EXTRA]: the base file plus extra TOML
  cat >"$cfg" <<TOML
[control]
socket = "$sock"
[[service]]
address = "192.0.2.10:80"
scheduler = "wrr"
[[service.real]]
address = "203.0.113.11:8000"
weight = 1
[[service.real]]
address = "203.0.113.12:8000"
weight = 1
${1:-}
TOML
}
write_cfg
start_vsd "$cfg"
get() { in_client curl -s --max-time 3 "$1" || echo fail; }

want=$(cat "$TOPO_DIR/big.sha256")
# 3 MB/s: ~7 s for the 20 MiB, longer than the changes below take; slower
# where the waits are scaled (TOPO_WS: a slow machine, the VM lab's TCG).
in_client curl -s --max-time $((60 * TOPO_WS)) --limit-rate $((3000 / TOPO_WS))K -o "$TOPO_DIR/dl.bin" http://192.0.2.10/big.bin &
dl=$!
sleep 0.5

# vsadm changes, each one checked through the VIP.
vsadm -A -t 192.0.2.10:8080 -s rr
vsadm -a -t 192.0.2.10:8080 -r 203.0.113.12:8000 -m -w 1
assert_eq "rs2" "$(get http://192.0.2.10:8080/)" "a service added with vsadm -A/-a answers"
vsadm -a -t 192.0.2.10:8080 -r 203.0.113.11:8000 -m -w 1
vsadm -e -t 192.0.2.10:8080 -r 203.0.113.12:8000 -m -w 0
assert_eq "rs1 rs1 rs1" "$(get http://192.0.2.10:8080/) $(get http://192.0.2.10:8080/) $(get http://192.0.2.10:8080/)" "after vsadm -e weight 0 on rs2"
vsadm -e -t 192.0.2.10:80 -r 203.0.113.11:8000 -m -w 3
vsadm -d -t 192.0.2.10:8080 -r 203.0.113.11:8000
vsadm -D -t 192.0.2.10:8080
assert_eq "fail" "$(get http://192.0.2.10:8080/)" "a service deleted with vsadm -D stops answering"
# Refusals in ipvsadm's words (and nothing running disturbed).
refused() {  # refused WORDS VSADM-ARGS...
  local words=$1 err rc
  shift
  set +e
  err=$(vsadm "$@" 2>&1); rc=$?
  set -e
  [ "$rc" != 0 ] || fail "vsadm $* exited 0"
  grep -q "$words" <<<"$err" || fail "vsadm $* said '$err', not ipvsadm's '$words'"
  echo "ok: vsadm $*: '$err' (exit $rc)"
}
refused "No such service" -D -t 192.0.2.10:9999
refused "Service not defined" -a -t 192.0.2.10:9999 -r 203.0.113.11:8000 -m
refused "Destination already exists" -a -t 192.0.2.10:80 -r 203.0.113.11:8000 -m

# A reload with a changed file, then one with a broken file.
write_cfg '[[service]]
address = "192.0.2.10:8081"
[[service.real]]
address = "203.0.113.11:8000"'
vsadm --reload
assert_eq "rs1" "$(get http://192.0.2.10:8081/)" "a service added by reloading the file answers"
printf '[[service]]\naddress = "192.0.2.10:8082"\nweigth = 3\n' >>"$cfg"
kill -HUP "$VSD_PID"
sleep 0.5
wait_log "$VSD_LOG" "reload refused: $cfg:.*unknown key 'weigth'" || fail "a broken file's error was not logged with FILE:LINE:COL"
assert_eq "rs1" "$(get http://192.0.2.10:8081/)" "after a refused reload the running configuration still serves"

kill -0 "$dl" 2>/dev/null || fail "the download finished before the changes were done (too fast to prove anything)"
wait "$dl" || fail "the download broke during the live changes"
assert_eq "$want" "$(sha256sum <"$TOPO_DIR/dl.bin" | cut -d' ' -f1)" "sha256 of the download that ran through every change"

# The seed's LVS script, in ipvsadm-save form, restored and saved back.
cat >"$TOPO_DIR/seed.rules" <<'RULES'
-A -t 192.0.2.20:0 -s wrr -p 1800
-a -t 192.0.2.20:0 -r 203.0.113.11:0 -m -w 3
-a -t 192.0.2.20:0 -r 203.0.113.12:0 -m -w 1
RULES
vsadm -C
in_director "$VSADM_BIN" --socket "$VSD_SOCKET" -R <"$TOPO_DIR/seed.rules"
assert_eq "$(cat "$TOPO_DIR/seed.rules")" "$(vsadm -S -n)" "vsadm -S -n after vsadm -R of the seed's rules"
assert_eq "rs1" "$(get http://192.0.2.20:8000/)" "the restored port-0 service answers (any port: 8000 here)"

conns() { vsadm --json | python3 -c 'import json,sys; print([s["stats"]["conns"] for s in json.load(sys.stdin)["services"] if s.get("address") == "192.0.2.20:0"][0])'; }
assert_eq "1" "$(conns)" "connections counted on the restored service"
vsadm -Z -t 192.0.2.20:0
assert_eq "0" "$(conns)" "connections after vsadm -Z -t 192.0.2.20:0"
vsadm -Z

stop_vsd
echo "PASS: live_change_test"
