#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# reload.sh SHMBROKER_EXE SHMBCTL_EXE
# Policy reload without a restart (SERVICE_CONTROL_PARAMCHANGE, sent by
# "shmbctl reload"): a new rule takes effect at once; an invalid file is
# refused and the running policy stays.
set -euo pipefail
. "$(dirname "$0")/env.sh"
exe=$1 ctl=$2
name=shmb-reload
pipe='\\.\pipe\shmb-reload'
dir="$SHMB_BUILD_DIR/reload"
cfg="$dir/config.json"
log="$SHMB_BUILD_DIR/service-$name.log"
fail() { echo "FAIL: $*" >&2; exit 1; }
ctl_() { wine_q "$ctl" --pipe "$pipe" --service "$name" "$@" 2>&1; }
reloads() { grep -c "event=config_reloaded\|event=reload_failed" "$log" || true; }
reloaded_since() { [ "$(reloads)" -gt "$1" ]; }
reload() {
    local before
    before=$(reloads)
    ctl_ reload >/dev/null || fail "reload request refused"
    wait_until 10 reloaded_since "$before" ||
        fail "the service did not act on the reload"
}

rm -rf "$dir" && mkdir -p "$dir" && chmod 755 "$dir"
echo '{"rules":[{"name":"a","regions":["r/a/**"],"create":true}]}' >"$cfg"
chmod 644 "$cfg"
bash "$(dirname "$0")/service.sh" install "$name" "$exe" "$cfg" --pipe "$pipe" >/dev/null

out=$(ctl_ create r/b/x 10) && fail "created before the rule existed: $out"
echo "$out" | grep -q "access_denied" || fail "unexpected: $out"

echo '{"rules":[{"name":"a","regions":["r/a/**"],"create":true},
 {"name":"b","regions":["r/b/**"],"create":true}]}' >"$cfg"
reload
grep -q "event=config_reloaded rules=2" "$log" || fail "no reload in the log"
out=$(ctl_ create r/b/x 10) || fail "new rule not applied: $out"

echo '{"rules":[{"name":"b","regions":["r/b/**"],"create":"maybe"}]}' >"$cfg"
reload
grep -q "event=reload_failed reason=.*rules\[0\].create: must be true" "$log" ||
    { cat "$log"; fail "bad config not reported"; }
out=$(ctl_ create r/b/y 10) || fail "running policy lost after a bad reload: $out"

bash "$(dirname "$0")/service.sh" remove "$name" >/dev/null
echo "reload: new rule applied live; invalid file refused, policy kept"
