#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# lifecycle.sh SHMBROKER_EXE SHMBCTL_EXE
# The service's whole sc.exe life, on its own name and pipe: create, start,
# query RUNNING, serve a client, stop with a client connected, query
# STOPPED, no longer serve, delete, query says it is gone.
set -euo pipefail
. "$(dirname "$0")/env.sh"
exe=$1 ctl=$2
name=shmb-lifecycle
pipe='\\.\pipe\shmb-lifecycle'
ctl_() { wine_q "$ctl" --pipe "$pipe" --service "$name" "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

bash "$(dirname "$0")/service.sh" remove "$name" >/dev/null
[ "$(service_state "$name")" = NONE ] || fail "leftover service"
bash "$(dirname "$0")/service.sh" install "$name" "$exe" "$(dirname "$0")/../data/itest-config.json" --pipe "$pipe"
[ "$(service_state "$name")" = RUNNING ] || fail "not RUNNING after start"
wine_q sc query "$name" | grep -q "RUNNING" || fail "sc query does not say RUNNING"

out=$(ctl_ ping) || fail "ping failed: $out"
echo "$out" | grep -q "pong (protocol 1)" || fail "unexpected ping output: $out"

# A client holding a region while the service stops must not hang the stop.
out=$(ctl_ create it/lc/persist 4096 --persistent) ||
    fail "create failed: $out"
wine_q sc stop "$name" >/dev/null
wait_state "$name" STOPPED 30 || fail "did not stop"
if ctl_ ping >/dev/null 2>&1; then
    fail "ping succeeded after stop"
fi
log="$SHMB_BUILD_DIR/service-$name.log"
grep -q "event=started" "$log" || fail "no start in the log"
grep -q "event=region_freed region=it/lc/persist reason=service_stop" "$log" ||
    fail "persistent region not freed at stop"
grep -q "event=stopped exit=0" "$log" || fail "no clean stop in the log"

# Start again: a fresh broker, regions from the last run are gone.
wine_q sc start "$name" >/dev/null
wait_state "$name" RUNNING 30 || fail "did not restart"
out=$(ctl_ stat it/lc/persist 2>&1) && fail "region survived a restart"
echo "$out" | grep -q "not_found" || fail "unexpected stat output: $out"

bash "$(dirname "$0")/service.sh" remove "$name"
[ "$(service_state "$name")" = NONE ] || fail "service still registered after delete"
echo "lifecycle: create/start/query/ping/stop/restart/delete all behaved"
