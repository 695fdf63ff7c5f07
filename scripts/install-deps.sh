#!/usr/bin/env bash
# Installs what regd needs from Debian's packages. Idempotent: apt-get runs
# only when something is missing. Needs root (or sudo) on Debian 12.
#   install-deps.sh          build and run
#   install-deps.sh --test   also the test suite: Catch2, Chromium, Node.js + npm,
#                            and the browser tests' npm packages (tests/e2e)
#   install-deps.sh --bench  also the benchmark suite's load tool: wrk (make bench)
#   install-deps.sh --fuzz   also clang and libFuzzer (make fuzz). libFuzzer
#                            (libclang_rt.fuzzer*.a) ships in libclang-rt-14-dev;
#                            clang pulls it in today, named so it stays so
set -euo pipefail
cd "$(dirname "$0")/.."

build_pkgs=(build-essential cmake pkg-config libcpp-httplib-dev libssl-dev zlib1g-dev
  libsqlite3-dev liblmdb-dev nlohmann-json3-dev libsodium-dev ca-certificates)
test_pkgs=(catch2 curl chromium fonts-wqy-microhei nginx)
bench_pkgs=(wrk)
fuzz_pkgs=(clang libclang-rt-14-dev)

testing=0
benching=0
fuzzing=0
if [ "${1:-}" = "--test" ]; then testing=1; fi
if [ "${1:-}" = "--bench" ]; then benching=1; fi
if [ "${1:-}" = "--fuzz" ]; then fuzzing=1; fi

want=("${build_pkgs[@]}")
if [ $benching = 1 ]; then want+=("${bench_pkgs[@]}"); fi
if [ $fuzzing = 1 ]; then want+=("${fuzz_pkgs[@]}"); fi
if [ $testing = 1 ]; then
  want+=("${test_pkgs[@]}")
  # Node.js may come from Debian (nodejs + npm) or elsewhere with npm bundled;
  # install Debian's only when the command is missing.
  command -v node >/dev/null 2>&1 || want+=(nodejs)
  command -v npm >/dev/null 2>&1 || want+=(npm)
fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # nginx is for the reverse-proxy test, which runs its own: keep the
  # package from starting (and enabling) the system's nginx on port 80.
  # policy-rc.d answering 101 is Debian's way to install without starting.
  policy=""
  if [[ " ${missing[*]} " == *" nginx "* ]] && [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
  fi
  status=0
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" || status=$?
  if [ -n "$policy" ]; then
    $SUDO rm -f "$policy"
    if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable nginx >/dev/null 2>&1 || true; fi
  fi
  [ $status = 0 ] || exit $status
fi

# The browser tests' packages (playwright-core drives Debian's chromium; it
# never downloads a browser). npm ci only when the lock file changed.
if [ $testing = 1 ]; then
  stamp=tests/e2e/node_modules/.installed-lock
  if [ ! -f "$stamp" ] || ! cmp -s tests/e2e/package-lock.json "$stamp"; then
    echo "install-deps: npm ci in tests/e2e"
    (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
    cp tests/e2e/package-lock.json "$stamp"
  fi
fi
