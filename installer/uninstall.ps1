# SPDX-License-Identifier: MPL-2.0
# uninstall.ps1 - stop and remove the shmbroker service (run elevated). The
# same behaviour as uninstall.cmd, step for step, with the same messages
# and exit codes: change both together.
#
#   uninstall.ps1 [-Purge]
#
# Stops the service (waiting up to 30 s for STOPPED), deletes it, removes
# its Event Log source and %ProgramFiles%\shmbroker. Keeps
# %ProgramData%\shmbroker (config and log) unless -Purge is given.
# Exit codes: 0 done, 1 a step failed, 5 not elevated.
param([switch]$Purge)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 2.0

$Prog = 'uninstall'
# The shared half (names, Say/Die, Invoke-Tool, ...) sits beside this
# file; without it the script stops here with exit code 1.
. (Join-Path $PSScriptRoot 'common.ps1')

Assert-Admin64

if ((Invoke-Tool 'sc.exe' @('query', $Name)).Rc -ne 0) {
    Say "the service $Name is not installed"
} else {
    if (-not (Test-State 'STOPPED')) {
        Invoke-Tool 'sc.exe' @('stop', $Name) | Out-Null
        for ($i = 0; $i -lt 30 -and -not (Test-State 'STOPPED'); $i++) {
            Start-Sleep -Seconds 1
        }
        if (-not (Test-State 'STOPPED')) { Die "$Name did not stop within 30 s" }
    }
    if ((Invoke-Tool 'sc.exe' @('delete', $Name)).Rc -ne 0) { Die "sc delete $Name failed" }
    Say "stopped and deleted the service $Name"
}

if ((Invoke-Tool 'reg.exe' @('query', $EvKey)).Rc -eq 0) {
    if ((Invoke-Tool 'reg.exe' @('delete', $EvKey, '/f')).Rc -ne 0) {
        Die "cannot remove the Event Log source $EvKey"
    }
    Say "removed the Event Log source $Name"
}
if (Test-Path -LiteralPath $Dest -PathType Container) {
    Remove-Item -Recurse -Force -LiteralPath $Dest -ErrorAction SilentlyContinue
    if (Test-Path -LiteralPath $Dest) { Die "cannot remove $Dest" }
    Say "removed $Dest"
}
if (-not $Purge) {
    if (Test-Path -LiteralPath $Data -PathType Container) {
        Say "kept $Data (config and log); uninstall.ps1 -Purge removes it"
    }
} elseif (Test-DataPresent) {
    # A junction or link is removed itself, never what it points to.
    $item = Get-Item -Force -LiteralPath $Data
    if ($item.Attributes -band [IO.FileAttributes]::ReparsePoint) {
        $item.Delete()
    } else {
        Remove-Item -Recurse -Force -LiteralPath $Data -ErrorAction SilentlyContinue
    }
    if (Test-DataPresent) { Die "cannot remove $Data" }
    Say "removed $Data"
}
Say 'done'
exit 0
