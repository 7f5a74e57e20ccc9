#!/usr/bin/env bash
# Installs what is missing (build and test packages), builds everything with warnings as errors and
# runs every test: unit, integration (real ipmitool / FreeIPMI / pyghmi against a running simbmcd),
# and the fuzz corpus replay. Extra arguments go to ctest, e.g. ./scripts/test.sh -L unit
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh --with-tests
cmake --preset ci >/dev/null
cmake --build --preset ci -j"$(nproc)"
ctest --preset ci -j"$(nproc)" --timeout 900 "$@"
