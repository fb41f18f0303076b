#!/usr/bin/env bash
# Installs (Debian packages, and the npm clients of tests/clients), builds and runs the whole test suite:
# the ASan+UBSan build, a 20-second run of every libFuzzer harness, then the Release build, whose ctest
# summary ends the output.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
ensure_packages "${MESIM_RUN_PACKAGES[@]}" "${MESIM_TEST_PACKAGES[@]}"
install_test_clients
cd "$MESIM_ROOT"
jobs="$(nproc)"
# Measured on a clean clone: ASan 13 GB, fuzz 3.2 GB, Release 1.4 GB.
warn_if_disk_short 18 build-asan build-fuzz build

echo "== ASan+UBSan build and tests" >&2
configure_and_build asan
ctest --preset asan -j "$jobs" --timeout 300 >build-asan/ctest.log 2>&1 || { tail -n 80 build-asan/ctest.log; exit 1; }
tail -n 3 build-asan/ctest.log >&2

echo "== libFuzzer harnesses (${MESIM_FUZZ_SECONDS:-20} s each)" >&2
configure_and_build fuzz --target fuzzers
MESIM_FUZZ_SECONDS="${MESIM_FUZZ_SECONDS:-20}" ctest --test-dir build-fuzz -L fuzz -j "$jobs" >build-fuzz/ctest.log 2>&1 \
  || { tail -n 80 build-fuzz/ctest.log; exit 1; }
tail -n 3 build-fuzz/ctest.log >&2

echo "== Release build and tests" >&2
configure_and_build release
ctest --preset release -j "$jobs" --timeout 300
