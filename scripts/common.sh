# Shared by run.sh and test.sh: install what a fresh Debian 12 machine lacks, configure, build.
# shellcheck shell=bash
set -euo pipefail

MESIM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Debian packages the build, the tests and the real-client tests need.
MESIM_RUN_PACKAGES=(build-essential cmake ninja-build pkg-config ccache
  libboost1.81-dev libboost-json1.81-dev libboost-program-options1.81-dev libboost-url1.81-dev
  libpugixml-dev libyaml-cpp-dev libssl-dev libfuse3-dev fuse3 libgtest-dev libgmock-dev libbenchmark-dev)
# prometheus: promtool, which lints GET /metrics (metrics_test). Under systemd Debian also starts its server on
# :9090; `systemctl disable --now prometheus` if that is unwanted. python3: the examples of docs/examples
# (guide_examples_test). amtterm: Debian's SOL client (1.4, cleartext login), driven by redirection_daemon_test.
MESIM_TEST_PACKAGES=(clang libclang-rt-14-dev curl nodejs npm prometheus python3 amtterm)
MESIM_TEST_PACKAGES+=(dmidecode)  # wsman_inventory_test: dmidecode --from-dump reads the AMT_AssetTable SMBIOS tables
MESIM_TEST_PACKAGES+=(chromium websockify)  # meshcentral_kvm_test: MeshCentral's web KVM in headless Chromium behind websockify
# KVM (kvm_daemon_test): Debian's vncsnapshot saves the 5900 screen, libjpeg decodes it; the console font is run-time.
MESIM_TEST_PACKAGES+=(vncsnapshot libjpeg62-turbo-dev) MESIM_RUN_PACKAGES+=(zlib1g-dev console-setup-linux)
# qemu-utils: qemu-io and qemu-img read the IDE-R media over NBD (ider_daemon_test).
MESIM_TEST_PACKAGES+=(qemu-utils)
MESIM_TEST_PACKAGES+=(qemu-system-x86)  # kvm_upstream_daemon_test: a VM screen proxied by --kvm-host unix:PATH
# amttool (amtterm's package) needs SOAP::Lite: eoi_daemon_test.
MESIM_TEST_PACKAGES+=(libsoap-lite-perl)
MESIM_TEST_PACKAGES+=(nftables iproute2 iputils-ping)  # system_defense_daemon_test: a drop policy isolates a network namespace
MESIM_TEST_PACKAGES+=(snmptrapd)  # pet_daemon_test: Debian's SNMP trap receiver prints the PET traps on a loopback port
MESIM_TEST_PACKAGES+=(kubernetes-client)  # k8s_manifests_test: kubectl's client-side dry run of docker/k8s/

ensure_packages() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    # node and npm from another source (e.g. a nodejs package that bundles npm and conflicts with Debian's) will do.
    # So will a kubectl from elsewhere (a cloud SDK's package owns /usr/bin/kubectl and conflicts with Debian's).
    case "$pkg" in nodejs) command -v node >/dev/null && continue ;; npm) command -v npm >/dev/null && continue ;;
      kubernetes-client) command -v kubectl >/dev/null && continue ;; esac
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "mesim: missing Debian packages: ${missing[*]}" >&2
    echo "       install them as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "mesim: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # apt runs dpkg with its output on stdout, so a failing maintainer script says why only there: keep it in a log
  # and show it on failure. One retry after emptying the package cache and re-reading the lists covers a cached
  # archive that no longer matches the mirror (a Docker build's apt cache mount outlives the lists it came with).
  local log attempt
  log="$(mktemp)"
  for attempt in 1 2; do
    if apt-get update -qq >"$log" 2>&1 && apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
      rm -f "$log"
      return 0
    fi
    echo "mesim: apt-get failed (attempt $attempt); its last lines:" >&2
    tail -n 30 "$log" >&2
    apt-get clean
    dpkg --configure -a >>"$log" 2>&1 || true
  done
  rm -f "$log"
  echo "mesim: could not install ${missing[*]}" >&2
  exit 1
}

# Warns up front when the disk is short of what the builds will write, rather than a linker failing half an hour
# in: `warn_if_disk_short GB DIR...` counts what the build DIRs already hold as written. A warning only, so an
# estimate that is off never stops a run that would fit.
warn_if_disk_short() {
  local need_kb=$(($1 * 1024 * 1024)) have_kb=0 avail_kb dir
  shift
  for dir in "$@"; do
    [ -d "$MESIM_ROOT/$dir" ] && have_kb=$((have_kb + $(du -sk "$MESIM_ROOT/$dir" | cut -f1)))
  done
  avail_kb="$(df -Pk "$MESIM_ROOT" | awk 'NR == 2 {print $4}')"
  if [ $((need_kb - have_kb)) -gt "$avail_kb" ]; then
    echo "mesim: warning: the builds need about $((need_kb / 1048576)) GB in all, $((have_kb / 1048576)) GB of it" \
      "already built, and $((avail_kb / 1048576)) GB is free on the disk of $MESIM_ROOT" >&2
  fi
}

# Builds a preset; CMake picks up ccache when it is installed. Its cache lives in the user's home and paths
# are taken relative to the checkout, so a fresh clone anywhere on the same machine builds from the cache.
configure_and_build() {
  local preset="$1"
  shift
  # The three presets' objects come to about 5 GB, ccache's default size: at that size a CI run evicted
  # its own entries.
  export CCACHE_BASEDIR="$MESIM_ROOT" CCACHE_NOHASHDIR=true CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-10G}"
  cmake --preset "$preset" -S "$MESIM_ROOT" >/dev/null
  cmake --build --preset "$preset" -j "$(nproc)" "$@"
}

# The real third-party clients of tests/clients (npm packages pinned by its package-lock.json), installed with
# `npm ci` into tests/clients/node_modules when missing or older than the lock file.
install_test_clients() {
  local dir="$MESIM_ROOT/tests/clients"
  if [ -f "$dir/node_modules/.package-lock.json" ] && [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
    return 0
  fi
  echo "mesim: installing the test clients (npm ci in tests/clients)" >&2
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}
