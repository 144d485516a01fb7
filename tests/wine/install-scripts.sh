#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# install-scripts.sh INSTALLER_DIR SHMBROKER_EXE SHMBCTL_EXE SDDL_OF_EXE
# installer/install.cmd and uninstall.cmd run for real by Wine's cmd.exe, in
# a fresh prefix of their own (the service they install is the default
# shmbroker on the default pipe, which the shared prefix's tests use too):
# refusal of a data folder that already exists, fresh install, a grant
# through the installed service, upgrade in place keeping a changed config,
# an upgrade over a data folder that became untrusted refused, uninstall
# keeping the data, reinstall with /keepconfig (a trusted config carried
# over, an untrusted one not), uninstall /purge moving an untrusted folder
# aside and deleting a trusted one.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"
. "$here/data-folder.sh"
installer=$1 broker=$2 ctl=$3 sddl_of=$4
# A prefix of our own: never the shared one (env.sh's default).
export WINEPREFIX="$SHMB_BUILD_DIR/wineprefix-install"
pkg="$SHMB_BUILD_DIR/install-pkg"
drive="$WINEPREFIX/drive_c"
pf="$drive/Program Files/shmbroker"
pd="$drive/ProgramData/shmbroker"
evkey='HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\shmbroker'
out=
ok=0

fail() {
    echo "FAIL: $*" >&2
    [ -n "$out" ] && printf 'last script output:\n%s\n' "$out" >&2
    exit 1
}
cleanup() {
    wineserver -k </dev/null >/dev/null 2>&1 || true
    # 700 MB: kept only when a run failed, to look at.
    [ "$ok" = 1 ] && rm -rf "$WINEPREFIX"
    return 0
}
trap cleanup EXIT

# run SCRIPT [ARGS...]: runs installer/SCRIPT from the package folder with
# cmd.exe; output in $out, exit code in $rc.
run() {
    local script=$1
    shift
    rc=0
    out=$(cd "$pkg" && wine_q cmd /c "$(winepath -w "$pkg/$script")" "$@" 2>&1) || rc=$?
    out=$(printf '%s' "$out" | tr -d '\r')
    printf '%s\n' "$out" | sed "s|^|  [$script $*] |"
}
says() { printf '%s\n' "$out" | grep -qF -- "$1" || fail "no line \"$1\""; }
# run_rc WANT WHAT SCRIPT [ARGS...]: run, then fail (named WHAT) unless the
# script exited with WANT.
run_rc() {
    local want=$1 what=$2
    shift 2
    run "$@"
    [ "$rc" = "$want" ] && return 0
    [ "$want" = 0 ] && fail "$what: exit $rc"
    fail "$what: exit $rc, want $want"
}
ctl_() { wine_q "C:\\Program Files\\shmbroker\\shmbctl.exe" --service shmbroker "$@"; }
# grant WHEN: grants through the installed service under the example
# config: read-only of telemetry/counters (any integrity may read it), and
# read-write of a region created in the caller's own namespace (Wine's
# user, S-1-5-21-0-0-0-1000, is not an administrator for the policy).
grant() {
    local got region="users/S-1-5-21-0-0-0-1000/install-$1"
    ctl_ read telemetry/counters >/dev/null || fail "$1: read grant of telemetry/counters refused"
    ctl_ create "$region" 4096 --persistent >/dev/null || fail "$1: create $region refused"
    ctl_ write "$region" "install-$1" >/dev/null || fail "$1: write grant refused"
    got=$(ctl_ read "$region" | tr -d '\r\0') || fail "$1: read grant refused"
    [ "${got#install-$1}" != "$got" ] || fail "$1: read back \"$got\""
    echo "grants after $1: ok"
}
reg_value() { # KEY VALUE -> "TYPE DATA"
    wine_q reg query "$1" /v "$2" 2>/dev/null | tr -d '\r' |
        sed -n "s/^ *$2 *\(REG_[A-Z_]*\) *\(.*\)$/\1 \2/p"
}

# ---- a fresh prefix --------------------------------------------------------
wineserver -k </dev/null >/dev/null 2>&1 || true
rm -rf "$WINEPREFIX"
wineboot -i </dev/null >"$SHMB_BUILD_DIR/wineboot-install.log" 2>&1 ||
    { tail -20 "$SHMB_BUILD_DIR/wineboot-install.log" >&2; fail "wineboot -i"; }
