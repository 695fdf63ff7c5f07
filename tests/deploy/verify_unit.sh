#!/bin/sh
# CTest "systemd_unit": checks deploy/regd.service with `systemd-analyze
# verify` (any message fails) and that it keeps the settings README.md
# promises. verify insists that ExecStart's program exists, so a copy of the
# unit runs the regd binary of this build. Exit 77 (CTest: skipped) where
# systemd-analyze is not installed.
# Usage: verify_unit.sh UNIT REGD_BINARY
set -eu
unit=$1
binary=$2

for setting in 'User=regd' 'StateDirectory=regd' 'ProtectSystem=strict' 'NoNewPrivileges=yes' \
    'PrivateTmp=yes' 'ProtectHome=yes' 'Restart=on-failure' \
    'ExecStart=/usr/local/bin/regd --config /etc/regd/regd.conf --data-dir /var/lib/regd' \
    'ExecReload=/bin/kill -HUP $MAINPID'; do
  if ! grep -qxF -- "$setting" "$unit"; then
    echo "FAIL: $unit lacks the line: $setting"
    exit 1
  fi
done

if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "systemd-analyze not found: systemd-analyze verify skipped"
  exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sed "s#/usr/local/bin/regd#$binary#g" "$unit" >"$dir/regd.service"
if ! out=$(systemd-analyze verify "$dir/regd.service" 2>&1); then
  echo "FAIL: systemd-analyze verify:"
  echo "$out"
  exit 1
fi
if [ -n "$out" ]; then
  echo "FAIL: systemd-analyze verify has remarks:"
  echo "$out"
  exit 1
fi
echo "systemd-analyze verify: $unit is clean"
