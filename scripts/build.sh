#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# scripts/build.sh [native|asan|fuzz|windows]...
#
# Installs what is missing on a Debian 12 machine (compilers, Wine, CMake,
# Ninja, the native libuv/cJSON dev packages, the deb-src entry), builds
# libuv and cJSON for MinGW from Debian's source packages (cached), then
# configures and builds the given presets (default: native asan fuzz
# windows).
# Idempotent: a second run only rebuilds what changed.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
. scripts/lib/apt.sh

presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(native asan fuzz windows)

step() { printf '==> %s\n' "$*"; }

step "checking build packages"
apt_ensure cmake ninja-build gcc clang libclang-rt-14-dev pkg-config \
    libcjson-dev libuv1-dev \
    gcc-mingw-w64-x86-64 binutils-mingw-w64-x86-64 mingw-w64-x86-64-dev \
    wine wine64 dpkg-dev ||
    { echo "build: could not install packages (log: ${APT_LOG:-see above})" >&2; exit 1; }

for p in "${presets[@]}"; do
    if [ "$p" = windows ]; then
        step "libuv and cJSON for MinGW (Debian sources, cached in build/windows-deps)"
        bash scripts/deps-mingw.sh
    fi
    step "configure + build preset '$p' (build/$p)"
    mkdir -p build
    cmake --preset "$p" >"build/.configure-$p.log" 2>&1 || {
        tail -40 "build/.configure-$p.log" >&2
        exit 1
    }
    cmake --build --preset "$p" -- -j"$(nproc)" | tail -n 3
done
