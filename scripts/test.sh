#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# scripts/test.sh - builds everything (installing what is missing) and runs
# every test: native unit tests, the same under ASan+UBSan, the fuzzers
# (clang + libFuzzer, bounded time, from the committed seeds), and the Windows
# build's unit, integration, security and robustness tests under Wine
# against the service installed with sc.exe. windows-only tests are listed
# as skipped (with the reason) - a skip is never counted as a pass.
#
# Extra arguments go to every ctest run (e.g. -L security, -R lifecycle).
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

# windows-x86: the 32-bit client; win.client_x86_wow64 (windows preset) uses it.
bash scripts/build.sh native asan fuzz windows windows-x86 || exit 1

export SHMB_BUILD_DIR="$repo/build/windows"
# However the run ends, stop this prefix's Wine server (and our service).
trap 'bash tests/wine/prefix.sh down >/dev/null 2>&1' EXIT

pass=0 fail=0 skip=0 status=0
run_ctest() {
    local preset=$1 log
    shift
    log="build/ctest-$preset.log"
    printf '==> ctest --preset %s\n' "$preset"
    ctest --preset "$preset" --timeout 300 --output-junit junit.xml "$@" 2>&1 | tee "$log"
    [ "${PIPESTATUS[0]}" = 0 ] || status=1
    pass=$((pass + $(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .* Passed' "$log")))
    fail=$((fail + $(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*\*\*\*(Failed|Exception|Timeout)|Not Run$' "$log")))
    skip=$((skip + $(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*\*\*\*Skipped' "$log")))
}

run_ctest native "$@"
run_ctest asan "$@"
run_ctest fuzz "$@"
run_ctest windows "$@"

if [ "$skip" -gt 0 ]; then
    echo "==> skipped (not passed): they need real Windows or wine32; the reasons:"
    for junit in build/*/junit.xml; do
        # <testcase name="T" ... status="notrun"> ... SKIP: reason
        awk '/<testcase /{match($0, /name="[^"]*"/); t=substr($0, RSTART+6, RLENGTH-7)}
             /SKIP: /{sub(/.*SKIP: /, ""); print "    " t ": " $0}' "$junit"
    done
fi
echo "shmbroker: $pass passed, $fail failed, $skip skipped"
exit $status
