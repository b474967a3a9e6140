#!/usr/bin/env bash
# HTTPS checks of name-based backends (keepalived's SSL_GET with
# virtualhost, enable_sni, SSL { ca certificate key }). Each real server
# serves https://www.example.com:8443 only: a TLS client hello without that
# server name is refused with an unrecognized_name alert, any other Host
# gets 421, /mtls needs a client certificate from the test's CA (403
# without). Then:
#  (a) an https check with neither virtualhost nor sni (what vsd did
#      before: Host RIP:PORT, no SNI) fails the handshake: both down;
#  (b) virtualhost = "www.example.com" (Host header and SNI) with tls_ca
#      (the certificate verified against the CA and the name): both up,
#      clients reach both through the VIP; rs1's check with sni = "" (the
#      Host header alone) stays down, so it is the SNI that lets it pass;
#  (c) two URLs, /health and /mtls, every one must pass: rs1's check
#      presents tls_cert / tls_key and is up, rs2's has no certificate and
#      is down with the failing URL named.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/topology.sh"
trap topo_down EXIT

topo_nat_up 2
sock="/run/${TOPO_PREFIX}/vsd.sock"
cfg="$TOPO_DIR/vsd.toml"
pki="$TOPO_DIR/pki"
mkdir -p "$pki"

# A CA, the site's certificate (www.example.com) and a client certificate.
ossl() { openssl "$@" >/dev/null 2>&1 || fail "openssl $1 failed"; }
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
ossl req -x509 "${ec[@]}" -keyout "$pki/ca.key" -out "$pki/ca.pem" -days 2 -subj "/CN=vsd test CA"
printf 'subjectAltName=DNS:www.example.com\n' >"$pki/site.ext"
ossl req "${ec[@]}" -keyout "$pki/site.key" -out "$pki/site.csr" -subj "/CN=www.example.com"
ossl x509 -req -in "$pki/site.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial -days 2 \
  -extfile "$pki/site.ext" -out "$pki/site.pem"
ossl req "${ec[@]}" -keyout "$pki/client.key" -out "$pki/client.csr" -subj "/CN=vsd health check"
ossl x509 -req -in "$pki/client.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial -days 2 \
  -out "$pki/client.pem"

cat >"$TOPO_DIR/sni_server.py" <<'PY'
import http.server, socketserver, ssl, sys
name, port, pki = sys.argv[1], int(sys.argv[2]), sys.argv[3]
SITE = "www.example.com"
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(pki + "/site.pem", pki + "/site.key")
ctx.load_verify_locations(pki + "/ca.pem")
ctx.verify_mode = ssl.CERT_OPTIONAL
# Name-based: no server name, or another one, and there is no site.
def sni(sock, server_name, context):
    if server_name != SITE:
        return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
    return None
ctx.sni_callback = sni
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        host = (self.headers.get("Host") or "").split(":")[0]
        if host != SITE:
            code, body = 421, "no site " + host
        elif self.path == "/mtls" and not self.connection.getpeercert():
            code, body = 403, "no client certificate"
        else:
            code, body = 200, name
        data = (body + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *args):
        pass
class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The handshake in the request's thread: a slow client blocks no other.
    def finish_request(self, request, client_address):
        request.settimeout(5)
        try:
            tls = ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass
Server(("0.0.0.0", port), Handler).serve_forever()
PY
for i in 1 2; do
  in_rs "$i" python3 "$TOPO_DIR/sni_server.py" "rs$i" 8443 "$pki" &
  echo $! >>"$TOPO_DIR/pids"
done
for i in 1 2; do
  for _ in $(seq 1 50); do
    [ "$(in_rs "$i" ss -Hltn "sport = :8443" | wc -l)" -ge 1 ] && break
    sleep 0.1
  done
done
site() {  # site NODE IP PORT: GET https://www.example.com:PORT/ at IP from NODE's namespace
  in_ns "$1" curl -s --max-time 3 --cacert "$pki/ca.pem" --resolve "www.example.com:$3:$2" \
    "https://www.example.com:$3/" || echo fail
}
# The underlay (from the director, which forwards nothing before vsd runs):
# the servers are name-based.
assert_eq "rs1" "$(site dir 203.0.113.11 8443)" "underlay: rs1 serves www.example.com"
assert_eq "fail" "$(in_director curl -sk --max-time 3 https://203.0.113.11:8443/ || echo fail)" \
  "underlay: rs1 refuses a client hello without its name"

