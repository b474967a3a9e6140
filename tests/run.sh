#!/usr/bin/env bash
# The test command: builds vsd twice — optimised (build/) and with
# AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/) — and runs
# every unit and netns integration test under both; runs the fuzzers for a
# bounded time; then builds the Debian package and the appliance image and
# runs the VM tests (tests/vm/ci.sh).
# Needs root for the integration tests (network namespaces, nftables,
# NFQUEUE) and the image.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "tests/run.sh: run as root (integration tests build network namespaces)" >&2; exit 1; }
# A fresh machine gets the build and test dependencies first (a no-op when present).
bash .ci/install-deps.sh
jobs=${JOBS:-2}
status=0
for variant in build build-asan; do
  # Compile time is most of the run on 2 cores: the optimised build skips
  # debug info (-O2, ~30% faster to compile), the sanitizer build uses -O1
  # with line tables (-g1: ASan/UBSan reports keep file:line; half the time
  # of -O2 -g).
  extra=(-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -DNDEBUG")
  [ "$variant" = build-asan ] && extra=(-DVSD_SANITIZE=ON -DVSD_BENCH=OFF -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG")
  echo "=== $variant: configure and build"
  cmake -S . -B "$variant" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVSD_WERROR=ON "${extra[@]}" >/dev/null
  ninja -C "$variant" -j "$jobs"
  echo "=== $variant: ctest"
  # ASan must not be fooled by the stack switching of Asio; abort on any report.
  if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      ctest --test-dir "$variant" --output-on-failure -j 1; then
    status=1
  fi
done
# The fuzzers (tests/fuzz, clang-14's libFuzzer with ASan + UBSan): each
# harness replays the inputs that once crashed it, then fuzzes for
# VSD_FUZZ_SECONDS (default 30; tests/fuzz/long.sh runs them longer).
if [ "$status" = 0 ] && [ "${VSD_SKIP_FUZZ:-0}" != 1 ]; then
  echo "=== fuzz: every harness ${VSD_FUZZ_SECONDS:-30} s"
  bash tests/fuzz/run.sh "${VSD_FUZZ_SECONDS:-30}" || status=1
fi
# The appliance: the Debian package, the image, and the VM tests on Debian's
# own kernel (native nft queue, ipip). VSD_SKIP_VM=1 leaves them out.
if [ "$status" = 0 ] && [ "${VSD_SKIP_VM:-0}" != 1 ]; then
  echo "=== appliance: package, image, VM tests"
  bash tests/vm/ci.sh || status=1
fi
if [ "$status" = 0 ]; then echo "tests/run.sh: all tests passed (build, build-asan, fuzz, appliance VM)"; else echo "tests/run.sh: FAILURES (see above)"; fi
exit "$status"
