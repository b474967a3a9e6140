#!/usr/bin/env bash
# Installs everything vsd builds, tests, demos and benchmarks with, from
# Debian 12's archive. Idempotent: a machine that has it all skips apt.
set -euo pipefail
pkgs=(
  build-essential cmake ninja-build pkg-config
  libnetfilter-queue-dev libnetfilter-conntrack-dev libmnl-dev libnftnl-dev libnftables-dev
  libboost-dev libtomlplusplus-dev
  libgtest-dev libgmock-dev libbenchmark-dev libspdlog-dev libcli11-dev nlohmann-json3-dev libssl-dev libpopt-dev libsystemd-dev
  nftables conntrack iptables iproute2 procps busybox curl socat iperf3 wrk tcpdump arping ndisc6
  ca-certificates python3
  keepalived conntrackd bird2
  clang-14 libclang-rt-14-dev
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # keepalived, conntrackd and bird2 are for the pair and scale-out tests, which run their own
  # in namespaces: their packages must not start the system's copies.
  policy=/usr/sbin/policy-rc.d
  created_policy=
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    created_policy=1
  fi
  status=0
  apt-get install -y -qq --no-install-recommends "${missing[@]}" || status=$?
  if [ -n "$created_policy" ]; then rm -f "$policy"; fi
  [ "$status" = 0 ] || exit "$status"
fi
