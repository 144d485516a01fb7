# shellcheck shell=bash
# scripts/lib/apt.sh -- helpers for installing Debian packages from scripts.
#
# Source this file (do not execute it):
#
#   . "$repo/scripts/lib/apt.sh"
#   apt_ensure gcc-mingw-w64-x86-64 ninja-build
#   apt_ensure_deb_src
#
# Behaviour:
#   * non-interactive (DEBIAN_FRONTEND=noninteractive, -y, stdin from /dev/null)
#   * quiet on success: apt output goes to $APT_LOG; on failure the tail of
#     that log is printed to stderr and the function returns non-zero
#   * idempotent: nothing is done when the packages / deb-src entry exist
#   * `apt-get update` runs at most once per script run, and only when needed
#   * needs root for changes; falls back to `sudo -n` when not root
#
# Tunables (environment):
#   APT_LOG          log file (default: ${TMPDIR:-/tmp}/shmbroker-apt.$UID.log)
#   APT_LOCK_TIMEOUT seconds to wait for the dpkg lock (default: 600)
#   APT_DEB_SRC_FILE deb822 file written by apt_ensure_deb_src
#                    (default: /etc/apt/sources.list.d/shmbroker-deb-src.sources)
#   APT_DEB_SRC_SUITE / APT_DEB_SRC_COMPONENT  what must be present
#                    (default: bookworm / main)

if [[ -n "${_SHMBROKER_APT_SH:-}" ]]; then
    return 0
fi
_SHMBROKER_APT_SH=1

: "${APT_LOG:=${TMPDIR:-/tmp}/shmbroker-apt.${UID}.log}"
: "${APT_LOCK_TIMEOUT:=600}"
: "${APT_DEB_SRC_FILE:=/etc/apt/sources.list.d/shmbroker-deb-src.sources}"
: "${APT_DEB_SRC_SUITE:=bookworm}"
: "${APT_DEB_SRC_COMPONENT:=main}"

# Set to 1 once `apt-get update` has run in this process.
_APT_UPDATED=0

_apt_err() {
    printf 'apt.sh: error: %s\n' "$*" >&2
}

