#!/usr/bin/env bash
# Installs every Debian package simbmc needs to build, run and test.
# Idempotent: only missing packages are installed. Needs root (or sudo).
set -euo pipefail

build_pkgs=(cmake g++ make pkg-config libboost-dev libssl-dev libsqlite3-dev libfmt-dev
            libcli11-dev libtomlplusplus-dev libgtest-dev libgmock-dev)
test_pkgs=(ipmitool freeipmi-tools libfreeipmi-dev python3 python3-pyghmi clang
           libclang-rt-14-dev openipmi procps)

want=("${build_pkgs[@]}")
if [[ "${1:-}" == "--with-tests" ]]; then want+=("${test_pkgs[@]}"); fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo_cmd=()
[[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
echo "simbmc: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