# write_config SERVICE_CHECK_KEYS RS1_CHECK_TABLE RS2_CHECK_TABLE
write_config() {
  cat >"$cfg" <<TOML
[control]
socket = "$sock"

[[service]]
address = "192.0.2.10:443"
scheduler = "rr"
[service.check]
type = "https"
interval = 0.3
timeout = 1
rise = 1
fall = 1
$1
[[service.real]]
address = "203.0.113.11:8443"
$2
[[service.real]]
address = "203.0.113.12:8443"
$3
TOML
  "$VSD_BIN" --check -c "$cfg" >"$TOPO_DIR/check.out" 2>&1 || fail "vsd --check: $(cat "$TOPO_DIR/check.out")"
}

health_of() {  # health_of RIP: "STATE CHECKS LAST_REASON"
  vsadm -L -n --json | python3 -c '
import json, sys
for h in json.load(sys.stdin)["health"]:
    if h["real"].split(":")[0] == sys.argv[1]:
        print(h["state"], h["checks"], h["last_reason"])' "$1"
}
# wait_health RIP STATE: until its state is STATE after a check that began
# after this call (its count of checks grew by two), bounded: 10 s.
wait_health() {
  local start now _
  start=$(health_of "$1" | cut -d' ' -f2)
  for _ in $(seq 1 100); do
    now=$(health_of "$1")
    if [ "$(echo "$now" | cut -d' ' -f1)" = "$2" ] && [ "$(echo "$now" | cut -d' ' -f2)" -ge $((${start:-0} + 2)) ]; then
      return 0
    fi
    sleep 0.1
  done
  fail "real server $1 is not $2 after 10 s: $(health_of "$1")"
}
tally() {  # tally N: N new connections to the VIP, "rs1=a rs2=b fail=c"
  local i a=0 b=0 bad=0
  for i in $(seq 1 "$1"); do
    case "$(site client 192.0.2.10 443)" in rs1) a=$((a + 1)) ;; rs2) b=$((b + 1)) ;; *) bad=$((bad + 1)) ;; esac
  done
  echo "rs1=$a rs2=$b fail=$bad"
}

# (a) Host RIP:PORT and no SNI, as vsd's check was: the site refuses it.
write_config 'path = "/health"' "" ""
start_vsd "$cfg"
for ip in 203.0.113.11 203.0.113.12; do
  wait_health "$ip" down
  h=$(health_of "$ip")
  case "$h" in
    "down "*"TLS handshake"*) echo "ok: (a) $ip without a server name: $h" ;;
    *) fail "(a) $ip: $h" ;;
  esac
done

# (b) The virtual host: Host header and SNI; the CA verifies the site.
write_config "path = \"/health\"
virtualhost = \"www.example.com\"
tls_ca = \"$pki/ca.pem\"" "" ""
vsadm --reload
wait_health 203.0.113.11 up
wait_health 203.0.113.12 up
echo "ok: (b) both up with virtualhost and tls_ca: $(health_of 203.0.113.11)"
assert_eq "rs1=3 rs2=3 fail=0" "$(tally 6)" "(b) clients reach both through the VIP"
write_config "path = \"/health\"
virtualhost = \"www.example.com\"
tls_ca = \"$pki/ca.pem\"" "[service.real.check]
sni = \"\"" ""
vsadm --reload
wait_health 203.0.113.11 down
wait_health 203.0.113.12 up
echo "ok: (b) rs1 with the Host header but no SNI is down: $(health_of 203.0.113.11)"
assert_eq "rs1=0 rs2=4 fail=0" "$(tally 4)" "(b) new connections go to rs2 alone"

# (c) Two URLs, the second needing a client certificate: rs1 presents one.
write_config "virtualhost = \"www.example.com\"
tls_ca = \"$pki/ca.pem\"
url = [{ path = \"/health\" }, { path = \"/mtls\", status = [\"200-299\"] }]" "[service.real.check]
tls_cert = \"$pki/client.pem\"
tls_key = \"$pki/client.key\"" ""
vsadm --reload
wait_health 203.0.113.11 up
wait_health 203.0.113.12 down
h=$(health_of 203.0.113.12)
case "$h" in
  "down "*"/mtls: HTTP status 403"*) echo "ok: (c) rs2 without a client certificate: $h" ;;
  *) fail "(c) rs2: $h" ;;
esac
echo "ok: (c) rs1 with its client certificate: $(health_of 203.0.113.11)"
assert_eq "rs1=4 rs2=0 fail=0" "$(tally 4)" "(c) new connections go to rs1 alone"

stop_vsd
echo "PASS: health_sni_test"
