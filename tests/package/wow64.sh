#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# wow64.sh X86_BUILD_DIR PRODUCER64 - a 32-bit client against the 64-bit
# service: the producer (64-bit) leaves a message, the 32-bit consumer
# (build/windows-x86, the windows-x86 preset) opens the region, maps it
# and reads the same bytes, and deletes it.
#
# First, without Wine: the 32-bit build is complete and 32-bit (PE32, i386);
# skipped if there is no such build tree at all.
# Then it needs wine32 (WoW64); where wine32 is not installed the test is
# skipped (exit 77) with the reason, never passed.
set -euo pipefail
x86=$1
producer=$2
. "$(dirname "$0")/../wine/env.sh"
fail() { echo "FAIL: $*" >&2; exit 1; }

consumer=$x86/examples/shmb_consumer.exe
if [ ! -d "$x86" ]; then
    echo "SKIP: no 32-bit build in $x86 (bash scripts/build.sh windows-x86; scripts/test.sh always builds it)"
    exit 77
fi
for f in "$consumer" "$x86/examples/shmb.dll" "$x86/client/shmbctl.exe" "$x86/client/libshmb.a"; do
    [ -f "$f" ] || fail "$f missing: build the 32-bit client first (scripts/build.sh windows-x86)"
done
for f in "$consumer" "$x86/examples/shmb.dll" "$x86/client/shmbctl.exe"; do
    fmt=$(i686-w64-mingw32-objdump -f "$f" | sed -n 's/.*file format //p')
    [ "$fmt" = pei-i386 ] || fail "$f is $fmt, not 32-bit (pei-i386)"
done
echo "32-bit build: $consumer, shmb.dll, shmbctl.exe are pei-i386"
src=$(cd "$(dirname "$0")/../.." && pwd)
OBJDUMP=i686-w64-mingw32-objdump bash "$src/tests/package/check-exports.sh" \
    "$x86/client/shmb.dll" "$src/client/include" "$src/common/include/shmb_types.h"

if [ "$(dpkg-query -W -f='${Status}' wine32:i386 2>/dev/null)" != "install ok installed" ]; then
    echo "SKIP: wine32:i386 is not installed, so Wine cannot run 32-bit programs here (see README.md, Packaging: apt could not install it on the build machine)"
    exit 77
fi

region="it/wow64/example-$$"
text="from a 64-bit producer to a 32-bit consumer $$"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
wine "$producer" "$region" "$text" </dev/null || fail "64-bit producer"
rc=0
wine "$consumer" "$region" --delete </dev/null >"$out" 2>&1 || rc=$?
cat "$out"
[ "$rc" = 0 ] || fail "32-bit consumer exit $rc"
grep -q "consumer: read \"$text\" from '$region' (ro grant)" "$out" ||
    fail "the 32-bit consumer did not read the producer's bytes"
echo PASS
