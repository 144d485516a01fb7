#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# demo-run.sh SHMB_DEMO_EXE [REGION]
# Runs the demo's writer and reader processes against the running service
# and checks what they report: same bytes, live counter, write refused.
set -euo pipefail
. "$(dirname "$0")/env.sh"
demo=$1
region=${2:-demo/hello}
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
