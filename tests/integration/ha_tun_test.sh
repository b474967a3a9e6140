#!/usr/bin/env bash
# A VS-TUN director pair (README "A director pair"): keepalived moves the
# VIP; the TUN flows live in the master's kernel flow table, which no
# conntrackd carries, so vsd's own sync gives the backup every connection
# and persistence template. A running 20 MiB download (real server to
# client, straight) and an idle connection survive a hard failure of the
# master and the failback; the VIP answers within 3 s; every client keeps
# its real server.
set -euo pipefail
cd "$(dirname "$0")/../.."
TOPO_PREFIX=vsdhat$$
source tests/integration/lib/topology.sh
source tests/integration/lib/ha_pair.sh
trap topo_down EXIT

ha_pair_up tun
ha_wait_roles 1 2
echo "ok: d1 is master, d2 backup: $(ha_vsadm 1 -L --daemon) / $(ha_vsadm 2 -L --daemon)"
ha_persist_baseline 2

fail_d1() { ha_kill 1; }
ha_switch fail_d1 1 2 "hard failure of the master"
grep "HA: this director is MASTER" "$TOPO_DIR/vsd-d2.log" | tail -n 1 | sed 's/^/    d2: /'
# The backup had scheduled nothing itself: its counts are the master's flows.
echo "ok: d2's table after the takeover:"
ha_vsadm 2 -L -n | sed 's/^/    /'

ha_revive 1
ha_wait_roles 2 1
echo "ok: d1 is back as backup"
fail_back() { ha_wait_roles 1 2 30; }
ha_switch fail_back 2 1 "failback to d1"
