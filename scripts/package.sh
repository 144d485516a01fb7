#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# scripts/package.sh [--build-dir DIR] [--version X.Y.Z] [--out DIR]
#
# Packages the Windows build (default build/windows, built first with
# scripts/build.sh windows if its executables are missing) into OUT
# (default build/package):
#   shmbroker-VERSION-x64.msi  from installer/shmbroker.wxs, with wixl
#   shmbroker-VERSION-x64.zip  bin/ (shmbroker.exe, shmbctl.exe, shmb.dll),
#                              installer/ (install and uninstall scripts,
#                              the common.ps1 the .ps1 pair dot-sources,
#                              config.example.json), LICENSE, README.md,
#                              docs/ - install with installer\install.cmd
# VERSION is CMakeLists.txt's project(VERSION); --version overrides it (the
# MSI's upgrade test builds a "newer" package of the same binaries so).
# Installs wixl/msitools and zip when missing, like scripts/build.sh.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

build=$repo/build/windows
out=$repo/build/package
version=
while [ $# -gt 0 ]; do
    case "$1" in
    --build-dir) build=$(cd "$2" && pwd); shift 2 ;;
    --version) version=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *)
        echo "usage: package.sh [--build-dir DIR] [--version X.Y.Z] [--out DIR]" >&2
        exit 2
        ;;
    esac
done

mkdir -p "$repo/build"
APT_LOG=$repo/build/apt.log
# shellcheck source=scripts/lib/apt.sh
. scripts/lib/apt.sh
apt_ensure wixl msitools zip

if [ -z "$version" ]; then
    version=$(sed -n 's/^project(shmbroker VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
fi
# Windows Installer compares major.minor.build (each at most 255.255.65535).
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
    die "version '$version' is not X.Y.Z"

exes=("$build/service/shmbroker.exe" "$build/client/shmbctl.exe")
if [ ! -f "${exes[0]}" ] || [ ! -f "${exes[1]}" ]; then
    [ "$build" = "$repo/build/windows" ] ||
        die "no shmbroker.exe and shmbctl.exe in $build"
    bash scripts/build.sh windows
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
stage=$(mktemp -d "$out/.stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT

# The MSI: wixl looks Source files up in its working folder.
mkdir -p "$stage/msi"
cp "${exes[@]}" installer/config.example.json LICENSE "$stage/msi/"
msi=$out/shmbroker-$version-x64.msi
(cd "$stage/msi" && wixl -a x64 -D Version="$version" -o "$msi" \
    "$repo/installer/shmbroker.wxs")
# The Event Log reads EventMessageFile only as REG_EXPAND_SZ ("#%" in the
# Registry table, spelled out in the .wxs for want of wixl support): a
# wixl that learns to add the prefix itself would double it.
reg=$(msiinfo export "$msi" Registry)
grep -q $'\tEventMessageFile\t#%\\[#shmbroker.exe\\]\t' <<<"$reg" ||
    die "$msi: EventMessageFile is not exactly REG_EXPAND_SZ [#shmbroker.exe]"
echo "package: $msi"

# The zip: install.cmd finds ..\bin\shmbroker.exe and config.example.json
# beside itself.
name=shmbroker-$version-x64
root=$stage/$name
mkdir -p "$root/bin" "$root/installer"
cp "${exes[@]}" "$root/bin/"
[ -f "$build/client/shmb.dll" ] && cp "$build/client/shmb.dll" "$root/bin/"
find installer -maxdepth 1 -type f ! -name '*.wxs' -exec cp {} "$root/installer/" \;
# install.ps1 and uninstall.ps1 stop at once without it.
[ -f "$root/installer/common.ps1" ] || die "installer/common.ps1 is missing from the zip"
cp LICENSE README.md "$root/"
cp -r docs "$root/docs"
zip="$out/$name.zip"
rm -f "$zip"
(cd "$stage" && zip -q -r -X "$zip" "$name")
echo "package: $zip"
