#!/usr/bin/env bash
# scripts/deps-mingw.sh [OUT_PREFIX]
#
# Cross-build the Windows (x86_64, MinGW-w64) static libraries shmbroker
# depends on -- libuv and cJSON -- from the Debian source packages (with the
# Debian patches applied), using cmake/mingw-w64.cmake.
#
#   OUT_PREFIX           default: <repo>/build/windows-deps
#   OUT_PREFIX/install   headers, static libs, CMake package configs, .pc files
#                        -> pass it as -DCMAKE_PREFIX_PATH to the Windows build
#   OUT_PREFIX/src       downloaded Debian sources and unpacked trees
#   OUT_PREFIX/build     CMake build trees
#   OUT_PREFIX/logs      build logs (apt.log, <pkg>-*.log)
#   OUT_PREFIX/stamp     inputs of the last successful build; when they are
#                        unchanged the script exits immediately
#
# Environment:
#   DEPS_FORCE=1         rebuild even if the stamp matches
#   DEPS_JOBS=N          parallel build jobs (default: nproc)
#
# Needs root (or password-less sudo) only to install missing Debian packages
# and to add the deb-src entry; downloads come from the configured Debian
# mirrors only.

set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$SCRIPT_DIR/.." && pwd)"
readonly SCRIPT_DIR REPO_DIR
readonly TOOLCHAIN_FILE="$REPO_DIR/cmake/mingw-w64.cmake"
readonly TRIPLET=x86_64-w64-mingw32

# Bump when the build recipe changes in a way the hashes below do not catch.
readonly RECIPE_VERSION=1

# Debian source packages to build (source package names).
readonly SRC_PKGS=(libuv1 cjson)

# Host tools needed (Debian binary packages).
readonly TOOL_PKGS=(gcc-mingw-w64-x86-64 mingw-w64-x86-64-dev binutils-mingw-w64-x86-64
                    dpkg-dev cmake ninja-build xz-utils patch)

die() {
    printf 'deps-mingw: error: %s\n' "$*" >&2
    exit 1
}

note() {
    printf 'deps-mingw: %s\n' "$*" >&2
}

usage() {
    sed -n '2,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

case "${1:-}" in
    -h|--help) usage; exit 0 ;;
    -*) die "unknown option '$1' (usage: $0 [OUT_PREFIX])" ;;