wineserver -k </dev/null >/dev/null 2>&1 || true
wineserver -w </dev/null >/dev/null 2>&1 || true
wineserver -p </dev/null >/dev/null 2>&1
wine wineboot </dev/null >/dev/null 2>&1
echo "fresh prefix $WINEPREFIX"

# The package as a user unpacks it: binaries, scripts and example config.
rm -rf "$pkg" && mkdir -p "$pkg"
cp "$broker" "$ctl" "$installer/install.cmd" "$installer/uninstall.cmd" \
    "$installer/config.example.json" "$pkg/"

# ---- a data folder that already exists is refused ---------------------------
mkdir -p "$pd"
echo '{}' >"$pd/config.json"
run_rc 1 "pre-existing data folder" install.cmd
says "already exists; a fresh install does not reuse it"
[ "$(service_state shmbroker)" = NONE ] || fail "service created anyway"
[ ! -e "$pf" ] || fail "binaries copied anyway"
rm -rf "$pd"
# A link: Wine shows a Unix symlink as its target (and hides a dangling
# one, which Windows would list), so this one points at a real folder.
mkdir -p "$SHMB_BUILD_DIR/install-elsewhere"
ln -s "$SHMB_BUILD_DIR/install-elsewhere" "$pd"
run_rc 1 "data folder link" install.cmd
says "already exists"
[ "$(service_state shmbroker)" = NONE ] || fail "service created anyway"
rm -f "$pd"
echo "pre-existing data folder and link refused"

# ---- fresh install ---------------------------------------------------------
run_rc 0 "install" install.cmd
says "install: copied the binaries to C:\\Program Files\\shmbroker"
says "init-data: wrote the default config to C:\\ProgramData\\shmbroker\\config.json"
says "install: created the service shmbroker (automatic start, LocalSystem)"
says "install: sc description: done"
says "install: sc failure, restart after 5 s twice, reset after a day: not supported by this system"
# The known Wine gaps, reported as such (shared/WINE.md).
says "install: sc sidtype unrestricted: not supported by this system"
says "init-data: created C:\\ProgramData\\shmbroker"
says "install: registered the Event Log source shmbroker"
says "install: shmbroker installed in C:\\Program Files\\shmbroker and RUNNING"
[ "$(service_state shmbroker)" = RUNNING ] || fail "not RUNNING"
cmp -s "$broker" "$pf/shmbroker.exe" || fail "shmbroker.exe not installed"
cmp -s "$ctl" "$pf/shmbctl.exe" || fail "shmbctl.exe not installed"
cmp -s "$installer/config.example.json" "$pd/config.json" || fail "default config not written"

# The service as sc create set it up, read back from the registry (Wine's
# sc has no qc).
svc='HKLM\SYSTEM\CurrentControlSet\Services\shmbroker'
[ "$(reg_value "$svc" Start)" = "REG_DWORD 0x2" ] || fail "not automatic start: $(reg_value "$svc" Start)"
[ "$(reg_value "$svc" ObjectName)" = "REG_SZ LocalSystem" ] || fail "account: $(reg_value "$svc" ObjectName)"
[ "$(reg_value "$svc" DisplayName)" = "REG_SZ Shared memory broker" ] || fail "display name"
reg_value "$svc" ImagePath | grep -qF '"C:\Program Files\shmbroker\shmbroker.exe" --config "C:\ProgramData\shmbroker\config.json" --log "C:\ProgramData\shmbroker\shmbroker.log"' ||
    fail "binPath: $(reg_value "$svc" ImagePath)"
reg_value "$svc" Description | grep -qF "Hands shared memory sections" || fail "no description"
[ "$(reg_value "$evkey" EventMessageFile)" = 'REG_EXPAND_SZ C:\Program Files\shmbroker\shmbroker.exe' ] ||
    fail "EventMessageFile: $(reg_value "$evkey" EventMessageFile)"
[ "$(reg_value "$evkey" TypesSupported)" = "REG_DWORD 0x7" ] || fail "TypesSupported"

