#!/usr/bin/env bash
# Runs the CTest suite of a sanitizer build (make test-asan, make test-tsan)
# with every sanitizer error fatal. Reports from any process — the test
# binary and the real regd binaries the tests start — go to files under
# BUILD/sanitizer-reports/, which are printed and fail the run even if a
# test did not notice its child dying.
#   sanitized-ctest.sh BUILD JOBS
set -euo pipefail
cd "$(dirname "$0")/.."
build=$1
jobs=${2:-2}
supp=$PWD/tests/sanitizers
reports=$PWD/$build/sanitizer-reports
rm -rf "$reports"
mkdir -p "$reports"

common="halt_on_error=1:log_path=$reports/report"
export ASAN_OPTIONS="$common:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="$common:print_stacktrace=1:suppressions=$supp/ubsan.supp"
# ignore_noninstrumented_modules: see tests/sanitizers/tsan.supp.
export TSAN_OPTIONS="$common:second_deadlock_stack=1:ignore_noninstrumented_modules=1:suppressions=$supp/tsan.supp"

status=0
(cd "$build" && ctest --output-on-failure -j "$jobs") || status=$?

shopt -s nullglob
found=("$reports"/report.*)
if [ ${#found[@]} -gt 0 ]; then
  echo "sanitized-ctest: ${#found[@]} sanitizer report(s) in $reports:"
  for f in "${found[@]}"; do
    echo "=== $f"
    cat "$f"
  done
  status=1
fi
exit $status
