#!/usr/bin/env bash
# docker/mesim-entrypoint: the shard number of a replica and so its first device, as Swarm (task slot), Kubernetes
# (the pod's host name) and an explicit setting give it (docs/fleet.md, "Shards"). A stand-in `mesim` prints what
# it would have started with; a stand-in `hostname` plays the container's name.
set -euo pipefail
ROOT="$1"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
printf '#!/bin/sh\necho "first=${MESIM_FLEET_FIRST_INDEX:-unset} args=$*"\n' >"$WORK/mesim"
printf '#!/bin/sh\necho "$FAKE_HOSTNAME"\n' >"$WORK/hostname"
chmod +x "$WORK/mesim" "$WORK/hostname"

failures=0
expect() {  # expect WANT [VAR=VALUE...] : the entrypoint's output with that environment
  local want="$1" got
  shift
  got="$(env -i PATH="$WORK:/usr/bin:/bin" FAKE_HOSTNAME=abc123 "$@" sh "$ROOT/docker/mesim-entrypoint" --log-level warn 2>/dev/null)" || got="exit $?"
  if [ "$got" = "$want" ]; then echo "ok   $* -> $got"; else echo "FAIL $* -> '$got', want '$want'"; failures=$((failures + 1)); fi
}
expect "first=unset args=--log-level warn"                                    # no fleet: mesim as it is
expect "first=1 args=--log-level warn" MESIM_FLEET=1000                        # a container without a shard number
expect "first=3001 args=--log-level warn" MESIM_FLEET=1000 FAKE_HOSTNAME=mesim-fleet-3   # StatefulSet pod 3
expect "first=1 args=--log-level warn" MESIM_FLEET=1000 FAKE_HOSTNAME=mesim-fleet-0
expect "first=201 args=--log-level warn" MESIM_FLEET=100 MESIM_SHARD_SLOT=3    # Swarm task slot 3 (from 1)
expect "first=1 args=--log-level warn" MESIM_FLEET=100 'MESIM_SHARD_SLOT={{.Task.Slot}}'  # compose: no slot
expect "first=501 args=--log-level warn" MESIM_FLEET=100 MESIM_SHARD=5 MESIM_SHARD_SLOT=1
expect "first=42 args=--log-level warn" MESIM_FLEET=100 MESIM_FLEET_FIRST_INDEX=42 FAKE_HOSTNAME=x-7  # given: kept
expect "exit 2" MESIM_FLEET=many
[ "$failures" -eq 0 ]
