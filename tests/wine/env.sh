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

# wait_until SECONDS CMD...: runs CMD every 0.05 s until it succeeds
# (returns 0) or SECONDS have passed (returns 1). CMD runs once more after
# the deadline, so a slow machine gets the full time.
wait_until() {
    local secs=$1 end
    shift
    end=$(($(date +%s%N) + secs * 1000000000))
    until "$@"; do
        if [ "$(date +%s%N)" -ge "$end" ]; then
            if "$@"; then return 0; fi
            return 1
        fi
        sleep 0.05
    done
}

# state_is NAME STATE...: the service is in one of the STATEs.
state_is() {
    local name=$1 s want
    s=$(service_state "$name")
    shift
    for want in "$@"; do
        [ "$s" = "$want" ] && return 0
    done
    return 1
}

# wait_state NAME STATE SECONDS
wait_state() {
    wait_until "$3" state_is "$1" "$2" && return 0
    echo "service $1 did not reach $2 within $3 s (state: $(service_state "$1"))" >&2
    return 1
}
