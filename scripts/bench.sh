#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# scripts/bench.sh [shmb_bench args...] - builds the Windows binaries,
# installs the service (bench/bench-config.json) under Wine, and prints a
# table: connect, control round trip, grant and create latency, and moving
# data through a pipe versus a shared region. Numbers under Wine are only
# indicative of real Windows; nothing here is a pass/fail test.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
bash scripts/build.sh windows >/dev/null
export SHMB_BUILD_DIR="$repo/build/windows"
. tests/wine/env.sh
trap 'bash tests/wine/service.sh remove shmb-bench >/dev/null 2>&1; bash tests/wine/prefix.sh down >/dev/null 2>&1' EXIT
bash tests/wine/prefix.sh up >/dev/null
SHMB_SERVICE_VERBOSE=0 bash tests/wine/service.sh install shmb-bench "$SHMB_BUILD_DIR/service/shmbroker.exe" \
    bench/bench-config.json --pipe '\\.\pipe\shmb-bench' >/dev/null
echo "shmbroker benchmark ($(date -u +%Y-%m-%dT%H:%MZ), Wine $(wine --version 2>/dev/null), $(nproc) cores)"
wine_q "$SHMB_BUILD_DIR/bench/shmb_bench.exe" --pipe '\\.\pipe\shmb-bench' --service shmb-bench "$@" 2>&1 |
    sed 's/\r$//'
. scripts/lib/bench-dataplane.sh && bench_dataplane "$repo/build/bench-dataplane.json"
