#!/usr/bin/env bash
# Builds the Docker images of docker/Dockerfile and checks them end to end in containers: the health check,
# WS-Man Get with Digest, MEI through FUSE inside the container, MEI through the preload library in a container
# without privileges, and a crash alert reaching the alert-subscriber container.
#
# As root it installs docker.io and debootstrap from Debian when missing, starts dockerd when none runs (and stops
# it again at the end), and builds the base image with debootstrap + `docker import` when it cannot be pulled
# (once per machine: it stays in Docker's image store as $MESIM_LOCAL_BASE_IMAGE). Where no Docker daemon can be
# reached or started it says so and exits 0, claiming nothing.
#
# The containers talk only over loopback: mesim runs in a network namespace of its own (--network none) and the
# subscriber joins it (--network container:...); image builds use the host's network for apt.
#
# Environment: MESIM_BASE_IMAGE (default debian:bookworm-slim), MESIM_LOCAL_BASE_IMAGE (the debootstrap
# fallback's tag, default mesim-local/debian:bookworm), MESIM_DOCKER_WORK (logs; default build-docker/).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$MESIM_ROOT"

WORK="${MESIM_DOCKER_WORK:-$MESIM_ROOT/build-docker}"
BASE_IMAGE="${MESIM_BASE_IMAGE:-debian:bookworm-slim}"
LOCAL_BASE_IMAGE="${MESIM_LOCAL_BASE_IMAGE:-mesim-local/debian:bookworm}"
RUNTIME_IMAGE=mesim:latest
E2E_IMAGE=mesim:e2e
SUBSCRIBER_IMAGE=mesim-alert-subscriber:latest
PASSWORD='P@ssw0rd'
SUFFIX="$$"
FUSE_CT="mesim-e2e-fuse-$SUFFIX"
SUBSCRIBER_CT="mesim-e2e-subscriber-$SUFFIX"
PRELOAD_CT="mesim-e2e-preload-$SUFFIX"
mkdir -p "$WORK"

say() { echo "docker-test: $*" >&2; }
START=$SECONDS
step_start=$SECONDS
step() {
  say "== $* (at $((SECONDS - START)) s)"
  step_start=$SECONDS
}
took() { echo "$((SECONDS - step_start)) s"; }

# The end when no daemon can be had: said plainly, exit 0, no pass line.
no_docker() {
  say "NOT RUN: $*"
  say "no Docker check was made; nothing is claimed"
  exit 0
}

# --- Docker: installed, a daemon reachable ------------------------------------------------------------------

DOCKER=docker
DOCKERD_PID=""
cleanup() {
  if [ -n "${DOCKER_READY:-}" ]; then
    "$DOCKER" rm -f "$FUSE_CT" "$SUBSCRIBER_CT" "$PRELOAD_CT" >/dev/null 2>&1 || true
    if [ -n "${SWARM_STACK:-}" ]; then
      "$DOCKER" stack rm "$SWARM_STACK" >/dev/null 2>&1 || true
      # The stack's containers and network go asynchronously; its volumes stay unless removed.
      for _ in $(seq 1 100); do
        [ -z "$("$DOCKER" ps -aq --filter "label=com.docker.stack.namespace=$SWARM_STACK")" ] && break
        sleep 0.3
      done
      "$DOCKER" volume rm "${SWARM_STACK}_fleet-state" "${SWARM_STACK}_mesim-state" >/dev/null 2>&1 || true
    fi
    [ -n "${SWARM_MADE:-}" ] && "$DOCKER" swarm leave --force >/dev/null 2>&1 || true
  fi
  if [ -n "$DOCKERD_PID" ]; then
    kill "$DOCKERD_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.2; done
  fi
}
trap cleanup EXIT

