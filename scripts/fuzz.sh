#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# scripts/fuzz.sh TARGET SECONDS   (TARGET: a name below, or "all")
#
# A long libFuzzer run (ASan+UBSan, preset fuzz) of one target, from a copy
# of its committed corpus tests/fuzz/corpus/TARGET. Afterwards the corpus
# is merged back, minimized with -merge=1: the fewest inputs that keep all
# the coverage, old and new, so it stays small. Prints executions, exec/s, crashes, coverage and
# the corpus size before and after; crash inputs are kept in
# build/fuzz/fuzz-run/TARGET/artifacts and make the script fail.
#
# "all" runs every target one after the other, SECONDS each. Runs are niced
# (SHMB_FUZZ_NICE, default 19): the machine is shared. Each target has its
# own work directory, so several targets may run at once from separate
# invocations. Each summary line is also appended to
# build/fuzz/fuzz-run/summary.tsv.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

targets=(frame request config broker ring)
# The fuzz preset compiles UBSan recoverable (libFuzzer's coverage flags);
# a report must still end the run as a crash, with its input saved.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
nice_level=${SHMB_FUZZ_NICE:-19}

usage() {
    echo "usage: $0 {$(
        IFS='|'
        echo "${targets[*]}"
    )|all} SECONDS" >&2
    exit 2
}
[ $# -eq 2 ] || usage
if ! [[ $2 =~ ^[0-9]+$ ]] || [ "$2" -eq 0 ]; then usage; fi
want=$1 seconds=$2
if [ "$want" = all ]; then
    run=("${targets[@]}")
else
    case " ${targets[*]} " in *" $want "*) run=("$want") ;; *) usage ;; esac
fi

bin_dir=$repo/build/fuzz/tests
out=$repo/build/fuzz/fuzz-run
mkdir -p "$out"

# Build (or bring up to date) once; a lock keeps parallel invocations from
# running two builds in one tree.
(
    flock 9
    if [ -f build/fuzz/build.ninja ] || [ -f build/fuzz/Makefile ]; then
        nice -n "$nice_level" cmake --build --preset fuzz >"$out/build.log" 2>&1 ||
            {
                tail -n 30 "$out/build.log" >&2
                exit 1
            }
    else
        nice -n "$nice_level" bash scripts/build.sh fuzz
    fi
) 9>"$out/.build.lock"

count() { find "$1" -maxdepth 1 -type f | wc -l; }

status=0
for t in "${run[@]}"; do
    bin=$bin_dir/fuzz-$t
    seeds=$repo/tests/fuzz/corpus/$t
    work=$out/$t
    [ -x "$bin" ] || {
        echo "fuzz.sh: $bin missing" >&2
        exit 1
    }
    mkdir -p "$seeds"
    rm -rf "$work"
    mkdir -p "$work/corpus" "$work/artifacts"
    cp -a "$seeds/." "$work/corpus/"
    before=$(count "$seeds")
    log=$work/fuzz.log
    echo "==> fuzz-$t for ${seconds}s (log: $log)"
    rc=0
    # -timeout: an input running 10 s is a hang (the ring must never spin
    # without end); -rss_limit_mb: a leak or a runaway buffer is a failure.
    nice -n "$nice_level" "$bin" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$work/artifacts/" "$work/corpus" >"$log" 2>&1 ||
        rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1 || true)
    crashes=$(find "$work/artifacts" -type f | wc -l)
    if [ "$crashes" = 0 ] && { [ "$rc" != 0 ] ||
        grep -q 'runtime error:' "$log"; }; then
        crashes=1 # a failure that left no input behind
    fi
    # Re-minimize: the smallest set of inputs (committed and new) that keeps
    # every feature the fuzzer has seen, by libFuzzer's -merge=1 into an
    # empty directory. Hand-named seeds stay as they are (they document
    # cases); the generated ones (named by their SHA-1) are replaced.
    rm -rf "$work/merged"
    mkdir -p "$work/merged"
    if nice -n "$nice_level" "$bin" -merge=1 -timeout=10 -rss_limit_mb=2048 \
        "$work/merged" "$seeds" "$work/corpus" >"$work/merge.log" 2>&1; then
        find "$seeds" -maxdepth 1 -type f -regextype posix-extended \
            -regex '.*/[0-9a-f]{40}' -delete
        # libFuzzer names what it writes by the SHA-1 of its content.
        named=$(find "$seeds" -maxdepth 1 -type f -exec sha1sum {} + |
            cut -d' ' -f1)
        for f in "$work/merged"/*; do
            [ -e "$f" ] || continue
            grep -qx "$(basename "$f")" <<<"$named" || cp "$f" "$seeds/"
        done
    else
        echo "fuzz.sh: merge failed, see $work/merge.log" >&2
        status=1
    fi
    after=$(count "$seeds")
    printf '%s: seconds=%s execs=%s exec/s=%s crashes=%s corpus=%s->%s %s\n' \
        "$t" "$seconds" "${execs:-?}" "${rate:-?}" "$crashes" "$before" \
        "$after" "${cov:-cov: ?}"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" \
        "$seconds" "${execs:-?}" "${rate:-?}" "$crashes" "$before" "$after" \
        "${cov:-?}" >>"$out/summary.tsv"
    if [ "$crashes" != 0 ]; then
        echo "fuzz.sh: fuzz-$t failed; inputs in $work/artifacts:" >&2
        ls "$work/artifacts" >&2
        grep -m 5 -E 'ERROR: |runtime error' "$log" >&2 || true
        status=1
    fi
done
exit $status
