# SPDX-License-Identifier: MPL-2.0
# Sourced by the Wine test scripts: the isolated prefix and quiet Wine.
# ctest passes WINEPREFIX (inside the build tree); default to build/windows.
: "${SHMB_BUILD_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/windows}"
: "${WINEPREFIX:=$SHMB_BUILD_DIR/wineprefix}"
export SHMB_BUILD_DIR WINEPREFIX
export WINEARCH=win64 WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
unset DISPLAY WAYLAND_DISPLAY
# Wine runs services as an ordinary user, never LocalSystem, so clients
# verify the server by the SCM's process id instead (shmb.h,
# SHMB_TRUST_SERVICE). The LocalSystem check has tests of its own.
export SHMB_SERVER_TRUST=service

# wine_q CMD...: run a Windows command with no inherited stdin.
wine_q() { wine "$@" </dev/null; }

# service_state NAME: prints RUNNING, STOPPED, START_PENDING, ... or NONE.
service_state() {
    local out
    out=$(wine_q sc query "$1" 2>/dev/null) || { echo NONE; return; }
    printf '%s\n' "$out" | sed -n 's/.*STATE *: *[0-9]* *\([A-Z_]*\).*/\1/p' | head -n1
}

# wait_state NAME STATE SECONDS
wait_state() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        [ "$(service_state "$1")" = "$2" ] && return 0
        sleep 0.1
    done
    echo "service $1 did not reach $2 within $3 s (state: $(service_state "$1"))" >&2
    return 1
}
