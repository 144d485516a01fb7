#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# scripts/deps-mingw.sh [PREFIX] - builds the static libuv and cJSON that the
# Windows build links, from Debian's source packages (with Debian's patches)
# and cmake/mingw-w64.cmake. Debian's mirrors are the only source we rely on.
#
#   PREFIX          default build/windows-deps
#   PREFIX/install  headers, static libraries, CMake configs (the windows
#                   preset puts it on CMAKE_PREFIX_PATH)
#   PREFIX/src, build, logs
#   PREFIX/stamp    inputs of the last good build: while they are unchanged
#                   the script does nothing (delete it to force a rebuild)
#
# SHMB_MINGW_ARCH=x86: cJSON only (the 32-bit client needs no libuv), for
# i686-w64-mingw32 with cmake/mingw-w64-i686.cmake, default PREFIX
# build/windows-x86-deps.
#
# Root (or password-less sudo) is needed only to install missing packages
# and to add a deb-src entry.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cmake_dir=$(cd "$here/../cmake" && pwd)
if [ "${SHMB_MINGW_ARCH:-x64}" = x86 ]; then
    toolchain=$cmake_dir/mingw-w64-i686.cmake
    out=${1:-$here/../build/windows-x86-deps}
    pkgs=(cjson)
    tools=(gcc-mingw-w64-i686 mingw-w64-i686-dev binutils-mingw-w64-i686
           cmake ninja-build xz-utils patch)
else
    toolchain=$cmake_dir/mingw-w64.cmake
    out=${1:-$here/../build/windows-deps}
    pkgs=(libuv1 cjson)
    tools=(gcc-mingw-w64-x86-64 mingw-w64-x86-64-dev binutils-mingw-w64-x86-64
           cmake ninja-build xz-utils patch)
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
APT_LOG=$out/logs/apt.log
# shellcheck source=scripts/lib/apt.sh
. "$here/lib/apt.sh"

# Everything the result depends on, from local queries only so that the
# check stays instant: the Debian source versions apt knows (a security
# update shows up after the next apt-get update), the MinGW toolchain, this
# recipe, and the prefix (cJSON's CMake config holds absolute paths).
inputs() {
    apt-cache showsrc --only-source "${pkgs[@]}" 2>/dev/null |
        sed -n 's/^\(Package\|Version\): //p' | paste -d' ' - - | sort -u
    dpkg-query -W "${tools[@]:0:3}" 2>/dev/null
    cat "${BASH_SOURCE[0]}" "$toolchain" "$cmake_dir/mingw-w64.cmake" | sha256sum
    echo "$out"
}
up_to_date() {
    { [[ " ${pkgs[*]} " != *" libuv1 "* ]] || [ -f "$out/install/lib/libuv_a.a" ]; } &&
        [ -f "$out/install/lib/libcjson.a" ] &&
        [ -f "$out/stamp" ] && [ "$(inputs)" = "$(cat "$out/stamp")" ]
}

up_to_date && exit 0
exec 9>"$out/.lock"
flock 9 # demo.sh and test.sh may start together: build once
up_to_date && exit 0

echo "deps-mingw: building ${pkgs[*]} for MinGW ($toolchain) in $out (logs: $out/logs)"
apt_ensure "${tools[@]}"

# apt-get source needs deb-src entries, which Debian's images lack: mirror
# the system's deb entries (deb822 or one-line format).
have_sources() { [ -n "$(apt-cache showsrc --only-source "${pkgs[@]}" 2>/dev/null)" ]; }
if ! have_sources; then
    if [ -z "$(apt-get indextargets 'Created-By: Sources' 2>/dev/null)" ]; then
        list=/etc/apt/sources.list.d/shmbroker-deb-src
        if [ -f /etc/apt/sources.list.d/debian.sources ]; then
            sed -E 's/^Types:[[:space:]]*deb[[:space:]]*$/Types: deb-src/' \
                /etc/apt/sources.list.d/debian.sources | as_root tee "$list.sources" >/dev/null
        else
            sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' /etc/apt/sources.list |
                as_root tee "$list.list" >/dev/null
        fi || die "could not write $list (root or password-less sudo is needed)"
        echo "deps-mingw: added deb-src entries: $(ls "$list".*)"
    fi
    apt_get update
    have_sources || die "apt has no source package for ${pkgs[*]}: check the deb-src entries in /etc/apt"
fi

rm -rf "$out/src" "$out/build" "$out/install" "$out/stamp"
mkdir -p "$out/src"
# apt downloads as the _apt user, which cannot write into a root-owned tree.
sandbox=()
[ "$EUID" -ne 0 ] || sandbox=(-o APT::Sandbox::User=root)
(cd "$out/src" && logged "$out/logs/apt-source.log" \
    apt-get source -q --download-only "${sandbox[@]}" "${pkgs[@]}")

for pkg in "${pkgs[@]}"; do
    tree=$out/src/$pkg
    log=$out/logs/$pkg.log
    : >"$log"
    mkdir "$tree"
    logged "$log" tar -xf "$out/src/${pkg}_"*.orig.tar.?z -C "$tree" --strip-components=1
    logged "$log" tar -xf "$out/src/${pkg}_"*.debian.tar.?z -C "$tree"
    if [ -f "$tree/debian/patches/series" ]; then
        while read -r patch _; do
            case $patch in '' | '#'*) continue ;; esac
            logged "$log" patch -p1 -d "$tree" -i "$tree/debian/patches/$patch"
        done <"$tree/debian/patches/series"
    fi

    case $pkg in
    libuv1)
        # Always builds and exports both "uv" (DLL) and "uv_a": we link uv_a.
        opts=(-DLIBUV_BUILD_TESTS=OFF -DLIBUV_BUILD_BENCH=OFF) ;;
    cjson)
        # Its "custom compiler flags" add -Werror (new compilers, new
        # warnings) and -fstack-protector-strong (every consumer would need
        # libssp). Hidden symbols: no __declspec(dllexport) in a static
        # library, or every .exe linking it would export the cJSON API.
        opts=(-DENABLE_CJSON_TEST=OFF -DENABLE_CJSON_UTILS=OFF -DENABLE_CUSTOM_COMPILER_FLAGS=OFF
              -DENABLE_PUBLIC_SYMBOLS=OFF -DENABLE_HIDDEN_SYMBOLS=ON -DENABLE_TARGET_EXPORT=ON) ;;
    esac
    echo "deps-mingw: building $pkg"
    logged "$log" cmake -S "$tree" -B "$out/build/$pkg" -G Ninja -Wno-dev \
        -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_INSTALL_PREFIX="$out/install" -DCMAKE_INSTALL_LIBDIR=lib \
        -DBUILD_SHARED_LIBS=OFF -DBUILD_TESTING=OFF "${opts[@]}"
    logged "$log" cmake --build "$out/build/$pkg" --parallel "$(nproc)"
    logged "$log" cmake --install "$out/build/$pkg"
    # The licences travel with the libraries into our executables.
    mkdir -p "$out/install/share/doc/$pkg"
    cp "$tree/debian/copyright" "$out/install/share/doc/$pkg/"
done

inputs >"$out/stamp"
echo "deps-mingw: built $(sed -n 's/^\(Source\|Version\): //p' "$out"/src/*.dsc | paste -sd' ')"
