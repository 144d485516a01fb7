#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# demo-run.sh SHMB_DEMO_EXE [REGION [EXAMPLES_DIR [TELEMETRY_REGION]]]
# Runs the demo's writer and reader processes against the running service
# and checks what they report: same bytes, live counter, write refused.
# With EXAMPLES_DIR (where shmb_ring_producer.exe and friends are) it then
# runs the data-plane examples, two processes each: a ring producer and
# consumer in the caller's own namespace (~/demo-ring), and a telemetry
# writer and reader on TELEMETRY_REGION (default ~/demo-telemetry).
set -euo pipefail
. "$(dirname "$0")/env.sh"
demo=$1
region=${2:-demo/hello}
examples=${3:-}
telemetry=${4:-"~/demo-telemetry"}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

wine "$demo" writer "$region" 3 </dev/null >"$out/writer" 2>&1 &
wpid=$!
# Ready, or gone (then its output says why).
writer_up() { grep -q "writer: ready" "$out/writer" 2>/dev/null || ! kill -0 "$wpid" 2>/dev/null; }
wait_until 10 writer_up || true
grep -q "writer: ready" "$out/writer" || { cat "$out/writer"; echo "FAIL: writer not ready" >&2; exit 1; }
rc=0
wine "$demo" reader "$region" </dev/null >"$out/reader" 2>&1 || rc=$?
wait "$wpid" || { cat "$out/writer"; echo "FAIL: writer failed" >&2; exit 1; }
# In the order things happened: the writer outlives the reader.
grep -v "writer: done" "$out/writer"
cat "$out/reader"
grep "writer: done" "$out/writer" || true
[ "$rc" = 0 ] || { echo "FAIL: reader exit $rc" >&2; exit 1; }
wpid_w=$(sed -n 's/^writer: pid \([0-9]*\).*/\1/p' "$out/writer")
grep -q "reader: read \"hello from writer pid $wpid_w\"" "$out/reader" || { echo "FAIL: reader did not see the writer's bytes" >&2; exit 1; }
grep -q "asked for rw, broker said access_denied: open rw of '$region' is not allowed: rule 'demo' grants ro only" "$out/reader" || { echo "FAIL: rw not refused with an explanation" >&2; exit 1; }
grep -q "live: same memory" "$out/reader" || { echo "FAIL: counter did not move" >&2; exit 1; }
grep -q "refused by the kernel: error 5 (access denied)" "$out/reader" || { echo "FAIL: write not refused with error 5" >&2; exit 1; }

[ -n "$examples" ] || exit 0

# pair FIRST SECOND REGION [ARGS...]: the example shmb_FIRST.exe REGION ARGS
# in the background, shmb_SECOND.exe REGION in the foreground (it waits for
# the first to set the region up); both must succeed. Their output goes to
# $out/FIRST and $out/SECOND and is shown, in that order.
pair() {
    local first=$1 second=$2 region=$3 pid rc=0
    shift 3
    wine "$examples/shmb_$first.exe" "$region" "$@" </dev/null >"$out/$first" 2>&1 &
    pid=$!
    wine "$examples/shmb_$second.exe" "$region" </dev/null >"$out/$second" 2>&1 || rc=$?
    wait "$pid" || { cat "$out/$first" "$out/$second"; echo "FAIL: ${first//_/ } failed" >&2; exit 1; }
    cat "$out/$first" "$out/$second"
    [ "$rc" = 0 ] || { echo "FAIL: ${second//_/ } exit $rc" >&2; exit 1; }
}
echo
echo "ring: a producer creates a region with two doorbells and sends 2000 messages;"
echo "      a consumer in another process checks the order and every checksum"
pair ring_producer ring_consumer "~/demo-ring" 2000
sum=$(sed -n 's/.*sent 2000 messages, [0-9]* payload bytes, checksum \([0-9a-f]*\).*/\1/p' "$out/ring_producer")
[ -n "$sum" ] && grep -q "received 2000 messages in order, [0-9]* payload bytes, checksum $sum, all verified" "$out/ring_consumer" ||
    { echo "FAIL: the consumer did not receive what the producer sent" >&2; exit 1; }

echo
echo "snapshot: a writer publishes 60 telemetry samples into '$telemetry';"
echo "          a reader with a read-only grant follows the latest one"
pair telemetry_writer telemetry_reader "$telemetry" 60 40
grep -q "open with a ro grant" "$out/telemetry_reader" || { echo "FAIL: the reader's grant is not read-only" >&2; exit 1; }
if grep -q "1 doorbell" "$out/telemetry_reader"; then
    grep -q "ringing the doorbell ourselves: refused (error 5)" "$out/telemetry_reader" ||
        { echo "FAIL: a read-only grant's doorbell could be rung" >&2; exit 1; }
fi
grep -q "samples, every one intact" "$out/telemetry_reader" || { echo "FAIL: the reader did not follow to the last sample" >&2; exit 1; }