# Run a command as root (directly, or through non-interactive sudo).
_apt_as_root() {
    if [[ ${EUID} -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo -n "$@"
    else
        _apt_err "root privileges are required to run: $*"
        _apt_err "re-run as root (or configure password-less sudo)"
        return 1
    fi
}

# Run a command with its output appended to $APT_LOG; on failure print the
# tail of the log.
_apt_logged() {
    local rc=0
    mkdir -p "$(dirname "$APT_LOG")"
    printf '\n=== %s: %s\n' "$(date '+%F %T')" "$*" >>"$APT_LOG"
    _apt_as_root env DEBIAN_FRONTEND=noninteractive "$@" \
        </dev/null >>"$APT_LOG" 2>&1 || rc=$?
    if [[ $rc -ne 0 ]]; then
        _apt_err "command failed (exit $rc): $*"
        _apt_err "last lines of $APT_LOG:"
        tail -n 25 "$APT_LOG" | sed 's/^/    /' >&2
    fi
    return "$rc"
}

_apt_get() {
    _apt_logged apt-get -y -q \
        -o "DPkg::Lock::Timeout=${APT_LOCK_TIMEOUT}" \
        -o Dpkg::Options::=--force-confdef \
        -o Dpkg::Options::=--force-confold \
        "$@"
}

# apt_update [force]: run `apt-get update` unless it already ran in this
# process (pass "force" to run it again, e.g. after adding a source).
apt_update() {
    if [[ $_APT_UPDATED -eq 1 && "${1:-}" != force ]]; then
        return 0
    fi
    _apt_get update || return 1
    _APT_UPDATED=1
}

# apt_is_installed PKG: true when PKG is fully installed.
apt_is_installed() {
    local status
    status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
    [[ "$status" == "install ok installed" ]]
}

# _apt_has_candidate PKG: true when the local package lists know PKG.
_apt_has_candidate() {
    local cand
    cand=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2; exit}')
    [[ -n "$cand" && "$cand" != "(none)" ]]
}

# apt_ensure PKG...: install every PKG that is not installed yet.
apt_ensure() {
    local pkg missing=() need_update=0
    for pkg in "$@"; do
        apt_is_installed "$pkg" || missing+=("$pkg")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0

    # Refresh the lists when they are absent, older than a day, or do not
    # know one of the packages -- but only once per run.
    if [[ $_APT_UPDATED -eq 0 ]]; then
        if [[ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 -print -quit 2>/dev/null)" ]]; then
            need_update=1
        else
            for pkg in "${missing[@]}"; do
                _apt_has_candidate "$pkg" || { need_update=1; break; }
            done
        fi
        if [[ $need_update -eq 1 ]]; then
            apt_update || return 1
        fi
    fi

    echo "apt.sh: installing ${missing[*]} (log: $APT_LOG)" >&2
    if ! _apt_get install --no-install-recommends "${missing[@]}"; then
        # Stale lists can point at files the mirror no longer has: refresh
        # once and retry.
        if [[ $_APT_UPDATED -eq 0 ]]; then
            apt_update && _apt_get install --no-install-recommends "${missing[@]}" && return 0
        fi
        _apt_err "could not install: ${missing[*]}"
        return 1
    fi
}

# apt_has_deb_src [SUITE] [COMPONENT]: true when apt is configured with a
# deb-src entry for SUITE/COMPONENT (asks apt itself, so every sources.list
# and deb822 file is taken into account, including Enabled: no).
apt_has_deb_src() {
    local suite=${1:-$APT_DEB_SRC_SUITE} comp=${2:-$APT_DEB_SRC_COMPONENT}
    # shellcheck disable=SC2016  # apt format string, not shell expansion
    apt-get indextargets --format '$(CODENAME) $(COMPONENT)' \
        'Created-By: Sources' 2>/dev/null | grep -qxF "$suite $comp"
}

# _apt_deb_src_from_deb822 FILE: print deb822 stanzas that mirror every
# enabled "Types: deb" stanza of FILE as "Types: deb-src" (URIs, Suites,
# Components and Signed-By/other options are copied verbatim).
_apt_deb_src_from_deb822() {
    awk '
        function flush() {
            if (n > 0 && isdeb && enabled) {
                if (out++) print ""
                print "Types: deb-src"
                for (i = 1; i <= n; i++) print lines[i]
            }
            n = 0; isdeb = 0; enabled = 1
        }
        BEGIN { n = 0; isdeb = 0; enabled = 1; out = 0 }
        /^[ \t]*#/ { next }                      # comment
        /^[ \t]*$/ { flush(); next }             # stanza separator
        /^[ \t]/ { if (n > 0) lines[++n] = $0; next }   # continuation line
        {
            field = tolower($0); sub(/:.*/, "", field)
            if (field == "types") {
                v = $0; sub(/^[^:]*:[ \t]*/, "", v)
                if ((" " v " ") ~ /[ \t]deb[ \t]/) isdeb = 1
                next
            }
            if (field == "enabled") {
                v = tolower($0); sub(/^[^:]*:[ \t]*/, "", v)
                if (v ~ /^(no|false|0)/) enabled = 0
                next
            }
            lines[++n] = $0
        }
        END { flush() }
    ' "$1"
}

# _apt_deb_src_from_list FILE...: convert one-line "deb ..." entries into
# deb822 deb-src stanzas (fallback when there is no debian.sources).
_apt_deb_src_from_list() {
    awk '
        /^[ \t]*deb[ \t]/ {
            line = $0
            sub(/^[ \t]*deb[ \t]+/, "", line)
            opts = ""
            if (line ~ /^\[/) {
                opts = line; sub(/\].*/, "", opts); sub(/^\[/, "", opts)
                sub(/^\[[^]]*\][ \t]*/, "", line)
            }
            n = split(line, f, /[ \t]+/)
            if (n < 2) next
            if (out++) print ""
            print "Types: deb-src"
            print "URIs: " f[1]
            print "Suites: " f[2]
            comps = ""
            for (i = 3; i <= n; i++) comps = comps (comps == "" ? "" : " ") f[i]
            if (comps != "") print "Components: " comps
            m = split(opts, o, /[ \t]+/)
            for (i = 1; i <= m; i++) {
                if (o[i] ~ /^signed-by=/) { s = o[i]; sub(/^signed-by=/, "", s); print "Signed-By: " s }
                else if (o[i] ~ /^arch=/) { s = o[i]; sub(/^arch=/, "", s); print "Architectures: " s }
                else if (o[i] ~ /^trusted=/) { s = o[i]; sub(/^trusted=/, "", s); print "Trusted: " s }
            }
        }
    ' "$@"
}

# apt_ensure_deb_src: make sure `apt-get source` works for bookworm main by
# adding deb-src entries that mirror the configured deb entries, then refresh
# the package lists. No-op when a deb-src entry already exists.
apt_ensure_deb_src() {
    local suite=$APT_DEB_SRC_SUITE comp=$APT_DEB_SRC_COMPONENT
    local src_dir=/etc/apt/sources.list.d content="" tmp f lists=()

    if apt_has_deb_src "$suite" "$comp"; then
        # Configured, but the Sources index may never have been fetched.
        # shellcheck disable=SC2016  # apt format string, not shell expansion
        if apt-get indextargets --format '$(FILENAME)' 'Created-By: Sources' \
            "Codename: $suite" "Component: $comp" 2>/dev/null |
            { while read -r f; do
                  [[ -e "$f" || -n "$(compgen -G "$f.*")" ]] && exit 0
              done; exit 1; }; then
            return 0
        fi
        apt_update force
        return
    fi

    if [[ -r "$src_dir/debian.sources" ]]; then
        content=$(_apt_deb_src_from_deb822 "$src_dir/debian.sources")
    fi
    if [[ -z "$content" ]]; then
        for f in /etc/apt/sources.list "$src_dir"/*.list; do
            if [[ -r "$f" ]]; then
                lists+=("$f")
            fi
        done
        if [[ ${#lists[@]} -gt 0 ]]; then
            content=$(_apt_deb_src_from_list "${lists[@]}")
        fi
    fi
    if [[ -z "$content" ]]; then
        _apt_err "no 'deb' entries found in $src_dir/debian.sources or sources.list;"
        _apt_err "cannot derive a deb-src entry for $suite $comp"
        return 1
    fi

    tmp=$(mktemp) || return 1
    {
        echo "# Generated by shmbroker scripts/lib/apt.sh (apt_ensure_deb_src)."
        echo "# Mirrors the deb entries of the system sources as deb-src so that"
        echo "# 'apt-get source' works. Safe to delete."
        printf '%s\n' "$content"
    } >"$tmp"

    if ! _apt_as_root install -m 0644 "$tmp" "$APT_DEB_SRC_FILE"; then
        rm -f "$tmp"
        _apt_err "could not write $APT_DEB_SRC_FILE"
        return 1
    fi
    rm -f "$tmp"
    echo "apt.sh: added deb-src entries in $APT_DEB_SRC_FILE (log: $APT_LOG)" >&2

    apt_update force || return 1
    if ! apt_has_deb_src "$suite" "$comp"; then
        _apt_err "$APT_DEB_SRC_FILE was written but apt still has no deb-src for $suite $comp"
        return 1
    fi
}