esac
[[ $# -le 1 ]] || die "too many arguments (usage: $0 [OUT_PREFIX])"

OUT_PREFIX=${1:-$REPO_DIR/build/windows-deps}
mkdir -p "$OUT_PREFIX"
OUT_PREFIX=$(cd "$OUT_PREFIX" && pwd)
readonly OUT_PREFIX
readonly INSTALL_DIR="$OUT_PREFIX/install"
readonly SRC_DIR="$OUT_PREFIX/src"
readonly BUILD_DIR="$OUT_PREFIX/build"
readonly LOG_DIR="$OUT_PREFIX/logs"
readonly STAMP_FILE="$OUT_PREFIX/stamp"

# Files that must exist for the install tree to be considered complete.
readonly REQUIRED_FILES=(
    include/uv.h
    lib/libuv_a.a
    lib/cmake/libuv/libuvConfig.cmake
    lib/pkgconfig/libuv-static.pc
    include/cjson/cJSON.h
    lib/libcjson.a
    lib/cmake/cJSON/cJSONConfig.cmake
    lib/pkgconfig/libcjson.pc
)

# ---------------------------------------------------------------------------
# Stamp: everything the result depends on. Computing it must stay cheap
# (local dpkg/apt database queries only, no network).

# Newest version of a source package known to the local apt lists.
src_version() {
    local v best=""
    while read -r v; do
        if [[ -z "$best" ]] || dpkg --compare-versions "$v" gt "$best"; then
            best=$v
        fi
    done < <(apt-cache showsrc --only-source "$1" 2>/dev/null |
             sed -n 's/^Version: *//p')
    [[ -n "$best" ]] || return 1
    printf '%s\n' "$best"
}

# Print the stamp content for the current inputs; fails when an input is
# unknown. With "cached", a source version apt knows nothing about (no deb-src
# lists, e.g. a fresh container with a cached OUT_PREFIX) is taken from the
# existing stamp instead: without newer information, what was built stands.
compute_stamp() {
    local pkg v cc
    echo "recipe=$RECIPE_VERSION"
    for pkg in "${SRC_PKGS[@]}"; do
        if ! v=$(src_version "$pkg"); then
            [[ "${1:-}" == cached && -f "$STAMP_FILE" ]] || return 1
            v=$(sed -n "s/^src:$pkg=//p" "$STAMP_FILE")
            [[ -n "$v" ]] || return 1
        fi
        echo "src:$pkg=$v"
    done
    for pkg in "${TOOL_PKGS[@]}"; do
        v=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null) || return 1
        [[ -n "$v" ]] || return 1
        echo "tool:$pkg=$v"
    done
    # The plain driver is an alternatives link (win32 or posix thread model).
    cc=$(command -v "$TRIPLET-gcc" || command -v "$TRIPLET-gcc-posix") || return 1
    echo "cc=$(readlink -f "$cc")"
    echo "sha256:deps-mingw.sh=$(sha256sum <"${BASH_SOURCE[0]}" | cut -d' ' -f1)"
    echo "sha256:mingw-w64.cmake=$(sha256sum <"$TOOLCHAIN_FILE" | cut -d' ' -f1)"
    echo "out=$OUT_PREFIX"
}

install_complete() {
    local f
    for f in "${REQUIRED_FILES[@]}"; do
        [[ -f "$INSTALL_DIR/$f" ]] || return 1
    done
}

stamp_matches() {
    local want
    [[ -f "$STAMP_FILE" && "${DEPS_FORCE:-0}" != 1 ]] || return 1
    install_complete || return 1
    want=$(compute_stamp cached) || return 1
    [[ "$want" == "$(cat "$STAMP_FILE")" ]]
}

[[ -f "$TOOLCHAIN_FILE" ]] || die "toolchain file not found: $TOOLCHAIN_FILE"

# Fast path: nothing changed since the last successful run.
if stamp_matches; then
    exit 0
fi

# ---------------------------------------------------------------------------
# Slow path. Serialise concurrent runs on the same OUT_PREFIX.

mkdir -p "$LOG_DIR"
exec 9>"$OUT_PREFIX/.lock"
if ! flock -n 9; then
    note "another deps-mingw.sh is running on $OUT_PREFIX; waiting..."
    flock 9
fi
if stamp_matches; then   # the other run may have done the work
    exit 0
fi

START_TIME=$SECONDS
export APT_LOG="$LOG_DIR/apt.log"
# shellcheck source=scripts/lib/apt.sh
. "$SCRIPT_DIR/lib/apt.sh"

note "preparing Windows dependencies in $OUT_PREFIX"
apt_ensure "${TOOL_PKGS[@]}" || die "could not install the build tools (see $APT_LOG)"
apt_ensure_deb_src || die "could not configure deb-src entries (see $APT_LOG)"

STAMP_NEW=$(compute_stamp) ||
    die "could not determine package versions (are the Debian sources of ${SRC_PKGS[*]} available? try: apt-get update)"
rm -f "$STAMP_FILE"

JOBS=${DEPS_JOBS:-$(nproc 2>/dev/null || echo 2)}

# run LOGFILE CMD...: run a build step with its output in LOGFILE; on failure
# show the tail of the log and stop.
run() {
    local log=$1 rc=0
    shift
    printf '\n=== %s: %s\n' "$(date '+%F %T')" "$*" >>"$log"
    "$@" </dev/null >>"$log" 2>&1 || rc=$?
    if [[ $rc -ne 0 ]]; then
        printf 'deps-mingw: error: command failed (exit %d): %s\n' "$rc" "$*" >&2
        printf 'deps-mingw: last lines of %s:\n' "$log" >&2
        tail -n 40 "$log" | sed 's/^/    /' >&2
        exit "$rc"
    fi
}

# ---------------------------------------------------------------------------
# Download and unpack the Debian sources (with debian/patches applied).

declare -A SRC_VER SRC_TREE
mkdir -p "$SRC_DIR"
apt_src_opts=(-q -y --download-only)
# apt drops privileges to _apt for downloads, which cannot write to a
# root-owned directory; download as root instead.
if [[ $EUID -eq 0 ]]; then
    apt_src_opts+=(-o APT::Sandbox::User=root)
fi

specs=()
for pkg in "${SRC_PKGS[@]}"; do
    SRC_VER[$pkg]=$(printf '%s\n' "$STAMP_NEW" | sed -n "s/^src:$pkg=//p")
    specs+=("$pkg=${SRC_VER[$pkg]}")
done
note "downloading Debian sources: ${specs[*]}"
(cd "$SRC_DIR" && run "$LOG_DIR/apt-source.log" apt-get source "${apt_src_opts[@]}" "${specs[@]}")

for pkg in "${SRC_PKGS[@]}"; do
    ver=${SRC_VER[$pkg]}
    dsc="$SRC_DIR/${pkg}_${ver#*:}.dsc"   # file names carry no epoch
    [[ -f "$dsc" ]] || die "apt-get source did not produce $dsc (see $LOG_DIR/apt-source.log)"
    tree="$SRC_DIR/$pkg-${ver#*:}"
    rm -rf "$tree"
    run "$LOG_DIR/$pkg-unpack.log" dpkg-source --no-check -x "$dsc" "$tree"
    # dpkg-source applies debian/patches for "3.0 (quilt)" packages; apply
    # them ourselves for any other format that ships a series file.
    if [[ -f "$tree/debian/patches/series" && ! -d "$tree/.pc" ]] &&
       ! grep -qx '3.0 (quilt)' "$tree/debian/source/format" 2>/dev/null; then
        while read -r p _; do
            [[ -z "$p" || "$p" == \#* ]] && continue
            run "$LOG_DIR/$pkg-unpack.log" patch -p1 -N -d "$tree" -i "$tree/debian/patches/$p"
        done <"$tree/debian/patches/series"
    fi
    SRC_TREE[$pkg]=$tree
done

# Remove source artefacts of versions we no longer build.
for f in "$SRC_DIR"/*; do
    [[ -e "$f" ]] || continue
    keep=0
    for pkg in "${SRC_PKGS[@]}"; do
        v=${SRC_VER[$pkg]#*:}
        case "${f##*/}" in
            "$pkg-$v" | "${pkg}_$v".* | "${pkg}_$v.dsc" | "${pkg}_${v%-*}".orig*) keep=1 ;;
        esac
    done
    [[ $keep -eq 1 ]] || rm -rf "$f"
done

# ---------------------------------------------------------------------------
# Build and install (static, Release) with CMake + Ninja.

rm -rf "$INSTALL_DIR" "$BUILD_DIR"
mkdir -p "$INSTALL_DIR" "$BUILD_DIR"

common_cmake_args=(
    -G Ninja
    -Wno-dev
    -DCMAKE_TOOLCHAIN_FILE="$TOOLCHAIN_FILE"
    -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_INSTALL_PREFIX="$INSTALL_DIR"
    -DCMAKE_INSTALL_LIBDIR=lib
    -DCMAKE_PREFIX_PATH="$INSTALL_DIR"
    -DBUILD_SHARED_LIBS=OFF
    -DBUILD_TESTING=OFF
    -DCMAKE_POSITION_INDEPENDENT_CODE=OFF
)

build_one() {
    local pkg=$1 src=$2 bld="$BUILD_DIR/$1" log="$LOG_DIR/$1-build.log"
    shift 2
    : >"$log"
    note "building $pkg ${SRC_VER[$pkg]} (log: $log)"
    run "$log" cmake -S "$src" -B "$bld" "${common_cmake_args[@]}" "$@"
    run "$log" cmake --build "$bld" --parallel "$JOBS"
    run "$log" cmake --install "$bld"
}

# libuv 1.44's CMakeLists always builds both the DLL target "uv" and the
# static target "uv_a" and exports both (no namespace) in libuvConfig.cmake.
# Consumers must use "uv_a" (or libuv-static.pc).
build_one libuv1 "${SRC_TREE[libuv1]}" \
    -DLIBUV_BUILD_TESTS=OFF \
    -DLIBUV_BUILD_BENCH=OFF

# cJSON: its "custom compiler flags" add -std=c89 -pedantic -Werror and
# -fstack-protector-strong; the latter makes every consumer need libssp when
# linking the static library with MinGW, and -Werror breaks on new compiler
# warnings -- turn them off. Hidden symbols: do not mark the functions
# __declspec(dllexport) inside a static library (else every .exe linking it
# would export the cJSON API).
build_one cjson "${SRC_TREE[cjson]}" \
    -DENABLE_CJSON_TEST=OFF \
    -DENABLE_CJSON_UTILS=OFF \
    -DENABLE_CUSTOM_COMPILER_FLAGS=OFF \
    -DENABLE_PUBLIC_SYMBOLS=OFF \
    -DENABLE_HIDDEN_SYMBOLS=ON \
    -DENABLE_TARGET_EXPORT=ON \
    -DENABLE_FUZZING=OFF

# License / copyright notices travel with the install tree (needed when the
# static libraries end up in a distributed .exe).
for pkg in "${SRC_PKGS[@]}"; do
    doc="$INSTALL_DIR/share/doc/$pkg"
    mkdir -p "$doc"
    cp "${SRC_TREE[$pkg]}/debian/copyright" "$doc/copyright"
    for f in LICENSE LICENSE.txt COPYING; do
        if [[ -f "${SRC_TREE[$pkg]}/$f" ]]; then
            cp "${SRC_TREE[$pkg]}/$f" "$doc/$f"
        fi
    done
    printf '%s\n' "${SRC_VER[$pkg]}" >"$doc/debian-version"
done

# ---------------------------------------------------------------------------
# Verify: files present, and a consumer project can find_package() both and
# link a Windows executable against the static libraries.

missing=()
for f in "${REQUIRED_FILES[@]}"; do
    [[ -f "$INSTALL_DIR/$f" ]] || missing+=("$f")
done
[[ ${#missing[@]} -eq 0 ]] || die "install tree incomplete, missing: ${missing[*]}"

check_src="$BUILD_DIR/consumer-check"
mkdir -p "$check_src"
cat >"$check_src/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.16)
project(deps_consumer_check C)
find_package(libuv CONFIG REQUIRED)
find_package(cJSON CONFIG REQUIRED)
add_executable(check main.c)
target_compile_definitions(check PRIVATE CJSON_HIDE_SYMBOLS)
target_link_libraries(check PRIVATE uv_a cjson)
EOF
cat >"$check_src/main.c" <<'EOF'
#include <stdio.h>
#include <uv.h>
#include <cjson/cJSON.h>
int main(void)
{
    uv_loop_t loop;
    if (uv_loop_init(&loop) != 0)
        return 1;
    printf("libuv %s, cJSON %s\n", uv_version_string(), cJSON_Version());
    return uv_loop_close(&loop);
}
EOF
log="$LOG_DIR/consumer-check.log"
: >"$log"
run "$log" cmake -S "$check_src" -B "$check_src/build" -G Ninja -Wno-dev \
    -DCMAKE_TOOLCHAIN_FILE="$TOOLCHAIN_FILE" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$INSTALL_DIR"
run "$log" cmake --build "$check_src/build"
[[ -f "$check_src/build/check.exe" ]] || die "consumer check did not produce check.exe (see $log)"

printf '%s\n' "$STAMP_NEW" >"$STAMP_FILE"

summary=""
for pkg in "${SRC_PKGS[@]}"; do
    summary+="${summary:+, }$pkg ${SRC_VER[$pkg]}"
done
printf 'deps-mingw: built %s for %s (static, Release) in %s [%ds]\n' \
    "$summary" "$TRIPLET" "$INSTALL_DIR" "$((SECONDS - START_TIME))"
