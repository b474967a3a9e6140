#!/usr/bin/env bash
# Regenerates the committed seed corpora (tests/fuzz/corpus/): packets,
# NFQUEUE messages and engine scripts from fuzz_corpus_gen (built with
# tests/unit/packet_builder.hpp), and rtnetlink / conntrack / nftables
# answers captured from the kernel in a private network namespace
# (capture_netlink.py; needs root). config/, control/ and vsadm/ seeds are
# written by hand (etc/*.toml, sample requests and replies, ipvsadm lines).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${VSD_FUZZ_BUILD:-build-fuzz}
[ -f "$build/build.ninja" ] || cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 \
  -DVSD_FUZZ=ON -DVSD_TESTS=OFF -DVSD_BENCH=OFF > /dev/null
ninja -C "$build" fuzz_corpus_gen > /dev/null
rm -rf tests/fuzz/corpus/{packet,queue,engine,rtnl,kstate}
"$build/tests/fuzz/fuzz_corpus_gen" tests/fuzz/corpus
unshare -n python3 tests/fuzz/capture_netlink.py tests/fuzz/corpus
cp etc/*.toml tests/fuzz/corpus/config/
du -sh tests/fuzz/corpus/*
