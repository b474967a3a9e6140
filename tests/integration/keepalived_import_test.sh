#!/usr/bin/env bash
# From keepalived.conf to a running vsd: a virtual server with a DR pool, an
# HTTP_GET check with `virtualhost` and a sorry_server is imported with
# `vsd import keepalived`, checked with `vsd --check`, and run by a vsd on
# the director and on each real server (one cluster file). Then, as
# keepalived would:
#  (a) the checks send Host: www.example.com (the real servers' HTTP server
#      is name-based: any other Host gets 404), so both real servers stay up
#      and rr spreads the clients over them;
#  (b) a real server whose virtual host starts answering 404 goes down
#      (retry 1, delay_before_retry 1: within a few seconds) and takes no
#      new connections;
#  (c) with both down, the sorry server answers;
#  (d) both back: the pool serves again and the sorry server takes nothing.
# The sorry server takes the virtual server's DR, as in keepalived (no
# sorry_server_lvs_method): it sits on the real servers' segment and runs
# vsd's real-server role from the same file, which puts the VIP on its lo
# and hides it from ARP; the director resolves its MAC from the start.
# (health_test covers a NAT sorry server.)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${TOPO_PREFIX:=vsdka$$}"
source "$here/lib/topology.sh"
trap topo_down EXIT

topo_dr_up 3
V4=$LB_VIP4
PORT=8080
SORRY=$(lb_rs_ip4 3)  # rs3: the sorry server, on the DR segment

# A name-based HTTP server: "NAME" for Host www.example.com unless
# $TOPO_DIR/NAME.off exists, 404 for anything else; the sorry server answers
# "sorry" whatever the Host.
cat >"$TOPO_DIR/vhost.py" <<'PY'
import http.server, os, socketserver, sys
name, port, off = sys.argv[1], int(sys.argv[2]), sys.argv[3]
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        host = (self.headers.get("Host") or "").split(":")[0]
        ok = name == "sorry" or (host == "www.example.com" and not os.path.exists(off))
        body = (name if ok else "no site " + host).encode() + b"\n"
        self.send_response(200 if ok else 404)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
Server(("0.0.0.0", port), Handler).serve_forever()
PY
for i in 1 2; do
  in_rs "$i" python3 "$TOPO_DIR/vhost.py" "rs$i" "$PORT" "$TOPO_DIR/rs$i.off" &
  echo $! >>"$TOPO_DIR/pids"
done
in_rs 3 python3 "$TOPO_DIR/vhost.py" sorry "$PORT" /nonexistent &
echo $! >>"$TOPO_DIR/pids"
for node in rs1 rs2 rs3; do
  for _ in $(seq 1 50); do
    [ "$(in_ns "$node" ss -Hltn "sport = :$PORT" | wc -l)" -ge 1 ] && break
    sleep 0.1
  done
done
# The underlay: the name-based servers answer by Host.
assert_eq "rs1" "$(in_client curl -s --max-time 3 -H 'Host: www.example.com' "http://$(lb_rs_ip4 1):$PORT/")" \
  "underlay: rs1 for Host www.example.com"
assert_eq "404" "$(in_client curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://$(lb_rs_ip4 1):$PORT/")" \
  "underlay: rs1 for Host RIP:PORT"

cat >"$TOPO_DIR/keepalived.conf" <<KA
global_defs {
    router_id vsd_import_test
}
virtual_server $V4 $PORT {
    delay_loop 1
    lb_algo rr
    lvs_method DR
    protocol TCP
    sorry_server $SORRY $PORT
    real_server $(lb_rs_ip4 1) $PORT {
        weight 1
        HTTP_GET {
            url {
                path /health
                status_code 200
            }
            virtualhost www.example.com
            connect_timeout 1
            retry 1
            delay_before_retry 1
        }
    }
    real_server $(lb_rs_ip4 2) $PORT {
        weight 1
        HTTP_GET {
            url {
                path /health
                status_code 200
            }
            virtualhost www.example.com
            connect_timeout 1
            retry 1
            delay_before_retry 1
        }
    }
}
KA

# Imported without a refusal (exit 0 without --lenient), checked by vsd.
cfg="$TOPO_DIR/vsd.toml"
"$VSD_BIN" import keepalived "$TOPO_DIR/keepalived.conf" >"$cfg" 2>"$TOPO_DIR/import.err" ||
  fail "vsd import keepalived refused something: $(cat "$TOPO_DIR/import.err")"
echo "ok: imported without refusals"
grep -q "sorry_server_forward" "$cfg" && fail "the sorry server got a method of its own: $(cat "$cfg")"
for want in 'forward = "dr"' "sorry_server = \"$SORRY:$PORT\"" 'virtualhost = "www.example.com"' 'retry = 1' \
            'delay_before_retry = 1' 'fall = 1' 'rise = 1' 'interval = 1'; do
  grep -qF "$want" "$cfg" || fail "the imported file has no '$want': $(cat "$cfg")"
