#!/usr/bin/env bash
# Installs every Debian package simbmc needs to build, run and test.
# Idempotent: only missing packages are installed. Needs root (or sudo).
set -euo pipefail

build_pkgs=(cmake g++ make pkg-config libboost-dev libssl-dev libsqlite3-dev libfmt-dev
            libcli11-dev libtomlplusplus-dev libgtest-dev libgmock-dev)
# Real clients the integration tests drive, and libfreeipmi for the benchmark's load generator.
test_pkgs=(ipmitool freeipmi-tools libfreeipmi-dev python3 python3-pyghmi procps)
# OpenIPMI's ipmi_sim, for the benchmark's side-by-side comparison.
bench_pkgs=(openipmi libfreeipmi-dev)
# clang with the libFuzzer/ASan runtime, for the fuzz preset.
fuzz_pkgs=(clang libclang-rt-14-dev)

want=("${build_pkgs[@]}")
for arg in "$@"; do
  case "$arg" in
    --with-tests) want+=("${test_pkgs[@]}") ;;
    --with-bench) want+=("${bench_pkgs[@]}") ;;
    --with-fuzz) want+=("${fuzz_pkgs[@]}") ;;
    *) echo "usage: $0 [--with-tests] [--with-bench] [--with-fuzz]" >&2; exit 2 ;;
  esac
done

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
