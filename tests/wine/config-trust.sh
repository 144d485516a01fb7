#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# config-trust.sh SHMBROKER_EXE
# The config is the service's policy, so it (and its folder) must be under
# administrators' control: a file or folder others can write is refused,
# by --check-config and by the service at start. Under Wine a file's
# descriptor follows its Unix mode, so "o+w" really is "Everyone: write".
set -euo pipefail
. "$(dirname "$0")/env.sh"
exe=$1
dir="$SHMB_BUILD_DIR/trust"
cfg="$dir/config.json"
fail() { echo "FAIL: $*" >&2; exit 1; }
check() { wine_q "$exe" --check-config --config "$(winepath -w "$cfg")" 2>&1; }

rm -rf "$dir" && mkdir -p "$dir"
cp "$(dirname "$0")/../data/itest-config.json" "$cfg"
chmod 755 "$dir"
chmod 644 "$cfg"
out=$(check) || fail "a private config was refused: $out"

chmod 666 "$cfg"
out=$(check) && fail "a world-writable config was accepted"
echo "$out" | grep -q "config.json is writable by S-1-1-0" || fail "unexpected: $out"

chmod 644 "$cfg"
chmod 777 "$dir"
out=$(check) && fail "a config in a world-writable folder was accepted"
echo "$out" | grep -q "trust is writable by S-1-1-0" || fail "unexpected: $out"

# The service itself refuses to start on it, and says why in its log.
name=shmb-trust
log="$SHMB_BUILD_DIR/service-$name.log"
bash "$(dirname "$0")/service.sh" refused "$name" "$exe" "$cfg" \
    --pipe '\\.\pipe\shmb-trust' >/dev/null || fail "service did not refuse to start"
grep -q "event=config_invalid reason=.*trust is writable by S-1-1-0" "$log" ||
    { cat "$log"; fail "no reason in the log"; }
chmod 755 "$dir"
echo "config-trust: private config accepted; writable file or folder refused"
