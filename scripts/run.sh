#!/usr/bin/env bash
# Installs what is missing, builds Release and runs mesim in the foreground with embedded defaults.
# Extra arguments go to mesim (see build/bin/mesim --help).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
ensure_packages "${MESIM_RUN_PACKAGES[@]}"
configure_and_build release --target mesim mesim-preload
cd "$MESIM_ROOT"
echo "mesim: starting build/bin/mesim $*" >&2
echo "mesim: programs without /dev/fuse can use LD_PRELOAD=$MESIM_ROOT/build/lib/libmesim-preload.so" >&2
exec "$MESIM_ROOT/build/bin/mesim" "$@"
