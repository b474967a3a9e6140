#!/usr/bin/env bash
# The fuzzers for longer than CI runs them: every harness for SECONDS
# (default 900, 15 min), one per core at a time, from the working corpus
# the earlier runs left in build-fuzz/fuzz-corpus/ (so runs add up), and a
# Markdown table for the README: executions, exec/s, coverage, corpus,
# crashes. Any crash fails it, as in CI.
#
#   tests/fuzz/long.sh [SECONDS] [--jobs N] [--only NAME[,NAME...]]
set -euo pipefail
seconds=900
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    [0-9]*) seconds="$1"; shift ;;
    *) args+=("$1"); shift ;;
  esac
done
start=$(date -u +%Y-%m-%dT%H:%MZ)
echo "fuzz long run: $seconds s per harness, started $start on $(nproc) cores ($(uname -r))"
exec "$(dirname "$0")/run.sh" "$seconds" --markdown "${args[@]}"
