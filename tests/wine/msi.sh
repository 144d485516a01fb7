#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# msi.sh SOURCE_DIR BUILD_DIR SDDL_OF_EXE
# The MSI (installer/shmbroker.wxs, built by scripts/package.sh) in a fresh
# Wine prefix of its own (BUILD_DIR/wineprefix-msi, its server stopped at
# the end, the prefix removed after a pass), the way an administrator uses
# it:
#   a folder a user planted at %ProgramData%\shmbroker is moved aside;
#   msiexec /i   -> service RUNNING, data folder with a protected SYSTEM +
#                   Administrators DACL and the default config, Event Log
#                   source registered, a client gets a grant;
#   msiexec /i of a higher version (MajorUpgrade) -> RUNNING again, one
#                   product, the administrator's edited config kept and used;
#   the data folder made untrusted: a repair (REINSTALL=ALL) leaves it,
#                   msiexec /i of a still higher version fails and leaves it;
#   msiexec /x   -> no service, no binaries, no Event Log source, config kept.
# Exit 77 (skipped) when wixl is missing.
set -euo pipefail
src=$1
build=$2
sddl_of=$3
# Never the shared test prefix: this one is created and removed here.
export WINEPREFIX="$build/wineprefix-msi"
. "$(dirname "$0")/env.sh"
. "$(dirname "$0")/data-folder.sh"
fail() { echo "FAIL: $*" >&2; exit 1; }

for t in wixl msiinfo zip; do
    command -v $t >/dev/null || { echo "SKIP: $t is not installed (scripts/build.sh installs it)"; exit 77; }
done

work="$build/msi-test"
rm -rf "$WINEPREFIX" "$work"
mkdir -p "$work"
trap 'wineserver -k </dev/null >/dev/null 2>&1 || true' EXIT
bash "$(dirname "$0")/prefix.sh" up >/dev/null

