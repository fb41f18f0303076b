#!/usr/bin/env bash
# scripts/common.sh's warn_if_disk_short, which scripts/test.sh calls before building: a warning that names what
# the builds need and what is free when the disk is short, nothing when it is not, and never a failed run.
set -uo pipefail
ROOT="$1"
failures=0
check() {  # check NAME WANT-REGEX GOT
  if [[ "$3" =~ $2 ]]; then echo "ok   $1"; else echo "FAIL $1: got '$3'"; failures=$((failures + 1)); fi
}
short="$(bash -c 'source "$1/scripts/common.sh"; warn_if_disk_short 1000000 build-none; echo "rc=$?"' _ "$ROOT" 2>&1)"
check "short disk: a warning, and the run goes on" \
  '^mesim: warning: the builds need about 1000000 GB in all, 0 GB of it already built, and [0-9]+ GB is free on the disk of .*rc=0$' \
  "$(echo "$short" | tr '\n' ' ' | sed 's/ $//')"
enough="$(bash -c 'source "$1/scripts/common.sh"; warn_if_disk_short 0 build-none; echo "rc=$?"' _ "$ROOT" 2>&1)"
check "enough disk: silent" '^rc=0$' "$enough"
[ "$failures" -eq 0 ]
