#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# check-exports.sh DLL HEADER|DIR... - the DLL exports exactly the functions
# that the public headers (DIR: every *.h in it) declare with SHMB_API: none
# missing (a function added to a header but not to the DLL), none extra
# (internal symbols leaking out of it). Needs x86_64- or i686-w64-mingw32-
# objdump (OBJDUMP overrides).
set -euo pipefail
dll=$1
shift
headers=()
for h in "$@"; do
    if [ -d "$h" ]; then headers+=("$h"/*.h); else headers+=("$h"); fi
done
: "${OBJDUMP:=x86_64-w64-mingw32-objdump}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Declarations: comments and preprocessor lines out (the SHMB_API macro's
# own definition), then every "SHMB_API <type> name(" across line breaks.
for h in "${headers[@]}"; do
    sed -e 's://.*$::' "$h"
done | perl -0777 -ne '
    s{/\*.*?\*/}{ }gs;
    s{^[ \t]*#.*$}{}gm;
    while (/\bSHMB_API\b[^;{}()]*?\b([A-Za-z_]\w*)\s*\(/g) { print "$1\n" }
' | sort -u >"$work/declared"

# Exports: the "[Ordinal/Name Pointer] Table" of the PE export directory.
"$OBJDUMP" -p "$dll" | awk '
    /\[Ordinal\/Name Pointer\] Table/ { on = 1; next }
    on && /^[ \t]*\[ *[0-9]+\]/ { print $NF; next }
    on && NF == 0 { on = 0 }
' | sort -u >"$work/exported"

[ -s "$work/declared" ] || { echo "FAIL: no SHMB_API declarations in $*" >&2; exit 1; }
[ -s "$work/exported" ] || { echo "FAIL: $dll exports nothing" >&2; exit 1; }
status=0
if ! diff -u "$work/declared" "$work/exported" >"$work/diff"; then
    echo "FAIL: $dll's exports differ from the SHMB_API declarations (- declared only, + exported only):" >&2
    grep '^[-+][^-+]' "$work/diff" >&2
    status=1
fi
echo "$(wc -l <"$work/exported") exports, $(wc -l <"$work/declared") SHMB_API declarations"
exit $status
