#!/usr/bin/env bash
# Builds the libFuzzer harnesses (build-fuzz/, clang, -DVSD_FUZZ=ON) once
# and runs every one for SECONDS (default 60), N at a time (default: one per
# core). First each harness replays tests/fuzz/regressions/<name>/ (inputs
# that once crashed it), then it fuzzes from its seeds (tests/fuzz/corpus/
# <name>/, read only) into a working corpus kept in build-fuzz/fuzz-corpus/.
# Prints per harness: executions, coverage (libFuzzer's cov = edges, ft =
# features), corpus size and crashes; exits 1 if any harness crashed, with
# the crash's report and the saved input (build-fuzz/fuzz-artifacts/).
#
#   tests/fuzz/run.sh [SECONDS] [--jobs N] [--only NAME[,NAME...]] [--markdown]
#
# CI: tests/fuzz/run.sh 60 (8 harnesses on 2 cores: about 4 min plus the
# build). Longer runs: tests/fuzz/long.sh. Needs clang-14 and
# libclang-rt-14-dev (.ci/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=60
jobs=$(nproc)
only=""
markdown=0
while [ $# -gt 0 ]; do
  case "$1" in
    --jobs) jobs="$2"; shift 2 ;;
    --jobs=*) jobs="${1#*=}"; shift ;;
    --only) only="$2"; shift 2 ;;
    --markdown) markdown=1; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    [0-9]*) seconds="$1"; shift ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

harnesses=(packet engine config control vsadm rtnl kstate queue)
if [ -n "$only" ]; then IFS=, read -r -a harnesses <<< "$only"; fi

build=${VSD_FUZZ_BUILD:-build-fuzz}
start=$(date +%s)
if [ ! -f "$build/build.ninja" ]; then
  mkdir -p "$build"
  cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DVSD_FUZZ=ON -DVSD_TESTS=OFF -DVSD_BENCH=OFF > "$build/configure.log" 2>&1 ||
    { cat "$build/configure.log"; exit 1; }
fi
targets=()
for name in "${harnesses[@]}"; do targets+=("${name}_fuzz"); done
ninja -C "$build" "${targets[@]}" > "$build/fuzz-build.log" 2>&1 || { tail -50 "$build/fuzz-build.log"; exit 1; }
echo "fuzz: built ${#harnesses[@]} harnesses in $(( $(date +%s) - start )) s; ${seconds} s each, ${jobs} at a time"

logs="$build/fuzz-logs"
arts="$build/fuzz-artifacts"
mkdir -p "$logs" "$arts"

run_one() {
  local name=$1 bin="$build/tests/fuzz/${name}_fuzz" work="$build/fuzz-corpus/$name"
  local seeds="tests/fuzz/corpus/$name" regress="tests/fuzz/regressions/$name"
  local dict=() log="$logs/$name.log"
  mkdir -p "$work"
  rm -f "$arts/$name"-*
  [ -f "tests/fuzz/$name.dict" ] && dict=(-dict="tests/fuzz/$name.dict")
  : > "$log"
  if [ -d "$regress" ] && [ -n "$(ls -A "$regress")" ]; then
    if ! "$bin" -runs=0 "$regress"/* >> "$log" 2>&1; then
      echo "REGRESSION" >> "$log"
      return 0
    fi
  fi
  # -timeout: an input slower than 10 s is a hang (a crash); -rss_limit_mb:
  # so is a run above 2 GB.
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$arts/$name-" "${dict[@]}" "$work" "$seeds" >> "$log" 2>&1 || true
}

for name in "${harnesses[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  run_one "$name" &
done
wait

failed=0
rows=()
for name in "${harnesses[@]}"; do
  log="$logs/$name.log"
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
  rate=""
  [ -n "$execs" ] && rate=$(( execs / seconds ))
  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<< "$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p' <<< "$last")
  crashes=$(find "$arts" -name "$name-*" -type f | wc -l)
  if grep -q '^REGRESSION$' "$log"; then crashes="regression"; fi
  if [ "$crashes" != 0 ] || [ -z "$execs" ]; then failed=1; fi
  rows+=("$name|${execs:-?}|${rate:-?}|${cov:-?}|${ft:-?}|${corp:-?}|${crashes}")
done

if [ "$markdown" = 1 ]; then
  echo
  echo "| harness | seconds | executions | exec/s | cov (edges) | ft (features) | corpus (inputs/bytes) | crashes |"
  echo "|---|---|---|---|---|---|---|---|"
  for r in "${rows[@]}"; do
    IFS='|' read -r n e x c f p k <<< "$r"
    echo "| $n | $seconds | $e | $x | $c | $f | $p | $k |"
  done
else
  printf '%-8s %12s %8s %7s %8s %14s %8s\n' harness executions exec/s cov ft corpus crashes
  for r in "${rows[@]}"; do
    IFS='|' read -r n e x c f p k <<< "$r"
    printf '%-8s %12s %8s %7s %8s %14s %8s\n' "$n" "$e" "$x" "$c" "$f" "$p" "$k"
  done
fi

if [ "$failed" = 1 ]; then
  for name in "${harnesses[@]}"; do
    log="$logs/$name.log"
    if grep -qE '^REGRESSION$|ERROR: |FUZZ_CHECK failed|runtime error' "$log" || [ -n "$(find "$arts" -name "$name-*" -type f)" ]; then
      echo
      echo "=== $name: $log"
      grep -E -A30 'FUZZ_CHECK failed|runtime error|ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)' "$log" | head -60
      find "$arts" -name "$name-*" -type f -printf 'saved input: %p\n'
    fi
  done
  echo "fuzz: FAILED (reproduce: $build/tests/fuzz/NAME_fuzz INPUT)"
  exit 1
fi
echo "fuzz: no crash in $(( $(date +%s) - start )) s"
