#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# check-sddl.sh SHMBROKER_EXE
# Issue 8 items 10 and 12: a pipe SDDL that lets ordinary users create pipe
# instances (or gives them generic or owner rights) is refused, by
# --check-config and by the service at start; a named region whose SDDL
# grants FILE_MAP_READ without SECTION_QUERY gets a --check-config warning.
set -euo pipefail
. "$(dirname "$0")/env.sh"
exe=$1
dir="$SHMB_BUILD_DIR/check-sddl"
cfg="$dir/config.json"
fail() { echo "FAIL: $*" >&2; exit 1; }
check() { wine_q "$exe" --check-config --config "$(winepath -w "$cfg")" 2>&1; }
# config PIPE_SDDL REGION_SDDL
config() {
    cat >"$cfg" <<JSON
{"pipe": {"name": "\\\\\\\\.\\\\pipe\\\\shmb-sddl", "sddl": "$1"},
 "regions": [{"name": "legacy/status", "size": 4096,
              "global_name": "Global\\\\shmb-sddl-status", "sddl": "$2"}]}
JSON
}
good_pipe='D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;0x12019b;;;AU)S:(ML;;NW;;;LW)'

rm -rf "$dir" && mkdir -p "$dir"
config "$good_pipe" 'D:P(A;;GA;;;SY)(A;;0x5;;;AU)'
out=$(check) || fail "a good config was refused: $out"
echo "$out" | grep -q warning && fail "unexpected warning: $out"

config "$good_pipe" 'D:P(A;;GA;;;SY)(A;;0x4;;;AU)'
out=$(check) || fail "a reader without SECTION_QUERY is only a warning: $out"
echo "$out" | grep -q "warning: region 'legacy/status': the SDDL grants S-1-5-11 0x4 (FILE_MAP_READ) without SECTION_QUERY" ||
    fail "no warning: $out"

config 'D:P(A;;GA;;;SY)(A;;GA;;;AU)' 'D:P(A;;GA;;;SY)(A;;0x5;;;AU)'
out=$(check) && fail "a pipe SDDL giving users GA was accepted"
echo "$out" | grep -q "invalid: pipe SDDL grants S-1-5-11 access 0x10000000" ||
    fail "unexpected: $out"
config 'D:P(A;;GA;;;SY)(A;;0x12019f;;;AU)' 'D:P(A;;GA;;;SY)(A;;0x5;;;AU)'
out=$(check) && fail "a pipe SDDL giving users FILE_CREATE_PIPE_INSTANCE was accepted"
echo "$out" | grep -q "FILE_CREATE_PIPE_INSTANCE" || fail "unexpected: $out"

# The shipped example grants its Global\ readers 0x5 (item 12).
example="$(dirname "$0")/../../installer/config.example.json"
out=$(wine_q "$exe" --check-config --config "$(winepath -w "$example")" 2>&1) ||
    fail "the example config was refused: $out"
echo "$out" | grep -q warning && fail "the example config warns: $out"

# The service refuses to start on it, and says why in its log.
name=shmb-sddl
log="$SHMB_BUILD_DIR/service-$name.log"
bash "$(dirname "$0")/service.sh" refused "$name" "$exe" "$cfg" >/dev/null ||
    fail "service did not refuse to start"
# Under Wine, sc start may return before the new process has reported
# anything, so "stopped" can be seen before it ran: wait for its word.
said() { grep -q "pipe SDDL grants S-1-5-11 access 0x12019f" "$log" 2>/dev/null; }
wait_until 30 said || { cat "$log"; fail "no reason in the log"; }
echo "check-sddl: pipe SDDL for users refused; reader without SECTION_QUERY warned"
