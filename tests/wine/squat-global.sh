#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# squat-global.sh SHMBROKER_EXE SHMB_ITEST_EXE
# DESIGN.md rule 1: a config region with a Global\ name must be created by
# the broker, never taken over from someone else. A squatter creates the
# name first: the service must refuse to start, and say why. Without the
# squatter it starts. Issue 8 item 8: a reader holding the name the service
# created keeps it alive across a restart; the service then adopts its own
# object (same owner, DACL, label and size) and starts.
set -euo pipefail
. "$(dirname "$0")/env.sh"
exe=$1 itest=$2
name=shmb-squat
gname='Global\shmb-squatted'
dir="$SHMB_BUILD_DIR/squat"
fail() { echo "FAIL: $*" >&2; exit 1; }
mkdir -p "$dir"
cfg="$dir/config.json"
cat >"$cfg" <<JSON
{"pipe": {"name": "\\\\\\\\.\\\\pipe\\\\shmb-squat"},
 "regions": [{"name": "legacy/x", "size": 4096,
              "global_name": "Global\\\\shmb-squatted",
              "sddl": "D:P(A;;GA;;;SY)(A;;GA;;;BA)"}]}
JSON
wine_q "$exe" --check-config --config "$(winepath -w "$cfg")" >/dev/null ||
    fail "test config invalid"

# The squatter holds the name until its stdin closes: we keep the write
# end of a FIFO open on fd 3 and close it when the name should be free.
rm -f "$dir/squatter.in" && mkfifo "$dir/squatter.in"
wine "$itest" child-squat-section "$gname" <"$dir/squatter.in" >"$dir/squatter.out" 2>&1 &
squatter=$!
exec 3>"$dir/squatter.in"
trap 'exec 3>&-' EXIT
squatting() { grep -q squatting "$dir/squatter.out" 2>/dev/null; }
wait_until 10 squatting || fail "squatter did not start"

log="$SHMB_BUILD_DIR/service-$name.log"
bash "$(dirname "$0")/service.sh" refused "$name" "$exe" "$cfg" >/dev/null ||
    fail "service did not refuse to start while the name was squatted"
grep -q "config region 'legacy/x': Global.shmb-squatted already exists; refusing" "$log" ||
    { cat "$log"; fail "no refusal in the log"; }
grep -q "event=started" "$log" && fail "service reported started"

exec 3>&- # the squatter exits and the name is free
wait "$squatter" || fail "the squatter failed: $(cat "$dir/squatter.out")"
bash "$(dirname "$0")/service.sh" install "$name" "$exe" "$cfg" >/dev/null ||
    { cat "$log"; fail "no start without the squatter"; }

# A reader (Administrators may open it by name) holds the service's object
# while the service restarts.
: >"$dir/squatter.out"
wine "$itest" child-squat-section "$gname" <"$dir/squatter.in" >"$dir/squatter.out" 2>&1 &
reader=$!
exec 3>"$dir/squatter.in"
wait_until 10 squatting || fail "reader did not start"
bash "$(dirname "$0")/service.sh" remove "$name" >/dev/null
bash "$(dirname "$0")/service.sh" install "$name" "$exe" "$cfg" >/dev/null ||
    { cat "$log"; fail "no restart while a reader held the name"; }
grep -q "event=started" "$log" || { cat "$log"; fail "not started"; }
exec 3>&-
wait "$reader" || fail "the reader failed: $(cat "$dir/squatter.out")"
bash "$(dirname "$0")/service.sh" remove "$name"
echo "squat-global: refused while squatted, started once the name was free," \
    "restarted while a reader held it"
