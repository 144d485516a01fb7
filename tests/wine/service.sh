#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# service.sh install NAME EXE CONFIG [SERVICE ARGS...]
#            install and start; wait for RUNNING
# service.sh refused NAME EXE CONFIG [SERVICE ARGS...]
#            install and start a service that must refuse to start: wait
#            for STOPPED (fail if it ever runs), then delete it
# service.sh remove NAME
#            stop (waiting for STOPPED) and delete
# CONFIG is a Linux path to the config file, or "-" for the built-in one.
# The service logs to $SHMB_BUILD_DIR/service-NAME.log (emptied first).
set -euo pipefail
. "$(dirname "$0")/env.sh"

remove() {
    local name=$1
    if [ "$(service_state "$name")" = NONE ]; then
        return 0
    fi
    if [ "$(service_state "$name")" != STOPPED ]; then
        wine_q sc stop "$name" >/dev/null 2>&1 || true
        wait_state "$name" STOPPED 30
    fi
    wine_q sc delete "$name" >/dev/null
    echo "service $name stopped and deleted"
}

# create NAME EXE CONFIG [ARGS...]: sc create with our binPath; sets $bin.
create() {
    local name=$1 exe=$2 config=$3 log cfgarg= verbose=--verbose
    shift 3
    remove "$name" >/dev/null # a leftover of an interrupted run
    log="$SHMB_BUILD_DIR/service-$name.log"
    : >"$log"
    if [ "$config" != - ]; then
        cfgarg="--config \"$(winepath -w "$config")\""
    fi
    # Identity details in the log; SHMB_SERVICE_VERBOSE=0 turns them off.
    [ "${SHMB_SERVICE_VERBOSE:-1}" = 0 ] && verbose=
    bin="\"$(winepath -w "$exe")\" --service-name $name --log \"$(winepath -w "$log")\" $verbose $cfgarg $*"
    wine_q sc create "$name" binPath= "$bin" start= demand \
        DisplayName= "shmbroker ($name)" >/dev/null
}

# settled NAME: the service is RUNNING or STOPPED, left in $state.
settled() {
    state=$(service_state "$1")
    [ "$state" = RUNNING ] || [ "$state" = STOPPED ]
}

case "${1:-}" in
install)
    shift
    create "$@"
    wine_q sc description "$1" "Brokers shared memory sections" >/dev/null || true
    wine_q sc start "$1" >/dev/null
    wait_state "$1" RUNNING 30
    echo "service $1 RUNNING: $bin"
    ;;
refused)
    shift
    create "$@"
    wine_q sc start "$1" >/dev/null || true
    wait_until 30 settled "$1" || { echo "service $1 did not stop" >&2; exit 1; }
    [ "$state" = STOPPED ] || { echo "service $1 started" >&2; exit 1; }
    wine_q sc delete "$1" >/dev/null
    echo "service $1 refused to start, as expected"
    ;;
remove)
    remove "$2"
    ;;
*)
    echo "usage: service.sh install|refused NAME EXE CONFIG|- [ARGS...] | remove NAME" >&2
    exit 2
    ;;
esac
