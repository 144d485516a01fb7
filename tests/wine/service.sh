#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# service.sh install NAME EXE CONFIG [SERVICE ARGS...] | remove NAME
# CONFIG is a Linux path to the config file, or "-" for the built-in one.
# Installs the service with sc.exe, starts it and waits for RUNNING; or
# stops it (waiting for STOPPED) and deletes it. The service logs to
# $SHMB_BUILD_DIR/service-NAME.log.
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

case "${1:-}" in
install)
    name=$2 exe=$3 config=$4
    shift 4
    remove "$name" # a leftover of an interrupted run
    winexe=$(winepath -w "$exe")
    log="$SHMB_BUILD_DIR/service-$name.log"
    : >"$log"
    winlog=$(winepath -w "$log")
    cfgarg=
    if [ "$config" != - ]; then
        cfgarg="--config \"$(winepath -w "$config")\""
    fi
    verbose=--verbose # identity details in the log; SHMB_SERVICE_VERBOSE=0: off
    [ "${SHMB_SERVICE_VERBOSE:-1}" = 0 ] && verbose=
    bin="\"$winexe\" --service-name $name --log \"$winlog\" $verbose $cfgarg $*"
    wine_q sc create "$name" binPath= "$bin" start= demand \
        DisplayName= "shmbroker ($name)" >/dev/null
    wine_q sc description "$name" "Brokers shared memory sections" >/dev/null || true
    wine_q sc start "$name" >/dev/null
    wait_state "$name" RUNNING 30
    echo "service $name RUNNING: $bin"
    ;;
remove)
    remove "$2"
    ;;
*)
    echo "usage: service.sh install NAME EXE CONFIG|- [ARGS...] | remove NAME" >&2
    exit 2
    ;;
esac
