# shellcheck shell=bash
# SPDX-License-Identifier: MPL-2.0
# scripts/lib/apt.sh - sourced by the build scripts. Steps run quietly with
# their output in a log, whose tail is printed when they fail; missing Debian
# packages are installed without questions, as root or through sudo -n.
# Use them with set -e: a failed step ends the script.

: "${APT_LOG:=${TMPDIR:-/tmp}/shmbroker-apt.log}"

die() {
    printf '%s: error: %s\n' "${0##*/}" "$*" >&2
    exit 1
}

# logged LOG CMD...: runs CMD with its output appended to LOG; when CMD
# fails, shows it with the end of LOG and exits.
logged() {
    local log=$1 rc=0
    shift
    mkdir -p "$(dirname "$log")"
    printf '\n=== %s\n' "$*" >>"$log"
    "$@" </dev/null >>"$log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
        printf '%s: failed (exit %d): %s\n  last lines of %s:\n' "${0##*/}" "$rc" "$*" "$log" >&2
        tail -n 40 "$log" | sed 's/^/    /' >&2
        exit "$rc"
    fi
}

as_root() {
    if [ "$EUID" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo -n "$@"
    else
        echo "root (or password-less sudo) is needed for: $*" >&2
        return 1
    fi
}

apt_get() {
    logged "$APT_LOG" as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get -y -q -o DPkg::Lock::Timeout=600 \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
}

# apt_ensure PKG...: installs the packages that are not installed yet.
apt_ensure() {
    local p missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -qx 'install ok installed' ||
            missing+=("$p")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    echo "installing ${missing[*]} (log: $APT_LOG)" >&2
    # A fresh image has no package lists, and day-old ones may name files
    # the mirror no longer has.
    if ! apt-cache show "${missing[@]}" >/dev/null 2>&1 ||
        [ -z "$(find /var/lib/apt/lists -name '*_Packages*' -mmin -1440 -print -quit)" ]; then
        apt_get update
    fi
    apt_get install --no-install-recommends "${missing[@]}"
}
