#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# scripts/demo.sh - on a fresh Debian 12 machine: installs what is missing,
# builds the Windows binaries, prepares a private Wine prefix, installs the
# broker as a service with sc.exe, and runs two processes that share memory
# through it: a writer (read-write grant) and a reader (read-only grant,
# whose write attempt the kernel refuses); then the data-plane examples (a
# shmb_ring producer and consumer, a shmb_snapshot telemetry writer and a
# read-only reader). Then stops and deletes the service. Everything stays inside build/windows.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

bash scripts/build.sh windows

export SHMB_BUILD_DIR="$repo/build/windows"
. tests/wine/env.sh
bin="$SHMB_BUILD_DIR"
svc=shmbroker
if [ -t 1 ]; then
    say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
else
    say() { printf '\n%s\n' "$*"; }
fi
show() { printf '  $ %s\n' "$*"; }

cleanup() {
    wine_q sc stop "$svc" >/dev/null 2>&1 || true
    wait_state "$svc" STOPPED 20 >/dev/null 2>&1 || true
    wine_q sc delete "$svc" >/dev/null 2>&1 || true
    bash tests/wine/prefix.sh down >/dev/null 2>&1 || true
}
trap cleanup EXIT

say "1. Wine prefix (private to this build): $WINEPREFIX"
bash tests/wine/prefix.sh up

say "2. Install and start the service with sc.exe"
exe=$(winepath -w "$bin/service/shmbroker.exe")
log="$bin/service-demo.log"
: >"$log"
winlog=$(winepath -w "$log")
wine_q sc stop "$svc" >/dev/null 2>&1 || true
wine_q sc delete "$svc" >/dev/null 2>&1 || true
config=$(winepath -w "$repo/installer/config.example.json")
show "shmbroker --check-config --config $config"
wine_q "$bin/service/shmbroker.exe" --check-config --config "$config" | sed 's/^/    /'
show "sc create $svc binPath= \"$exe --config $config --log $winlog\" start= demand"
wine_q sc create "$svc" binPath= "\"$exe\" --config \"$config\" --log \"$winlog\"" start= demand >/dev/null
show "sc start $svc"
wine_q sc start "$svc" >/dev/null
wait_state "$svc" RUNNING 30
show "sc query $svc"
wine_q sc query "$svc" | sed -n 's/^ *\(SERVICE_NAME\|STATE\).*/    &/p' | sed 's/^ *\(SERVICE_NAME\|STATE\)/    \1/'
show "shmbctl ping"
wine_q "$bin/client/shmbctl.exe" ping | sed 's/^/    /'

say "3. Two processes share memory through the broker"
echo "  writer: creates 'demo/hello' with a read-write grant and keeps a counter ticking"
echo "  reader: asks for read-write (the policy says no, and why), opens it read-only,"
echo "          reads, then tries to map it for writing"
echo
echo "  then the data plane, two processes each (docs/dataplane.md):"
echo "  ring:      users/<your SID>/demo-ring (the 'own-namespace' rule), 2 doorbells;"
echo "             the producer sleeps on 'room' when full, the consumer on 'data'"
echo "  telemetry: telemetry/counters (declared in the config; administrators write,"
echo "             everyone reads read-only) with one doorbell: the writer rings it,"
echo "             the readers may only wait on it"
echo
bash tests/wine/demo-run.sh "$bin/client/shmb_demo.exe" demo/hello "$bin/examples" telemetry/counters |
    sed 's/^/    /'

say "4. The writer has exited: its 'client' region went with it"
show "shmbctl stat demo/hello"
if out=$(wine_q "$bin/client/shmbctl.exe" stat demo/hello 2>&1); then
    echo "    UNEXPECTED: $out"
    exit 1
fi
echo "    $out"

say "5. What the service logged (structured, one event per line)"
grep -E "event=(config_loaded|started|create|grant|refused|region_freed)" "$log" | cut -d' ' -f3- | sed 's/^/    /'

say "6. Stop and delete the service"
show "sc stop $svc"
wine_q sc stop "$svc" >/dev/null
wait_state "$svc" STOPPED 30
echo "    STATE: STOPPED"
show "sc delete $svc"
wine_q sc delete "$svc" >/dev/null
echo "    deleted"
say "Demo complete: bytes crossed processes through a broker-granted section; the read-only grant was enforced by the kernel."