check_data_folder "$sddl_of" || fail "data folder"
grant install
sleep 1
grep -q "event=started" "$pd/shmbroker.log" || fail "no start in the installed service's log"

# ---- upgrade in place: the changed config is kept, the binaries replaced ---
sed -i 's/"name": "telemetry\/counters", "size": 65536/"name": "telemetry\/counters", "size": 8192/' "$pd/config.json"
grep -q '"size": 8192' "$pd/config.json" || fail "could not change the config"
cp "$pd/config.json" "$SHMB_BUILD_DIR/install-changed-config.json"
printf 'new build' >>"$pkg/shmbroker.exe" # a different file, still the same program
run_rc 0 "upgrade" install.cmd
says "install: shmbroker is installed in C:\\Program Files\\shmbroker: upgrading in place"
says "install: stopped shmbroker"
says "init-data: kept C:\\ProgramData\\shmbroker (trusted)"
says "init-data: kept C:\\ProgramData\\shmbroker\\config.json"
says "install: shmbroker upgraded in C:\\Program Files\\shmbroker and RUNNING"
printf '%s\n' "$out" | grep -q "created the service" && fail "upgrade created the service again"
[ "$(service_state shmbroker)" = RUNNING ] || fail "not RUNNING after upgrade"
cmp -s "$pkg/shmbroker.exe" "$pf/shmbroker.exe" || fail "shmbroker.exe not replaced"
cmp -s "$SHMB_BUILD_DIR/install-changed-config.json" "$pd/config.json" || fail "upgrade changed the config"
ctl_ stat telemetry/counters | tr -d '\r' | grep -q "8192" || fail "the service does not run the changed config"
grant upgrade

# ---- an upgrade never replaces a folder that became untrusted ---------------
# An administrator gave others write access (under Wine: mode 777): the
# upgrade stops with the folder and its rules left as they are, instead of
# moving them aside and starting the service on the example config.
mode=$(stat -c %a "$pd")
chmod 777 "$pd"
run_rc 1 "upgrade over an untrusted data folder" install.cmd
says "init-data: C:\\ProgramData\\shmbroker is not trusted ("
says "left as it is"
says "install: cannot prepare the data folder C:\\ProgramData\\shmbroker"
cmp -s "$SHMB_BUILD_DIR/install-changed-config.json" "$pd/config.json" || fail "the refused upgrade changed the config"
ls -d "$drive/ProgramData"/shmbroker.old-* >/dev/null 2>&1 && fail "the refused upgrade moved the folder aside"
[ "$(service_state shmbroker)" = RUNNING ] && fail "the service runs on an untrusted folder"
chmod "$mode" "$pd"
run_rc 0 "upgrade once the folder is trusted again" install.cmd
says "init-data: kept C:\\ProgramData\\shmbroker (trusted)"
cmp -s "$SHMB_BUILD_DIR/install-changed-config.json" "$pd/config.json" || fail "the second upgrade changed the config"
echo "an upgrade over an untrusted data folder refused, the folder left as it was"

# ---- uninstall keeps the data ----------------------------------------------
run_rc 0 "uninstall" uninstall.cmd
says "uninstall: stopped and deleted the service shmbroker"
says "uninstall: removed the Event Log source shmbroker"
says "uninstall: removed C:\\Program Files\\shmbroker"
says "uninstall: kept C:\\ProgramData\\shmbroker (config and log); uninstall.cmd /purge removes it"
says "uninstall: done"
[ "$(service_state shmbroker)" = NONE ] || fail "service still there"
[ ! -e "$pf" ] || fail "binaries left"
wine_q reg query "$evkey" >/dev/null 2>&1 && fail "event source left"
cmp -s "$SHMB_BUILD_DIR/install-changed-config.json" "$pd/config.json" || fail "uninstall changed the config"
[ -s "$pd/shmbroker.log" ] || fail "uninstall removed the log"

