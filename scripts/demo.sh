#!/usr/bin/env bash
# Installs what is missing, builds simbmcd (release) and runs it on the embedded demo config.
# Extra arguments go to simbmcd, e.g. ./scripts/demo.sh --port 6230 --user admin:MyPassw0rd
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target simbmcd -j"$(nproc)"
exec ./build/release/bmc/daemon/simbmcd "$@"