step "Docker"
compose_available() { docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null; }
if [ "$(id -u)" -eq 0 ]; then
  # Debian's packages, each only when nothing else provides it (a docker-ce install conflicts with docker.io).
  # Compose only validates docker/compose.yaml: the end-to-end run uses plain containers.
  wanted=()
  command -v dockerd >/dev/null || wanted+=(docker.io)
  command -v debootstrap >/dev/null || wanted+=(debootstrap)
  compose_available || wanted+=(docker-compose)
  [ ${#wanted[@]} -eq 0 ] || ensure_packages "${wanted[@]}"
elif ! command -v docker >/dev/null; then
  no_docker "docker is not installed and this user cannot install it (run as root)"
fi
if ! "$DOCKER" info >/dev/null 2>&1; then
  [ "$(id -u)" -eq 0 ] || no_docker "no Docker daemon is reachable and this user cannot start one"
  command -v dockerd >/dev/null || no_docker "dockerd is not installed"
  # No default bridge and no iptables rules: every container here uses loopback only, builds use the host's
  # network, and the machine's firewall stays as it was.
  say "starting dockerd (log: $WORK/dockerd.log)"
  dockerd --bridge=none --iptables=false >"$WORK/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  for _ in $(seq 1 150); do
    "$DOCKER" info >/dev/null 2>&1 && break
    kill -0 "$DOCKERD_PID" 2>/dev/null || break
    sleep 0.2
  done
  if ! "$DOCKER" info >/dev/null 2>&1; then
    tail -n 20 "$WORK/dockerd.log" >&2
    no_docker "dockerd could not be started here (log above)"
  fi
fi
DOCKER_READY=1
say "Docker daemon $("$DOCKER" version -f '{{.Server.Version}}' 2>/dev/null) ready ($(took))"

# --- The base image --------------------------------------------------------------------------------------------

# The Debian mirror this machine's apt uses (none found: debootstrap's default).
host_debian_mirror() {
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources
    return 0
  fi
  [ -f /etc/apt/sources.list ] && awk '$1 == "deb" && $2 !~ /^\[/ {print $2; exit} $1 == "deb" {print $3; exit}' /etc/apt/sources.list
}

# Debian bookworm (minbase) from the machine's mirror, with the machine's apt sources and Acquire settings so that
# apt inside the image reaches what apt here reaches; trimmed like the official slim image.
build_local_base_image() {
  local rootfs="$WORK/debootstrap-rootfs" mirror
  mirror="$(host_debian_mirror || true)"
  rm -rf "$rootfs"
  say "debootstrap bookworm (minbase) from ${mirror:-the default mirror} (log: $WORK/debootstrap.log)"
  debootstrap --variant=minbase bookworm "$rootfs" ${mirror:+"$mirror"} >"$WORK/debootstrap.log" 2>&1 \
    || { tail -n 20 "$WORK/debootstrap.log" >&2; return 1; }
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    cp /etc/apt/sources.list.d/debian.sources "$rootfs/etc/apt/sources.list.d/"
    rm -f "$rootfs/etc/apt/sources.list"
  fi
  local conf
  for conf in /etc/apt/apt.conf.d/*; do
    grep -qE '^[[:space:]]*Acquire::(http|https|Check-Valid-Until|Check-Date)' "$conf" 2>/dev/null && cp "$conf" "$rootfs/etc/apt/apt.conf.d/"
  done
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/excludes" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  find "$rootfs/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete
  rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/var/cache/apt/*.bin \
    "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log
  find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
  tar -C "$rootfs" --numeric-owner -c . | "$DOCKER" import --change 'CMD ["bash"]' - "$LOCAL_BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
}

# A base image debootstrapped long ago lags the archive's point releases: installing on top of it upgrades its
# core packages inside the build, which has failed (dpkg exit 1) where a fresh base installs cleanly. Rebuild it
# once it is older than MESIM_BASE_IMAGE_MAX_DAYS (7).
local_base_image_is_fresh() {
  local created age_days
  created="$("$DOCKER" image inspect -f '{{.Created}}' "$LOCAL_BASE_IMAGE" 2>/dev/null)" || return 1
  age_days=$(( ($(date +%s) - $(date -d "$created" +%s 2>/dev/null || echo 0)) / 86400 ))
  if [ "$age_days" -gt "${MESIM_BASE_IMAGE_MAX_DAYS:-7}" ]; then
    say "$LOCAL_BASE_IMAGE is $age_days days old: rebuilding it"
    return 1
  fi
}

step "Base image"
if "$DOCKER" image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  say "$BASE_IMAGE is here"
elif "$DOCKER" image inspect "$LOCAL_BASE_IMAGE" >/dev/null 2>&1 && { local_base_image_is_fresh || [ "$(id -u)" -ne 0 ]; }; then
  say "$BASE_IMAGE is not here; using $LOCAL_BASE_IMAGE, built earlier on this machine"
  BASE_IMAGE="$LOCAL_BASE_IMAGE"
elif timeout 120 "$DOCKER" pull -q "$BASE_IMAGE" >"$WORK/pull.log" 2>&1; then
  say "pulled $BASE_IMAGE"
else
  say "cannot pull $BASE_IMAGE ($(tail -n 1 "$WORK/pull.log")); building $LOCAL_BASE_IMAGE"
  [ "$(id -u)" -eq 0 ] || { say "FAIL: building the base image needs root (debootstrap)"; exit 1; }
  build_local_base_image || { say "FAIL: the base image could not be built"; exit 1; }
  BASE_IMAGE="$LOCAL_BASE_IMAGE"
fi
say "base image $BASE_IMAGE ($(took))"

# --- Build -----------------------------------------------------------------------------------------------------

# BuildKit (for the ccache and apt cache mounts) through buildx, or the classic client's built-in BuildKit
# (Debian's docker.io). Without it, the legacy builder gets the Dockerfile without the mounts.
step "Build"
BUILDKIT=0
DOCKERFILE=docker/Dockerfile
buildkit_probe() {
  printf 'FROM %s\nRUN --mount=type=cache,target=/probe-cache true\n' "$BASE_IMAGE" \
    | DOCKER_BUILDKIT=1 "$1" build --network host -q - >/dev/null 2>&1
}
for client in docker /usr/bin/docker; do
  command -v "$client" >/dev/null || continue
  if buildkit_probe "$client"; then
    DOCKER="$client"
    BUILDKIT=1
    break
  fi
done
if [ "$BUILDKIT" -eq 0 ]; then
  say "BuildKit is not available: the legacy builder, without cache mounts (every source change rebuilds all)"
  DOCKERFILE="$WORK/Dockerfile.legacy"
  sed -E 's/--mount=[^ ]+ //g' docker/Dockerfile >"$DOCKERFILE"
fi
: >"$WORK/build.log"
build_target() {
  local target="$1" tag="$2" progress=()
  [ "$BUILDKIT" -eq 1 ] && progress=(--progress=plain)
  echo "=== $target -> $tag" >>"$WORK/build.log"
  DOCKER_BUILDKIT=$BUILDKIT "$DOCKER" build "${progress[@]}" --network host -f "$DOCKERFILE" \
    --build-arg BASE_IMAGE="$BASE_IMAGE" --target "$target" -t "$tag" . >>"$WORK/build.log" 2>&1
}
for target_and_tag in "runtime=$RUNTIME_IMAGE" "e2e=$E2E_IMAGE" "alert-subscriber=$SUBSCRIBER_IMAGE"; do
  target="${target_and_tag%%=*}"
  if ! build_target "$target" "${target_and_tag#*=}"; then
    tail -n 60 "$WORK/build.log" >&2
    say "FAIL: docker build --target $target (log: $WORK/build.log)"
    exit 1
  fi
done
grep -hoE '(runtime packages: [a-z].*|ccache: [0-9].*)' "$WORK/build.log" | sort -u | sed 's/^/docker-test:   /' >&2 || true
say "built $RUNTIME_IMAGE ($("$DOCKER" image inspect -f '{{.Size}}' "$RUNTIME_IMAGE" | awk '{printf "%.0f MB", $1/1e6}')), $E2E_IMAGE, $SUBSCRIBER_IMAGE with BuildKit=$BUILDKIT ($(took))"

# --- End to end --------------------------------------------------------------------------------------------------

PASSED=()
FAILED=()
SKIPPED=()
pass() { PASSED+=("$1"); say "PASS $1${2:+: $2}"; }
fail() { FAILED+=("$1"); say "FAIL $1${2:+: $2}"; }
skip() { SKIPPED+=("$1"); say "SKIP $1${2:+: $2}"; }

# wait_for SECONDS COMMAND...: true once COMMAND succeeds.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}
health_of() { "$DOCKER" inspect -f '{{.State.Health.Status}}' "$1" 2>/dev/null; }
is_healthy() { [ "$(health_of "$1")" = healthy ]; }
running() { [ "$("$DOCKER" inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" = true ]; }
# in_netns COMMAND...: run in the subscriber container, which shares mesim's network namespace.
in_netns() { "$DOCKER" exec "$SUBSCRIBER_CT" "$@"; }

wsman_get_general_settings() {
  local uri="http://intel.com/wbem/wscim/1/amt-schema/1/AMT_GeneralSettings"
  "$DOCKER" exec -i "$SUBSCRIBER_CT" curl -sS --max-time 20 --digest -u "admin:$PASSWORD" -w '\nHTTP %{http_code}\n' \
    -H 'Content-Type: application/soap+xml;charset=UTF-8' --data-binary @- http://127.0.0.1:16992/wsman <<EOF
<?xml version="1.0" encoding="utf-8"?><Envelope xmlns="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><Header><a:Action>http://schemas.xmlsoap.org/ws/2004/09/transfer/Get</a:Action><a:To>/wsman</a:To><w:ResourceURI>$uri</w:ResourceURI><a:MessageID>1</a:MessageID><a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo><w:OperationTimeout>PT60S</w:OperationTimeout></Header><Body></Body></Envelope>
EOF
}

# The crash, as a QA pipeline runs it: the shipped scenario scenarios/host-crash-alert.yaml (in the image under
# /usr/local/share/mesim/scenarios), run by mesimctl inside the mesim container, which is on the manual firmware
# clock. It waits for the simulated host OS to boot and heartbeat dev/watchdog0, crashes it, expects no alert for
# 90 s and the firmware's OS watchdog alert (mei_wdt's 120 s) within 125 s; mesimctl's exit status is the verdict
# and --junit writes the report a CI dashboard reads.
CRASH_MESSAGE_ID=PLAT0322  # the OS watchdog's "Run-time critical stop on system"
CRASH_SCENARIO=/usr/local/share/mesim/scenarios/host-crash-alert.yaml
ctl() { "$DOCKER" exec "$FUSE_CT" mesimctl "$@"; }
trigger_crash_alert() {
  ctl scenario run "$CRASH_SCENARIO" --junit /tmp/host-crash-alert.junit.xml --limit 60 || return 1
  "$DOCKER" exec "$FUSE_CT" cat /tmp/host-crash-alert.junit.xml >"$WORK/host-crash-alert.junit.xml"
  grep -q '<testsuite ' "$WORK/host-crash-alert.junit.xml" && ! grep -q '<failure' "$WORK/host-crash-alert.junit.xml" \
    || { echo "JUnit report: $(head -c 400 "$WORK/host-crash-alert.junit.xml")"; return 1; }
}

step "End to end: mesim with FUSE, the alert subscriber beside it"
FUSE_RUN=(--device /dev/fuse --cap-add SYS_ADMIN --security-opt apparmor=unconfined)
fuse_available=1
fuse_user="mesim"
if [ ! -c /dev/fuse ]; then
  fuse_available=0
  FUSE_RUN=()
elif [ $((0$(stat -c %a /dev/fuse) & 6)) -ne 6 ]; then
  # The image's user opens /dev/fuse itself before fusermount3 mounts; a node other users may not open (no udev
  # rule made it 0666, as on minimal VMs) leaves FUSE to root (docker/README.md).
  FUSE_RUN+=(--user 0)
  fuse_user="root (this machine's /dev/fuse is $(stat -c %a /dev/fuse))"
fi
# --health-interval 1s: the image's own health check command, run often enough for a test.
"$DOCKER" run -d --name "$FUSE_CT" --network none "${FUSE_RUN[@]}" --health-interval 1s \
  -e MESIM_CLOCK=manual "$E2E_IMAGE" >/dev/null || true
if wait_for 60 is_healthy "$FUSE_CT"; then
  pass "health check" "docker reports $FUSE_CT healthy (the image's HEALTHCHECK: mesimctl health)"
  daemon_up=1
else
  fail "health check" "status '$(health_of "$FUSE_CT")'; mesim's log:"
  "$DOCKER" logs --tail 30 "$FUSE_CT" >&2 || true
  daemon_up=0
fi
"$DOCKER" logs "$FUSE_CT" 2>&1 | grep -m1 'ready in' | sed 's/^/docker-test:   /' >&2 || true

if [ "$daemon_up" -eq 1 ]; then
  "$DOCKER" run -d --name "$SUBSCRIBER_CT" --network "container:$FUSE_CT" \
    -e MESIM_WSMAN_URL=http://127.0.0.1:16992/wsman -e MESIM_PASSWORD="$PASSWORD" \
    -e NOTIFY_TO=http://127.0.0.1:8080/cgi-bin/alert "$SUBSCRIBER_IMAGE" >/dev/null || true
  subscribed=0
  wait_for 60 "$DOCKER" exec "$SUBSCRIBER_CT" test -f /tmp/subscribed && subscribed=1

  # WS-Man Get over HTTP with Digest, as a console sends it.
  answer="$(wsman_get_general_settings 2>&1 || true)"
  printf '%s\n' "$answer" >"$WORK/wsman-get.xml"
  if grep -q '^HTTP 200$' <<<"$answer" && grep -q 'AMT_GeneralSettings' <<<"$answer" && grep -q ':HostName>' <<<"$answer"; then
    pass "WS-Man Get" "AMT_GeneralSettings over HTTP with Digest, 200 ($(wc -c <"$WORK/wsman-get.xml") bytes)"
  else
    fail "WS-Man Get" "$(tail -n 3 <<<"$answer")"
  fi

  # The KVM screen's glyphs: the image carries Debian's console font (without it every glyph is a box).
  kvm="$(in_netns curl -sS --max-time 10 http://127.0.0.1:16990/kvm 2>&1 || true)"
  if grep -q '"screen":"console [0-9]*x[0-9]* (/usr/share/consolefonts/' <<<"$kvm"; then
    pass "KVM console font" "$(grep -o '"screen":"[^"]*"' <<<"$kvm")"
  else
    fail "KVM console font" "GET /kvm: $(head -c 300 <<<"$kvm")"
  fi

  # MEI through FUSE: a plain C program opens dev/mei0 inside the container, connects to AMTHI and reads an answer.
  if [ "$fuse_available" -eq 1 ]; then
    mounts="$("$DOCKER" exec "$FUSE_CT" grep ' /run/mesim/fs ' /proc/mounts 2>&1 || true)"
    mei="$("$DOCKER" exec "$FUSE_CT" mei_c_client /run/mesim/dev/mei0 amthi-provisioning-state 2>&1)" && mei_rc=0 || mei_rc=$?
    fw_ver="$("$DOCKER" exec "$FUSE_CT" cat /run/mesim/sys/class/mei/mei0/fw_ver 2>&1 | head -n 1 || true)"
    if [ "$mei_rc" -eq 0 ] && grep -q 'fuse' <<<"$mounts" && grep -q '^provisioning_state=' <<<"$mei"; then
      pass "MEI through FUSE" "$(grep '^provisioning_state=' <<<"$mei") from AMTHI on /run/mesim/dev/mei0 as $fuse_user; fw_ver $fw_ver"
    else
      fail "MEI through FUSE" "mount: '${mounts:-none}'; client (exit $mei_rc): $(tail -n 3 <<<"$mei")"
    fi
  else
    skip "MEI through FUSE" "this machine has no /dev/fuse"
  fi

  # A crash alert reaches the subscriber container.
  if [ "$subscribed" -eq 0 ]; then
    fail "crash alert delivered" "the subscriber did not subscribe; its log:"
    "$DOCKER" logs --tail 20 "$SUBSCRIBER_CT" >&2 || true
  elif ! raised="$(trigger_crash_alert 2>&1)"; then
    fail "crash alert delivered" "the scenario did not pass: $raised"
  elif wait_for 10 "$DOCKER" exec "$SUBSCRIBER_CT" grep -q "MessageID=$CRASH_MESSAGE_ID" /var/log/alerts/alerts.log; then
    pass "crash alert delivered" "scenario host-crash-alert.yaml passed (${raised##*$'\n'}); JUnit in $WORK; $("$DOCKER" exec "$SUBSCRIBER_CT" grep -m1 "MessageID=$CRASH_MESSAGE_ID" /var/log/alerts/alerts.log)"
  else
    fail "crash alert delivered" "nothing reached the subscriber in 10 s; mesim's events: $(in_netns curl -s http://127.0.0.1:16990/status | grep -o '"events":.*' | head -c 400)"
  fi
else
  for check in "WS-Man Get" "MEI through FUSE" "crash alert delivered"; do fail "$check" "mesim did not come up"; done
fi
say "($(took))"

# Preload mode: no /dev/fuse, no capabilities at all, no privilege gain; libmesim-preload.so routes the client's
# calls on /dev/mei0 to the daemon's socket.
step "End to end: preload mode without privileges"
"$DOCKER" run -d --name "$PRELOAD_CT" --network none --cap-drop ALL --security-opt no-new-privileges \
  "$E2E_IMAGE" >/dev/null || true
if "$DOCKER" exec "$PRELOAD_CT" mesimctl health --wait 60 >/dev/null; then
  out="$("$DOCKER" exec -e LD_PRELOAD=/usr/local/lib/libmesim-preload.so "$PRELOAD_CT" \
    mei_c_client /dev/mei0 amthi-provisioning-state 2>&1)" && rc=0 || rc=$?
  if [ "$rc" -eq 0 ] && grep -q '^provisioning_state=' <<<"$out"; then
    pass "MEI through preload" "$(grep '^provisioning_state=' <<<"$out") via /run/mesim/preload.sock, container without capabilities"
  else
    fail "MEI through preload" "client (exit $rc): $(tail -n 3 <<<"$out")"
  fi
else
  fail "MEI through preload" "mesim did not come up without privileges; its log:"
  "$DOCKER" logs --tail 20 "$PRELOAD_CT" >&2 || true
fi
say "($(took))"

# The QA guide's CI job (docs/guide-qa-docker.md), as a pipeline would run it: its own containers, the shipped
# scenarios through mesimctl, a JUnit report.
step "End to end: the QA guide's pipeline (docs/examples/qa_pipeline.sh)"
if DOCKER="$DOCKER" MESIM_IMAGE="$RUNTIME_IMAGE" SUBSCRIBER_IMAGE="$SUBSCRIBER_IMAGE" \
    bash docs/examples/qa_pipeline.sh "$WORK/qa-pipeline" >"$WORK/qa-pipeline.log" 2>&1; then
  pass "QA pipeline" "$(grep -c '^PASS ' "$WORK/qa-pipeline/scenarios.txt") scenarios passed, $(grep -o '<testcase ' "$WORK/qa-pipeline/results.xml" | wc -l) JUnit test cases, $(grep -c '^alert ' "$WORK/qa-pipeline/alerts.log") alerts received"
else
  fail "QA pipeline" "$(tail -n 5 "$WORK/qa-pipeline.log")"
fi
say "($(took))"

step "compose.yaml"
compose=(docker-compose)
docker compose version >/dev/null 2>&1 && compose=(docker compose)
if compose_available; then
  if MESIM_BASE_IMAGE="$BASE_IMAGE" "${compose[@]}" -f docker/compose.yaml config -q 2>"$WORK/compose.log"; then
    pass "compose.yaml valid" "${compose[*]} config"
  else
    fail "compose.yaml valid" "$(tail -n 3 "$WORK/compose.log")"
  fi
else
  skip "compose.yaml valid" "no docker compose or docker-compose here"
fi

# --- Swarm: compose.yaml as a stack -------------------------------------------------------------------------------

# compose.yaml deployed unchanged with `docker stack deploy` on a one-node swarm made for the test (advertised on
# loopback; left again at the end unless this machine was in a swarm already): the fleet service's replicas each
# hold a shard (MESIM_FLEET devices numbered from the task slot), every device of every replica answers its
# control routes and WS-Man on its own port, and no two devices share a name or a UUID.
SWARM_FLEET=3
SWARM_REPLICAS=2
swarm_containers() { "$DOCKER" ps -q --filter "label=com.docker.swarm.service.name=${STACK}_fleet"; }
replicas_running() { [ "$(swarm_containers | wc -l)" -eq "$SWARM_REPLICAS" ]; }
wsman_host_name() {  # CONTAINER PORT: the HostName AMT_GeneralSettings answers with on that port
  local uri="http://intel.com/wbem/wscim/1/amt-schema/1/AMT_GeneralSettings"
  printf '%s' "<?xml version=\"1.0\" encoding=\"utf-8\"?><Envelope xmlns=\"http://www.w3.org/2003/05/soap-envelope\" xmlns:a=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" xmlns:w=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\"><Header><a:Action>http://schemas.xmlsoap.org/ws/2004/09/transfer/Get</a:Action><a:To>/wsman</a:To><w:ResourceURI>$uri</w:ResourceURI><a:MessageID>1</a:MessageID><a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo></Header><Body></Body></Envelope>" \
    | "$DOCKER" run --rm -i --network "container:$1" --entrypoint curl "$SUBSCRIBER_IMAGE" -sS --max-time 20 --digest \
        -u "admin:$PASSWORD" -H 'Content-Type: application/soap+xml;charset=UTF-8' --data-binary @- \
        "http://127.0.0.1:$2/wsman" | grep -o '<[a-zA-Z0-9]*:HostName>[^<]*' | sed 's/.*>//'
}

step "Swarm: docker stack deploy -c docker/compose.yaml (a fleet of $SWARM_REPLICAS x $SWARM_FLEET)"
STACK="mesimtest$SUFFIX"
if [ "$("$DOCKER" info -f '{{.Swarm.LocalNodeState}}' 2>/dev/null)" = active ]; then
  say "this Docker daemon is in a swarm already: using it, and leaving it as it is"
elif "$DOCKER" swarm init --advertise-addr 127.0.0.1 >"$WORK/swarm.log" 2>&1; then
  SWARM_MADE=1
else
  fail "swarm stack" "docker swarm init: $(tail -n 2 "$WORK/swarm.log")"
fi
if [ "$("$DOCKER" info -f '{{.Swarm.LocalNodeState}}' 2>/dev/null)" = active ]; then
  SWARM_STACK="$STACK"
  if ! MESIM_BASE_IMAGE="$BASE_IMAGE" MESIM_FLEET="$SWARM_FLEET" MESIM_FLEET_REPLICAS="$SWARM_REPLICAS" \
      MESIM_FLEET_SEED="docker-test" "$DOCKER" stack deploy --resolve-image never -c docker/compose.yaml "$STACK" \
      >"$WORK/stack.log" 2>&1; then
    fail "swarm stack" "docker stack deploy: $(tail -n 3 "$WORK/stack.log")"
  elif ! wait_for 120 replicas_running; then
    fail "swarm stack" "the fleet's $SWARM_REPLICAS replicas did not run: $("$DOCKER" service ps --no-trunc "${STACK}_fleet" 2>&1 | tail -n 4)"
  else
    all_ok=1
    : >"$WORK/swarm-identities.txt"
    for ct in $(swarm_containers); do
      if ! "$DOCKER" exec "$ct" mesimctl health --wait 90 >/dev/null; then
        all_ok=0; say "  replica $ct did not get ready: $("$DOCKER" logs --tail 5 "$ct" 2>&1)"; continue
      fi
      names="$("$DOCKER" exec "$ct" mesimctl devices | grep -o '"fleet-[0-9]*"' | tr -d '"' | sort)"
      [ "$(wc -w <<<"$names")" -eq "$SWARM_FLEET" ] || { all_ok=0; say "  replica $ct holds '$names'"; }
      k=0
      for name in $names; do
        uuid="$("$DOCKER" exec "$ct" mesimctl --device "$name" status | grep -o '"uuid": *"[^"]*"' | grep -o '[0-9a-f-]\{36\}')"
        host="$(wsman_host_name "$ct" $((17000 + 5 * k)))" || true
        echo "$name $uuid $host $ct" >>"$WORK/swarm-identities.txt"
        [ -n "$uuid" ] && [ "$host" = "$name" ] || { all_ok=0; say "  $name in $ct: uuid '$uuid', WS-Man on $((17000 + 5 * k)) says '$host'"; }
        k=$((k + 1))
      done
    done
    devices=$(wc -l <"$WORK/swarm-identities.txt")
    names=$(cut -d' ' -f1 "$WORK/swarm-identities.txt" | sort -u | wc -l)
    uuids=$(cut -d' ' -f2 "$WORK/swarm-identities.txt" | sort -u | wc -l)
    if [ "$all_ok" -eq 1 ] && [ "$devices" -eq $((SWARM_FLEET * SWARM_REPLICAS)) ] && [ "$names" -eq "$devices" ] && [ "$uuids" -eq "$devices" ]; then
      pass "swarm stack" "$SWARM_REPLICAS replicas, $devices devices ($(cut -d' ' -f1 "$WORK/swarm-identities.txt" | sort | tr '\n' ' '| sed 's/ $//')), each answering mesimctl --device and WS-Man on its own port, $uuids distinct UUIDs"
    else
      fail "swarm stack" "$devices devices, $names names, $uuids UUIDs (want $((SWARM_FLEET * SWARM_REPLICAS)) each); see $WORK/swarm-identities.txt"
    fi
  fi
fi
say "($(took))"

# --- Summary -----------------------------------------------------------------------------------------------------
echo >&2
say "summary (total $((SECONDS - START)) s; images $RUNTIME_IMAGE $E2E_IMAGE $SUBSCRIBER_IMAGE from $BASE_IMAGE; logs in $WORK)"
for c in "${PASSED[@]}"; do say "  passed:  $c"; done
for c in "${SKIPPED[@]}"; do say "  skipped: $c"; done
for c in "${FAILED[@]}"; do say "  FAILED:  $c"; done
line="docker-test: ${#PASSED[@]} passed, ${#FAILED[@]} failed"
[ "${#SKIPPED[@]}" -gt 0 ] && line+=", ${#SKIPPED[@]} skipped"
echo "$line"
[ "${#FAILED[@]}" -eq 0 ]
