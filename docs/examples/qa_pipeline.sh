#!/usr/bin/env bash
# A CI job as docs/guide-qa-docker.md describes it: a fresh mesim container on the manual firmware clock, the
# system under test beside it (here the example alert subscriber; in your pipeline, your console or event sink),
# the shipped scenarios run by mesimctl, a JUnit report, and the containers removed whatever happened.
#
#   docs/examples/qa_pipeline.sh [OUT_DIR]        exit status: 0 every scenario passed, 1 one failed, 2+ trouble
#
# Images: MESIM_IMAGE (default mesim:latest) and SUBSCRIBER_IMAGE (default mesim-alert-subscriber:latest), built
# by `docker build -f docker/Dockerfile [--target alert-subscriber] ...` or scripts/docker-test.sh. The
# containers need no privileges and no published port: mesim has a network namespace of its own (loopback only)
# and the subscriber joins it. scripts/docker-test.sh runs this script as one of its checks.
set -euo pipefail

OUT="${1:-qa-results}"
MESIM_IMAGE="${MESIM_IMAGE:-mesim:latest}"
SUBSCRIBER_IMAGE="${SUBSCRIBER_IMAGE:-mesim-alert-subscriber:latest}"
DOCKER="${DOCKER:-docker}"
JOB="qa-$$"
SCENARIOS=(host-crash-alert.yaml subscriber-down-up.yaml)
mkdir -p "$OUT"

cleanup() {
  "$DOCKER" logs "$JOB-mesim" >"$OUT/mesim.log" 2>&1 || true
  "$DOCKER" rm -f "$JOB-mesim" "$JOB-subscriber" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# 1. mesim: a fresh state (no volume: the container's own), firmware time standing still until a scenario moves it.
"$DOCKER" run -d --name "$JOB-mesim" --network none --cap-drop ALL --security-opt no-new-privileges \
  -e MESIM_CLOCK=manual "$MESIM_IMAGE" >/dev/null
"$DOCKER" exec "$JOB-mesim" mesimctl health --wait 60 >/dev/null

# 2. The system under test: subscribes to every alert over WS-Man, then logs what is pushed to it.
"$DOCKER" run -d --name "$JOB-subscriber" --network "container:$JOB-mesim" \
  -e MESIM_WSMAN_URL=http://127.0.0.1:16992/wsman -e NOTIFY_TO=http://127.0.0.1:8080/cgi-bin/alert \
  "$SUBSCRIBER_IMAGE" >/dev/null
for _ in $(seq 1 300); do
  "$DOCKER" exec "$JOB-subscriber" test -f /tmp/subscribed 2>/dev/null && break
  sleep 0.2
done
"$DOCKER" exec "$JOB-subscriber" test -f /tmp/subscribed || { echo "the subscriber did not subscribe" >&2; exit 2; }

# 3. The cases, with the verdict as the exit status and JUnit XML for the dashboard.
paths=()
for s in "${SCENARIOS[@]}"; do paths+=("/usr/local/share/mesim/scenarios/$s"); done
status=0
"$DOCKER" exec "$JOB-mesim" mesimctl scenario run "${paths[@]}" --junit /tmp/results.xml --limit 120 \
  | tee "$OUT/scenarios.txt" || status=$?
"$DOCKER" cp "$JOB-mesim:/tmp/results.xml" "$OUT/results.xml" >/dev/null || status=$((status ? status : 2))

# 4. What the subscriber received, for the job's artefacts.
"$DOCKER" exec "$JOB-subscriber" cat /var/log/alerts/alerts.log >"$OUT/alerts.log" 2>/dev/null || true
exit "$status"