# Two packages of the same binaries: the project's version and a higher one.
v1=$(sed -n 's/^project(shmbroker VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
v2=${v1%.*}.$((${v1##*.} + 1))
bash "$src/scripts/package.sh" --build-dir "$build" --out "$work/v1" >/dev/null
bash "$src/scripts/package.sh" --build-dir "$build" --version "$v2" --out "$work/v2" >/dev/null
v3=${v1%.*}.$((${v1##*.} + 2))
bash "$src/scripts/package.sh" --build-dir "$build" --version "$v3" --out "$work/v3" >/dev/null
msi1=$(winepath -w "$work/v1/shmbroker-$v1-x64.msi")
msi2=$(winepath -w "$work/v2/shmbroker-$v2-x64.msi")
msi3=$(winepath -w "$work/v3/shmbroker-$v3-x64.msi")

c=$WINEPREFIX/drive_c
bindir="$c/Program Files/shmbroker"
data="$c/ProgramData/shmbroker"
evkey='HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\shmbroker'
ctl() { wine_q 'C:\Program Files\shmbroker\shmbctl.exe' --json "$@"; }
step=0
msiexec() {
    local rc=0 log
    step=$((step + 1))
    log="$work/msiexec-$step.log"
    wine_q msiexec "$@" /qn /l*v "$(winepath -w "$log")" >/dev/null 2>&1 || rc=$?
    [ "$rc" = 0 ] || fail "msiexec $* exited $rc (log: $log)"
}
# msiexec_fails ARGS: the same, expecting a failure.
msiexec_fails() {
    local rc=0 log
    step=$((step + 1))
    log="$work/msiexec-$step.log"
    wine_q msiexec "$@" /qn /l*v "$(winepath -w "$log")" >/dev/null 2>&1 || rc=$?
    [ "$rc" != 0 ] || fail "msiexec $* succeeded (log: $log)"
}
# A grant through the installed service: telemetry/counters of the
# installed config, read-only for every integrity level.
grant_size() { ctl read telemetry/counters | sed -n 's/.*"size": *\([0-9]*\).*/\1/p'; }

# ---- a folder a user made before the install is never reused
mkdir -p "$data"
echo '{"rules": []}' >"$data/config.json"
chmod 777 "$data" # under Wine: Everyone may write, as a user-made folder

# ---- install
msiexec /i "$msi1"
wait_state shmbroker RUNNING 30 || fail "service not RUNNING after install"
[ -f "$bindir/shmbroker.exe" ] && [ -f "$bindir/shmbctl.exe" ] || fail "binaries not installed"
aside=$(ls -d "$c/ProgramData/shmbroker.old-"* 2>/dev/null | head -n1)
[ -n "$aside" ] && grep -q '"rules": \[\]' "$aside/config.json" ||
    fail "the planted folder was not moved aside"
cmp -s "$data/config.json" "$src/installer/config.example.json" ||
    fail "the data folder has not the default config"
check_data_folder "$sddl_of" || fail "data folder"
ev=$(wine_q reg query "$evkey" 2>/dev/null | tr -d '\r')
echo "$ev" | grep -qE 'EventMessageFile +REG_EXPAND_SZ +C:\\Program Files\\shmbroker\\shmbroker.exe' ||
    fail "Event Log source: $ev"
echo "$ev" | grep -qE 'TypesSupported +REG_DWORD +0x7' || fail "Event Log types: $ev"
[ "$(grant_size)" = 65536 ] || fail "no grant after install: $(ctl read telemetry/counters 2>&1)"
echo "msi: $v1 installed, RUNNING, grant ok"

# ---- the administrator edits the config (in place: the file keeps its
# descriptor); the upgrade must keep it and the new service must use it.
python3 - "$data/config.json" <<'EOF'
import sys
with open(sys.argv[1], "r+") as f:
    text = f.read().replace('"size": 65536', '"size": 131072', 1)
    f.seek(0); f.write(text); f.truncate()
EOF
msiexec /i "$msi2"
wait_state shmbroker RUNNING 30 || fail "service not RUNNING after the upgrade"
grep -q '"size": 131072' "$data/config.json" || fail "the upgrade replaced the config"
[ "$(grant_size)" = 131072 ] || fail "no grant from the kept config after the upgrade"
n=$(wine_q reg query 'HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall' /s 2>/dev/null |
    tr -d '\r' | grep -cE 'DisplayName +REG_SZ +shmbroker$' || true)
[ "$n" = 1 ] || fail "$n shmbroker products registered after the upgrade, not 1"
echo "msi: upgraded to $v2, RUNNING, config kept, grant ok"

# ---- the data folder becomes untrusted (others may write it): a repair
# leaves it alone (the data step runs on installs and upgrades only), and
# an upgrade fails rather than replace the administrator's rules with the
# example ones; the folder is left as it was.
mode=$(stat -c %a "$data")
chmod 777 "$data"
naside=$(ls -d "$c/ProgramData/shmbroker.old-"* | wc -l)
# Wine 8's msiexec /f fails (exit 69) before it logs anything: the same
# repair through its properties. The repair restarts the service, which
# refuses the folder, so the repair fails at StartServices - after the
# point where the data step would have run.
msiexec_fails /i "$msi2" REINSTALL=ALL REINSTALLMODE=vomus
grep -q "StartServices" "$work/msiexec-$step.log" || fail "the repair did not get to StartServices"
grep -q "InitData" "$work/msiexec-$step.log" && fail "the repair ran the data step"
grep -q '"size": 131072' "$data/config.json" || fail "the repair replaced the config"
msiexec_fails /i "$msi3"
grep -q '"size": 131072' "$data/config.json" || fail "the refused upgrade replaced the config"
[ "$(ls -d "$c/ProgramData/shmbroker.old-"* | wc -l)" = "$naside" ] ||
    fail "the refused upgrade moved the data folder aside"
chmod "$mode" "$data"
echo "msi: a repair skipped the data step; an upgrade over an untrusted data folder failed and left it"

# ---- uninstall
msiexec /x "$msi2"
[ "$(service_state shmbroker)" = NONE ] || fail "service still there: $(service_state shmbroker)"
[ ! -e "$bindir/shmbroker.exe" ] && [ ! -e "$bindir/shmbctl.exe" ] || fail "binaries left"
grep -q '"size": 131072' "$data/config.json" || fail "uninstall removed the config"
wine_q reg query "$evkey" >/dev/null 2>&1 && fail "Event Log source left"
echo "msi: uninstalled; no service, no binaries, config kept"
# The prefix is ~700 MB; a failed run leaves it (and the msiexec logs in
# $work) to look at.
wineserver -k </dev/null >/dev/null 2>&1 || true
wineserver -w </dev/null >/dev/null 2>&1 || true
rm -rf "$WINEPREFIX"
