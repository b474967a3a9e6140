#!/usr/bin/env bash
# A VS-TUN director pair (README "A director pair"): keepalived moves the
# VIP; vsd's sync gives the backup every connection and persistence
# template. A running 20 MiB download (real server to client, straight) and
# an idle connection survive a hard failure of the master and the failback;
# the VIP answers within 3 s; every client keeps its real server.
set -euo pipefail
cd "$(dirname "$0")/../.."
TOPO_PREFIX=vsdhat$$
source tests/integration/lib/topology.sh
source tests/integration/lib/ha_pair.sh
trap topo_down EXIT

ha_direct_scenario tun