done
echo "ok: the imported file keeps keepalived's check and forwarding"
# The test's own control socket, not the node's /run/vsd.
sed -i "s|^socket = .*|socket = \"$TOPO_DIR/ctl/vsd.sock\"|" "$cfg"
mkdir -p "$TOPO_DIR/ctl"
in_director "$VSD_BIN" --check -c "$cfg" >"$TOPO_DIR/check.out" 2>&1 || fail "vsd --check: $(cat "$TOPO_DIR/check.out")"
echo "ok: vsd --check accepts the imported file"

start_vsd_on rs1 realserver "$cfg"
start_vsd_on rs2 realserver "$cfg"
start_vsd_on rs3 auto "$cfg"  # only the sorry server: still a DR real server
grep -q "realserver: .*$SORRY" "$TOPO_DIR/vsd-rs3.log" || fail "rs3's vsd did not take the real-server role: $(head -3 "$TOPO_DIR/vsd-rs3.log")"
in_rs 3 ip -o addr show dev lo | grep -q " $V4/32" || fail "the sorry server's vsd did not put $V4 on lo"
echo "ok: the sorry server's vsd (--role auto) is a DR real server: $V4 on its lo"
start_vsd_on dir director "$cfg"
wait_log "$VSD_LOG" "DR real server $SORRY at " 15 || fail "the director did not resolve the sorry server's MAC: $(grep -i "$SORRY" "$VSD_LOG")"
echo "ok: the director knows the DR sorry server: $(grep -o "DR real server $SORRY at [^ ]*" "$VSD_LOG" | head -1)"

# get [COUNT]: COUNT new connections through the VIP with the site's Host;
# prints the answers' counts, e.g. "rs1=3 rs2=3".
get() {
  local n=${1:-6} i out body
  declare -A seen=()
  for i in $(seq 1 "$n"); do
    body=$(in_client curl -s --max-time 3 -H 'Host: www.example.com' "http://$V4:$PORT/" || echo fail)
    seen[$body]=$(( ${seen[$body]:-0} + 1 ))
  done
  out=
  for body in $(printf '%s\n' "${!seen[@]}" | sort); do out+="${out:+ }$body=${seen[$body]}"; done
  echo "$out"
}
health_of() {  # health_of RIP: "up"/"down" from vsadm --json
  vsadm -L -n --json | python3 -c '
import json, sys
for h in json.load(sys.stdin)["health"]:
    if h["real"].split(":")[0] == sys.argv[1]:
        print(h["state"], h["checks"], h["last_reason"])' "$1"
}
wait_health() {  # wait_health RIP STATE SECONDS
  local _
  for _ in $(seq 1 $(($3 * 10))); do
    [ "$(health_of "$1" | cut -d' ' -f1)" = "$2" ] && return 0
    sleep 0.1
  done
  fail "real server $1 is not $2 after $3 s: $(health_of "$1")"
}

# (a) A few checks ran (interval 1 s) and passed with the virtual host.
for _ in $(seq 1 50); do
  c1=$(health_of "$(lb_rs_ip4 1)" | cut -d' ' -f2)
  c2=$(health_of "$(lb_rs_ip4 2)" | cut -d' ' -f2)
  [ "${c1:-0}" -ge 3 ] && [ "${c2:-0}" -ge 3 ] && break
  sleep 0.1
done
for i in 1 2; do
  h=$(health_of "$(lb_rs_ip4 "$i")")
  case "$h" in
    "up "*" HTTP status 200") echo "ok: rs$i checked with the virtual host: $h" ;;
    *) fail "rs$i: $h" ;;
  esac
done
assert_eq "rs1=3 rs2=3" "$(get 6)" "(a) rr over the DR pool"

# (b) rs1's virtual host answers 404: down within retry x delay_before_retry
# plus a check or two.
touch "$TOPO_DIR/rs1.off"
wait_health "$(lb_rs_ip4 1)" down 8
wait_log "$VSD_LOG" "is down" 2 || fail "no 'is down' line in the director's log"
grep -q "HTTP status 404" "$VSD_LOG" || fail "the log does not say why rs1 went down"
echo "ok: (b) rs1 down: $(grep 'is down' "$VSD_LOG" | tail -1 | sed 's/.*health: //')"
assert_eq "rs2=4" "$(get 4)" "(b) new connections go to rs2 alone"

# (c) Both down: the sorry server answers.
touch "$TOPO_DIR/rs2.off"
wait_health "$(lb_rs_ip4 2)" down 8
wait_log "$VSD_LOG" "sorry server $SORRY:$PORT takes new connections" 3 || fail "the sorry server was not switched in"
assert_eq "sorry=3" "$(get 3)" "(c) with every real server down, the sorry server answers (DR)"

# (d) Back: one passing check each (rise 1).
rm -f "$TOPO_DIR/rs1.off" "$TOPO_DIR/rs2.off"
wait_health "$(lb_rs_ip4 1)" up 8
wait_health "$(lb_rs_ip4 2)" up 8
wait_log "$VSD_LOG" "sorry server $SORRY:$PORT takes no new connections" 3 || fail "the sorry server stayed in"
r=$(get 4)
case "$r" in
  "rs1=2 rs2=2") echo "ok: (d) the pool serves again: $r" ;;
  *) fail "(d) after recovery: $r" ;;
esac

stop_vsd_on dir
stop_vsd_on rs1
stop_vsd_on rs2
stop_vsd_on rs3
echo "PASS: keepalived_import_test"
