#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# examples.sh SOURCE_DIR BUILD_DIR DEPS_PREFIX - the installed client package
# as a new user meets it: `cmake --install` into a temporary prefix, the
# layout, the DLL's exports, examples/ configured against that prefix with
# find_package(shmbroker) and built, the consumer built again from
# `pkg-config shmbroker` alone, and the programs run under Wine
# against the installed test service: the producer leaves a message, both
# consumers read it, the second deletes the region; then the data-plane
# pairs, each side its own process: ring producer and consumer (every
# message in order, checksums agree), telemetry writer and two readers.
set -euo pipefail
src=$1
build=$2
deps=$3
. "$src/tests/wine/env.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "== cmake --install $build --prefix <tmp>/prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.log" ||
    { cat "$work/install.log"; fail "cmake --install"; }
for f in include/shmb.h include/shmb_types.h lib/libshmb.a lib/libshmb_dll.dll.a \
    lib/cmake/shmbroker/shmbroker-config.cmake \
    lib/cmake/shmbroker/shmbroker-config-version.cmake \
    lib/cmake/shmbroker/shmbroker-targets.cmake lib/pkgconfig/shmbroker.pc \
    bin/shmb.dll bin/shmbctl.exe bin/shmbroker.exe share/shmbroker/config.example.json \
    share/shmbroker/examples/CMakeLists.txt share/doc/shmbroker/protocol.md \
    share/doc/shmbroker/LICENSE; do
    [ -f "$prefix/$f" ] || fail "$f is not installed"
done
# The archive is self-contained: nothing of ours is left undefined in it
# (only cJSON, the C run time and Win32).
nm=x86_64-w64-mingw32-nm
"$nm" -u "$prefix/lib/libshmb.a" | awk 'NF && !/:$/ {print $NF}' | sort -u >"$work/undefined"
"$nm" --defined-only "$prefix/lib/libshmb.a" | awk 'NF == 3 {print $3}' | sort -u >"$work/defined"
comm -23 "$work/undefined" "$work/defined" >"$work/needed"
ours=$(grep -E '^shmb_|^(frame|proto|json|registry|policy|config|log|identity)_' "$work/needed" || true)
[ -z "$ours" ] || fail "libshmb.a needs symbols of ours it does not contain: $ours"
bash "$src/tests/package/check-exports.sh" "$prefix/bin/shmb.dll" "$prefix/include"

echo "== examples/ with find_package(shmbroker) from the installed prefix"
# The installed sources, the prefix and cJSON's: nothing from the source or
# build tree but the toolchain file.
cmake -S "$prefix/share/shmbroker/examples" -B "$work/examples" -G Ninja \
    -DCMAKE_TOOLCHAIN_FILE="$src/cmake/mingw-w64.cmake" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$prefix;$deps" >"$work/configure.log" 2>&1 ||
    { cat "$work/configure.log"; fail "configuring examples/ against the package"; }
cmake --build "$work/examples" >"$work/build.log" 2>&1 ||
    { cat "$work/build.log"; fail "building examples/ against the package"; }
grep -q "$prefix/lib/libshmb.a" "$work/examples/build.ninja" ||
    fail "the producer did not link the installed libshmb.a"

echo "== consumer from pkg-config shmbroker"
export PKG_CONFIG_LIBDIR="$prefix/lib/pkgconfig:$deps/lib/pkgconfig"
unset PKG_CONFIG_PATH
flags=$(pkg-config --cflags --libs shmbroker) || fail "pkg-config shmbroker"
echo "pkg-config: $flags"
# shellcheck disable=SC2086 # the flags are words
x86_64-w64-mingw32-gcc -std=c11 -Wall -Werror -o "$work/consumer-pc.exe" \
    "$prefix/share/shmbroker/examples/consumer.c" $flags || fail "linking with pkg-config's flags"

echo "== producer, then the consumers, under Wine against the service"
region="it/package/example-$$"
text="hello from the installed package $$"
run() {
    local rc=0
    wine "$@" </dev/null >"$work/out" 2>&1 || rc=$?
    cat "$work/out"
    return $rc
}
run "$work/examples/shmb_producer.exe" "$region" "$text" || fail "producer"
run "$work/examples/shmb_consumer.exe" "$region" || fail "consumer (DLL)"
grep -q "consumer: read \"$text\" from '$region' (ro grant)" "$work/out" ||
    fail "the DLL consumer did not read the producer's bytes"
run "$work/consumer-pc.exe" "$region" --delete || fail "consumer (pkg-config)"
grep -q "consumer: read \"$text\"" "$work/out" ||
    fail "the pkg-config consumer did not read the producer's bytes"
rc=0
run "$work/examples/shmb_consumer.exe" "$region" || rc=$?
if [ "$rc" != 1 ] || ! grep -q "not_found" "$work/out"; then
    fail "the region outlived --delete"
fi

echo "== ring producer and consumer, two processes"
ring="it/package/ring-$$"
wine "$work/examples/shmb_ring_producer.exe" "$ring" 2000 </dev/null >"$work/producer.out" 2>&1 &
ppid_=$!
rc=0
run "$work/examples/shmb_ring_consumer.exe" "$ring" || rc=$?
wait "$ppid_" || { cat "$work/producer.out"; fail "ring producer"; }
cat "$work/producer.out"
[ "$rc" = 0 ] || fail "ring consumer (exit $rc)"
sum=$(sed -n 's/.*sent 2000 messages, [0-9]* payload bytes, checksum \([0-9a-f]*\).*/\1/p' "$work/producer.out")
[ -n "$sum" ] || fail "the ring producer did not report its checksum"
grep -q "received 2000 messages in order, [0-9]* payload bytes, checksum $sum, all verified" "$work/out" ||
    fail "the ring consumer did not receive what the producer sent"

echo "== telemetry writer and two read-only readers"
tele="it/package/telemetry-$$"
wine "$work/examples/shmb_telemetry_writer.exe" "$tele" 100 30 </dev/null >"$work/writer.out" 2>&1 &
wpid_=$!
pids=()
for i in 1 2; do
    wine "$work/examples/shmb_telemetry_reader.exe" "$tele" </dev/null >"$work/reader$i.out" 2>&1 &
    pids+=($!)
done
wait "$wpid_" || { cat "$work/writer.out"; fail "telemetry writer"; }
cat "$work/writer.out"
for i in 1 2; do
    rc=0
    wait "${pids[$((i - 1))]}" || rc=$?
    cat "$work/reader$i.out"
    [ "$rc" = 0 ] || fail "telemetry reader $i (exit $rc)"
    grep -q "open with a ro grant, 1 doorbell" "$work/reader$i.out" || fail "reader $i: not a read-only grant with its doorbell"
    grep -q "ringing the doorbell ourselves: refused (error 5)" "$work/reader$i.out" ||
        fail "reader $i: a read-only grant's doorbell could be rung"
    grep -q "samples, every one intact" "$work/reader$i.out" || fail "reader $i did not follow to the last sample"
done
echo "PASS"
