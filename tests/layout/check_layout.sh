#!/bin/sh
# CTest "layout": the floors of STYLE.md and issue 12 hold.
#  1. No back-edge: a file in storage/ < queue/ < sms/ < events/ < account/
#     < web/ < app/
#     includes (#include "floor/...") only headers of its own floor or lower.
#  2. The account domain knows no HTTP: nothing in account/ includes httplib.
#  3. No source or test file (.h, .cc) is over 800 lines. Build trees (any
#     directory holding a CMakeCache.txt), node_modules and .git are skipped.
# Prints every offence, then fails if there was one.
# Usage: check_layout.sh SOURCE_DIR
set -eu
cd "$1"

floors='storage queue sms events account web app'
max_lines=800

# The rank of a floor (1 = lowest); 0 for anything else.
rank() {
  i=1
  for f in $floors; do
    if [ "$f" = "$1" ]; then
      echo $i
      return
    fi
    i=$((i + 1))
  done
  echo 0
}

failed=0
fail() {
  echo "FAIL: $*"
  failed=1
}

# The pipe runs its loop in a subshell, so the offences are collected as text.
backedges=$(
  for floor in $floors; do
    own=$(rank "$floor")
    for file in $(find "$floor" -type f \( -name '*.h' -o -name '*.cc' \) | sort); do
      # Quoted includes, as "path": floor/... names a header of that floor.
      sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$file" |
        while read -r path; do
          target=${path%%/*}
          [ "$target" = "$path" ] && continue  # no folder: not a floor's header
          if [ "$(rank "$target")" -gt "$own" ]; then
            echo "FAIL: $file includes \"$path\": $target/ is above $floor/"
          fi
        done
    done
  done
)
if [ -n "$backedges" ]; then
  echo "$backedges"
  failed=1
fi

for file in $(grep -rlE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]httplib' account); do
  fail "$file includes httplib: the account domain has no HTTP (that is web/)"
done

for file in $(find . \( -name node_modules -o -name .git -o -name _deps \) -prune -o \
                -type d -exec test -e '{}/CMakeCache.txt' ';' -prune -o \
                -type f \( -name '*.h' -o -name '*.cc' \) -print | sort); do
  lines=$(wc -l <"$file")
  if [ "$lines" -gt "$max_lines" ]; then
    fail "$file has $lines lines (at most $max_lines: split it by what it holds)"
  fi
done

if [ "$failed" -ne 0 ]; then
  exit 1
fi
echo "layout ok: no back-edge among $floors; no httplib in account/; no file over $max_lines lines"
