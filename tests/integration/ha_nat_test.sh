#!/usr/bin/env bash
# A VS-NAT director pair (README "A director pair"): keepalived moves the
# VIP and the real servers' gateway as one sync group, conntrackd carries
# the NAT flows' conntrack entries (marks included), vsd's sync carries its
# connection table and persistence templates. A running 20 MiB download
# and an idle connection survive a hard failure of the master and the
# failback; the VIP answers within 3 s; every client keeps its real server.
set -euo pipefail
cd "$(dirname "$0")/../.."
TOPO_PREFIX=vsdhan$$
source tests/integration/lib/topology.sh
source tests/integration/lib/ha_pair.sh
trap topo_down EXIT

ha_pair_up nat
ha_wait_roles 1 2
echo "ok: d1 is master, d2 backup: $(ha_vsadm 1 -L --daemon) / $(ha_vsadm 2 -L --daemon)"
grep -q "HA: this director is MASTER (keepalived: " "$TOPO_DIR/vsd-d1.log" || fail "d1's log does not say why it is master"
ha_persist_baseline 2

fail_d1() { ha_kill 1; }
ha_switch fail_d1 1 2 "hard failure of the master"
grep "HA: this director is MASTER" "$TOPO_DIR/vsd-d2.log" | tail -n 1 | sed 's/^/    d2: /'

# Failback: d1 comes back as backup, takes d2's table, and (preempt) takes
# over again after its preempt delay: a planned switch that drops nothing.
ha_revive 1
ha_wait_roles 2 1
echo "ok: d1 is back as backup"
fail_back() { ha_wait_roles 1 2 30; }
ha_switch fail_back 2 1 "failback to d1"
# Same file on both: the decision fingerprints in the sync datagrams agree.
for n in 1 2; do
  if grep -q "numbers its (service, real server) pairs differently" "$TOPO_DIR/vsd-d$n.log"; then
    fail "d$n logged differing decision numbers with the same configuration: $(grep 'pairs differently' "$TOPO_DIR/vsd-d$n.log" | head -1)"
  fi
done
echo "ok: both directors number their (service, real server) pairs alike (no fingerprint mismatch logged)"
