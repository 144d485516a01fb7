#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# scripts/bench.sh [--quick] [--json FILE] [--no-build] [--no-prefix] [--check]
#                  [shmb_bench args...]
#
# Builds the Windows binaries, installs the service (bench/bench-config.json)
# under Wine and runs bench/shmb_bench.exe: every control-plane row beside
# its floor (bench/floor_win.c) with the ratio, then the data-plane rows
# (scripts/lib/bench-dataplane.sh, when present). Writes every figure as one
# flat JSON object of numbers to FILE (default build/bench.json); the keys
# are listed in docs/performance.md. Nothing here is a pass/fail test of
# speed: under Wine only the ratios mean something (docs/performance.md).
#
#   --quick      scale every count down (a smoke run, well under a minute)
#   --no-build   use the binaries already in $SHMB_BUILD_DIR
#   --no-prefix  the Wine prefix is already up and someone else takes it
#                down (the ctest fixture)
#   --check      fail unless FILE holds every key docs/performance.md
#                promises, each a number
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

json="$repo/build/bench.json" build=1 prefix=1 check=0
args=()
while [ $# -gt 0 ]; do
    case "$1" in
    --json) json=$2; shift ;;
    --no-build) build=0 ;;
    --no-prefix) prefix=0 ;;
    --check) check=1 ;;
    *) args+=("$1") ;;
    esac
    shift
done
json_dir=$(cd "$(dirname "$json")" && pwd)
json="$json_dir/$(basename "$json")"

# The keys of issues 11 (item 3) and 10 (item 5), kept over time: a run without one of them is
# a broken benchmark, whatever its figures.
required_keys=(pipe_rtt_p50_us uv_echo_p50_us ping_p50_us connect_p50_us
    connect_floor_p50_us grant_p50_us grant_p99_us floor_p50_us floor_p99_us
    grant_p50_ratio grant_p99_ratio connect_ratio ping_ratio
    grant_tput_ratio_1 grant_tput_ratio_8 grant_tput_ratio_64
    open_p50_us_10_regions open_p50_us_10000_regions open_p50_us_1000_clients
    service_bytes_per_region service_bytes_per_client
    ring_gbps pipe_gbps tcp_gbps memcpy_gbps ring_pingpong_p50_us)

if [ "$build" = 1 ]; then
    bash scripts/build.sh windows >/dev/null
fi
: "${SHMB_BUILD_DIR:=$repo/build/windows}"
export SHMB_BUILD_DIR
. tests/wine/env.sh

cleanup() {
    bash tests/wine/service.sh remove shmb-bench >/dev/null 2>&1 || true
    if [ "$prefix" = 1 ]; then
        bash tests/wine/prefix.sh down >/dev/null 2>&1 || true
    fi
    rm -f "$json.control" "$json.create" "$json.dataplane"
}
trap cleanup EXIT
if [ "$prefix" = 1 ]; then
    # Under Wine every section is an open file of the wineserver: 10,000
    # live regions need more than the usual limit. The server started by
    # prefix.sh inherits this one.
    ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    bash tests/wine/prefix.sh up >/dev/null
fi
SHMB_SERVICE_VERBOSE=0 bash tests/wine/service.sh install shmb-bench \
    "$SHMB_BUILD_DIR/service/shmbroker.exe" bench/bench-config.json \
    --pipe '\\.\pipe\shmb-bench' >/dev/null

echo "shmbroker benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(wine --version 2>/dev/null)," \
    "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg))"
# run_bench PART JSON: one shmb_bench process for those rows.
run_bench() {
    wine_q "$SHMB_BUILD_DIR/bench/shmb_bench.exe" --pipe '\\.\pipe\shmb-bench' \
        --service shmb-bench --part "$1" \
        --floor "$(winepath -w "$SHMB_BUILD_DIR/bench/shmb_floor.exe")" \
        --json "$(winepath -w "$2")" ${args[@]+"${args[@]}"} 2>&1 | sed -u 's/\r$//'
}
run_bench main "$json.control"
# Create + release last, in a process of its own: the regions the first
# one was granted drain in the service until it has exited (shmb_bench.c).
sleep 2
run_bench create "$json.create"

# The data plane's own rows and keys, merged into the same object.
parts=("$json.control" "$json.create")
if [ -f scripts/lib/bench-dataplane.sh ]; then
    . scripts/lib/bench-dataplane.sh
    echo
    case " ${args[*]-} " in
    *" --quick "*) bench_dataplane "$json.dataplane" --mib 8 --roundtrips 200 --ring-mib 1 ;;
    *) bench_dataplane "$json.dataplane" ;;
    esac
    parts+=("$json.dataplane")
fi
# Flat objects of numbers: their members, joined into one object.
{
    echo "{"
    for part in "${parts[@]}"; do
        tr -d '\r' <"$part" | sed -e '1s/^ *{//' -e '$s/} *$//' | grep -v '^ *$' |
            sed -e 's/^ */  /' -e 's/,$//'
    done | sed '$!s/$/,/'
    echo "}"
} >"$json.tmp"
mv "$json.tmp" "$json"
echo "figures: $json"

if [ "$check" = 1 ]; then
    missing=0
    for k in "${required_keys[@]}"; do
        if ! grep -Eq "^ *\"$k\": *-?[0-9]" "$json"; then
            # shmb_bench leaves out (and names above) a figure that came
            # out inf or nan, because JSON cannot hold one.
            echo "bench.json: key $k missing or not a finite number (see the run's output above)" >&2
            missing=1
        fi
    done
    [ "$missing" = 0 ] || exit 1
    echo "bench.json: all ${#required_keys[@]} required keys present"
fi
