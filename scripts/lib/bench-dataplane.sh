# SPDX-License-Identifier: MPL-2.0
# scripts/lib/bench-dataplane.sh - the data-plane benchmark
# (bench/shmb_bench_dataplane.c) for scripts/bench.sh, and its smoke test.
#
# Sourced by scripts/bench.sh once the bench service is installed (it has
# set SHMB_BUILD_DIR and sourced tests/wine/env.sh, which gives wine_q):
#
#   bench_dataplane JSONFILE [shmb_bench_dataplane args...]
#
# prints the table and writes JSONFILE (a flat object of numbers: ring_gbps,
# pipe_gbps, tcp_gbps, memcpy_gbps, the ratios, ring_pingpong_p50_us/_p99_us,
# dp_pipe_rtt_p50_us/_p99_us). Later args override earlier ones, so --gib,
# --roundtrips or even --pipe may be passed.
#
# Run directly, `bash scripts/lib/bench-dataplane.sh smoke EXE JSONFILE`
# runs EXE with tiny sizes against the test service (tests/CMakeLists.txt)
# and fails unless it succeeds and every key is a positive number. It never
# looks at how fast anything was.

# The keys every run writes (the lead merges them into build/bench.json).
BENCH_DATAPLANE_KEYS="ring_gbps pipe_gbps tcp_gbps memcpy_gbps
ring_vs_pipe ring_vs_tcp ring_vs_memcpy
ring_pingpong_p50_us ring_pingpong_p99_us dp_pipe_rtt_p50_us
dp_pipe_rtt_p99_us ring_pingpong_vs_pipe_rtt_p50 dp_bytes dp_roundtrips"

# bench_dataplane_run EXE JSONFILE ARGS...: the program, its JSON written
# through Wine's Z: drive.
bench_dataplane_run() {
    local exe=$1 json
    json=$(realpath -m "$2")
    shift 2
    rm -f "$json"
    wine_q "$exe" --json "Z:$json" "$@" 2>&1 | sed 's/\r$//'
}

bench_dataplane() {
    local json=$1
    shift
    bench_dataplane_run "$SHMB_BUILD_DIR/bench/shmb_bench_dataplane.exe" "$json" \
        --pipe '\\.\pipe\shmb-bench' --service shmb-bench "$@"
}

# bench_dataplane_check JSONFILE: every key is there and a positive number.
bench_dataplane_check() {
    local json=$1 key line bad=0
    [ -s "$json" ] || { echo "bench-dataplane: no JSON written to $json" >&2; return 1; }
    for key in $BENCH_DATAPLANE_KEYS; do
        line=$(tr -d '\r' <"$json" | grep -E "^ *\"$key\": *[-+0-9.eE]+,?$" || true)
        if [ -z "$line" ]; then
            echo "bench-dataplane: $key missing or not a number" >&2
            bad=1
        elif ! printf '%s\n' "$line" | awk -F: '{ v = $2; sub(/,$/, "", v); exit !(v + 0 > 0) }'; then
            echo "bench-dataplane: $key is not positive: $line" >&2
            bad=1
        fi
    done
    return "$bad"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    [ "${1:-}" = smoke ] && [ $# -eq 3 ] || {
        echo "usage: $0 smoke SHMB_BENCH_DATAPLANE_EXE JSONFILE" >&2
        exit 2
    }
    . "$(dirname "${BASH_SOURCE[0]}")/../../tests/wine/env.sh"
    # The test service (tests/data/itest-config.json): it/** is ours, and
    # regions of at most 16 MiB.
    bench_dataplane_run "$2" "$3" --prefix it/dpbench --mib 8 --roundtrips 200 \
        --ring-mib 1
    cat "$3"
    bench_dataplane_check "$3"
    echo "bench-dataplane smoke: ok"
fi
