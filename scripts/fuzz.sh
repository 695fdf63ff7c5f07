#!/usr/bin/env bash
# Runs each libFuzzer target of a fuzz build (make fuzz) for a bounded time
# and fails if any finds a crash, a sanitizer report, a leak or a hang.
#   fuzz.sh BUILD [TARGET...]     FUZZ_SECONDS (default 60): total, shared out
#                                 (routes half, the others the rest)
# Each target starts from its checked-in seed corpus (tests/fuzz/corpus/T,
# only read) and a working corpus in BUILD/fuzz-corpus/T that keeps what it
# found across runs. A crashing input is written to BUILD/fuzz-artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
build=$1
shift
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then targets=(routes job_record parsers); fi
total=${FUZZ_SECONDS:-60}

# LMDB and SQLite of the routes target on tmpfs when there is one: a commit's
# fsync there costs nothing, so the fuzzer spends its time on regd's code.
# A directory of this run's own, removed at the end even after a crash.
base=/tmp
if [ -d /dev/shm ] && [ -w /dev/shm ]; then base=/dev/shm; fi
TMPDIR=$(mktemp -d "$base/regd-fuzz.XXXXXX")
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$PWD/tests/sanitizers/ubsan.supp"
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1"

share() {  # seconds for target $1 of the total
  local n=${#targets[@]}
  if [ "$n" -gt 1 ] && [ "$1" = routes ]; then echo $(((total + 1) / 2)); return; fi
  if [ "$n" -gt 1 ] && [[ " ${targets[*]} " == *" routes "* ]]; then
    echo $(((total / 2) / (n - 1) > 0 ? (total / 2) / (n - 1) : 1)); return
  fi
  echo $((total / n > 0 ? total / n : 1))
}

passed=0
failed=0
mkdir -p "$build/fuzz-artifacts"
for t in "${targets[@]}"; do
  bin=$build/tests/fuzz/${t}_fuzzer
  work=$build/fuzz-corpus/$t
  log=$build/fuzz-$t.log
  mkdir -p "$work"
  secs=$(share "$t")
  args=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$build/fuzz-artifacts/$t-")
  if [ -f "tests/fuzz/$t.dict" ]; then args+=(-dict="tests/fuzz/$t.dict"); fi
  echo "fuzz: $t for ${secs}s"
  if "$bin" "${args[@]}" "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    echo "fuzz: $t ok: ${execs:-?} inputs, ${cov:-cov: ?}, corpus $(ls "$work" | wc -l) files"
    passed=$((passed + 1))
  else
    echo "fuzz: $t FAILED (log: $log); the end of its log:"
    tail -n 80 "$log"
    failed=$((failed + 1))
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
