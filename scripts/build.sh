#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# scripts/build.sh [native|asan|fuzz|windows|windows-x86]...
#
# Installs what is missing on a Debian 12 machine (compilers, Wine, CMake,
# Ninja, the native libuv/cJSON dev packages, wixl/msitools and zip for
# scripts/package.sh), builds libuv and cJSON for MinGW from Debian's
# source packages (cached), then configures and builds
# the given presets (default: native asan fuzz windows; windows-x86 is the
# 32-bit client library and shmbctl, with cJSON for i686), quietly: the logs
# are build/apt.log and build/.{configure,build}-<preset>.log.
# Idempotent: a second run only rebuilds what changed.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
mkdir -p build
APT_LOG=$repo/build/apt.log
# shellcheck source=scripts/lib/apt.sh
. scripts/lib/apt.sh

presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(native asan fuzz windows)

step() { printf '==> %s\n' "$*"; }

step "checking build packages"
apt_ensure cmake ninja-build gcc clang libclang-rt-14-dev pkg-config \
    libcjson-dev libuv1-dev \
    gcc-mingw-w64-x86-64 binutils-mingw-w64-x86-64 mingw-w64-x86-64-dev \
    gcc-mingw-w64-i686 binutils-mingw-w64-i686 mingw-w64-i686-dev \
    wine wine64 wixl msitools zip

for p in "${presets[@]}"; do
    if [ "$p" = windows ]; then
        step "libuv and cJSON for MinGW (Debian sources, cached in build/windows-deps)"
        bash scripts/deps-mingw.sh
    elif [ "$p" = windows-x86 ]; then
        step "cJSON for 32-bit MinGW (cached in build/windows-x86-deps)"
        SHMB_MINGW_ARCH=x86 bash scripts/deps-mingw.sh
    fi
    step "configure + build preset '$p' (build/$p)"
    : >"build/.configure-$p.log"
    : >"build/.build-$p.log"
    logged "build/.configure-$p.log" cmake --preset "$p"
    logged "build/.build-$p.log" cmake --build --preset "$p" -- -j"$(nproc)"
    tail -n 1 "build/.build-$p.log"
done
