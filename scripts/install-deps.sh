#!/usr/bin/env bash
# Installs the Debian packages regd needs to build and test. Idempotent: apt-get
# runs only when a package is missing. Needs root (or sudo) on Debian 12.
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config libcpp-httplib-dev libssl-dev zlib1g-dev
  libsqlite3-dev liblmdb-dev nlohmann-json3-dev libsodium-dev ca-certificates)
test_pkgs=(catch2 curl)

want=("${build_pkgs[@]}")
if [ "${1:-}" = "--test" ]; then want+=("${test_pkgs[@]}"); fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