# ---- reinstall over the kept folder: refused, then /keepconfig ---------------
run_rc 1 "reinstall over the kept folder" install.cmd
says "already exists; a fresh install does not reuse it"
run_rc 0 "install /keepconfig" install.cmd /keepconfig
says "install: moved the existing C:\\ProgramData\\shmbroker aside to C:\\ProgramData\\shmbroker.old-"
says "install: kept the rules of the previous C:\\ProgramData\\shmbroker\\config.json"
says "install: shmbroker installed in C:\\Program Files\\shmbroker and RUNNING"
cmp -s "$SHMB_BUILD_DIR/install-changed-config.json" "$pd/config.json" || fail "/keepconfig did not keep the config"
ls -d "$drive/ProgramData"/shmbroker.old-* >/dev/null || fail "no folder moved aside"
grant keepconfig

# ---- /keepconfig does not carry a config the service would not trust --------
# A folder anyone may write (under Wine: mode 777, as a user-made folder):
# it is moved aside with its config, and the new folder gets the default.
run_rc 0 "uninstall before the untrusted /keepconfig" uninstall.cmd
rm -rf "$pd" "$drive/ProgramData"/shmbroker.old-*
mkdir -p "$pd"
cp "$SHMB_BUILD_DIR/install-changed-config.json" "$pd/config.json"
chmod 777 "$pd"
run_rc 0 "install /keepconfig of an untrusted folder" install.cmd /keepconfig
says "install: NOT keeping C:\\ProgramData\\shmbroker.old-"
printf '%s\n' "$out" | grep -q "kept the rules" && fail "an untrusted config was carried over"
cmp -s "$installer/config.example.json" "$pd/config.json" || fail "the new folder has not the default config"
cmp -s "$SHMB_BUILD_DIR/install-changed-config.json" "$drive/ProgramData"/shmbroker.old-*/config.json ||
    fail "the untrusted config was not left in the folder moved aside"
check_data_folder "$sddl_of" || fail "data folder after an untrusted /keepconfig"
grant untrusted-keepconfig

# ---- an upgrade with the data folder gone makes it again, the safe way -------
wine_q sc stop shmbroker >/dev/null 2>&1 || true
wait_state shmbroker STOPPED 30 || fail "did not stop"
rm -rf "$pd"
run_rc 0 "upgrade without a data folder" install.cmd
says "init-data: created C:\\ProgramData\\shmbroker"
says "init-data: wrote the default config to C:\\ProgramData\\shmbroker\\config.json"
says "install: shmbroker upgraded in C:\\Program Files\\shmbroker and RUNNING"
cmp -s "$installer/config.example.json" "$pd/config.json" || fail "default config not written again"
check_data_folder "$sddl_of" || fail "data folder made again"
grant recreate

# ---- /purge never deletes a folder others could write into ------------------
# Someone planted a file in a folder anyone may write (mode 777): /purge
# moves the folder aside and says so instead of deleting it as an
# administrator.
rm -rf "$drive/ProgramData"/shmbroker.old-*
chmod 777 "$pd"
echo planted >"$pd/planted.txt"
run_rc 0 "uninstall /purge of an untrusted folder" uninstall.cmd /purge
says "uninstall: C:\\ProgramData\\shmbroker is not a folder the service trusts: moved it aside to C:\\ProgramData\\shmbroker.old-"
[ ! -e "$pd" ] || fail "the untrusted folder is still in place"
grep -q planted "$drive/ProgramData"/shmbroker.old-*/planted.txt || fail "the untrusted folder was deleted, not moved aside"
printf '%s\n' "$out" | grep -q "removed C:\\\\ProgramData\\\\shmbroker$" && fail "/purge says it removed an untrusted folder"
rm -rf "$drive/ProgramData"/shmbroker.old-*
echo "/purge moved an untrusted data folder aside"
run_rc 0 "install after the untrusted /purge" install.cmd

# ---- uninstall /purge, then once more: nothing left to do --------------------
run_rc 0 "uninstall /purge" uninstall.cmd /purge
says "uninstall: removed C:\\ProgramData\\shmbroker"
[ ! -e "$pd" ] || fail "/purge kept the data folder"
[ "$(service_state shmbroker)" = NONE ] || fail "service still there"
run_rc 0 "second uninstall" uninstall.cmd
says "uninstall: the service shmbroker is not installed"
run_rc 1 "unknown option" uninstall.cmd /bogus

ok=1
echo "install-scripts: refused, installed, granted, upgraded, uninstalled, reinstalled, purged"
