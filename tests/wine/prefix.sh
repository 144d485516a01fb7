#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# prefix.sh up|down - prepare or tear down this build's Wine prefix, in the
# order shared/WINE.md gives: wineboot -i (new prefix only), wineserver -k,
# wineserver -p (persistent, or Debian's wrapper would end the server - and
# our service - after every command), then wine wineboot with no inherited
# output so services.exe does not hold a harness's pipes open.
set -euo pipefail
. "$(dirname "$0")/env.sh"

case "${1:-}" in
up)
    mkdir -p "$(dirname "$WINEPREFIX")"
    if [ ! -f "$WINEPREFIX/system.reg" ]; then
        echo "creating Wine prefix $WINEPREFIX"
        wineboot -i </dev/null >"$SHMB_BUILD_DIR/wineboot.log" 2>&1 || {
            tail -20 "$SHMB_BUILD_DIR/wineboot.log" >&2
            exit 1
        }
    fi
    wineserver -k </dev/null >/dev/null 2>&1 || true
    wineserver -w </dev/null >/dev/null 2>&1 || true
    wineserver -p </dev/null >/dev/null 2>&1
    wine wineboot </dev/null >/dev/null 2>&1
    echo "Wine prefix ready: $WINEPREFIX"
    ;;
down)
    # Only this prefix's server: WINEPREFIX selects it.
    wineserver -k </dev/null >/dev/null 2>&1 || true
    echo "Wine server for $WINEPREFIX stopped"
    ;;
*)
    echo "usage: prefix.sh up|down" >&2
    exit 2
    ;;
esac
