# SPDX-License-Identifier: MPL-2.0
# uninstall.ps1 - stop and remove the shmbroker service (run elevated). The
# same behaviour as uninstall.cmd, step for step, with the same messages
# and exit codes: change both together.
#
#   uninstall.ps1 [-Purge]
#
# Stops the service (waiting up to 30 s for STOPPED), deletes it, removes
# its Event Log source and %ProgramFiles%\shmbroker. Keeps
# %ProgramData%\shmbroker (config and log) unless -Purge is given; even
# then it is deleted only if the service would trust it ("shmbroker.exe
# --check-data", asked before the binaries go); anything else there is
# renamed aside to shmbroker.old-N and reported, never deleted as an
# administrator.
# Exit codes: 0 done, 1 a step failed (an unknown option too), 5 not
# elevated.
# No [CmdletBinding()]: an unknown option then lands in $args, and gets
# uninstall.cmd's message instead of PowerShell's own binding error.
param([switch]$Purge)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 2.0

$Prog = 'uninstall'
# The shared half (names, Say/Die, Invoke-Tool, ...) sits beside this
# file; without it the script stops here with exit code 1.
. (Join-Path $PSScriptRoot 'common.ps1')

if ($args.Count -gt 0) { Die "unknown option $($args[0]); the only one is -Purge" }
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

$trusted = $false
if ($Purge -and (Test-DataPresent) -and (Test-Path -LiteralPath "$Dest\shmbroker.exe")) {
    $trusted = (Invoke-Tool "$Dest\shmbroker.exe" @('--check-data')).Rc -eq 0
}
if ((Invoke-Tool 'reg.exe' @('query', $EvKey)).Rc -eq 0) {
    if ((Invoke-Tool 'reg.exe' @('delete', $EvKey, '/f')).Rc -ne 0) {
        Die "cannot remove the Event Log source $EvKey"
    }
    Say "removed the Event Log source $Name"
}
if (Test-Path -LiteralPath $Dest -PathType Container) {
    # The stopped service's process may hold its image a moment longer.
    for ($i = 0; $i -lt 10; $i++) {
        Remove-Item -Recurse -Force -LiteralPath $Dest -ErrorAction SilentlyContinue
        if (-not (Test-Path -LiteralPath $Dest)) { break }
        Start-Sleep -Seconds 1
    }
    if (Test-Path -LiteralPath $Dest) { Die "cannot remove $Dest" }
    Say "removed $Dest"
}
if (-not $Purge) {
    if (Test-Path -LiteralPath $Data -PathType Container) {
        Say "kept $Data (config and log); uninstall.ps1 -Purge removes it"
    }
} elseif ((Test-DataPresent) -and $trusted) {
    Remove-Item -Recurse -Force -LiteralPath $Data -ErrorAction SilentlyContinue
    if (Test-DataPresent) { Die "cannot remove $Data" }
    Say "removed $Data"
} elseif (Test-DataPresent) {
    # Not the service's folder (a user may have made it or written into
    # it): renamed - a junction or link itself, never what it points to -
    # and left for the administrator to look at.
    $stamp = '{0}{1}' -f (Get-Random -Maximum 32768), (Get-Random -Maximum 32768)
    try { Rename-Item -LiteralPath $Data -NewName "shmbroker.old-$stamp" } catch { }
    if (Test-DataPresent) {
        Die "$Data is not a folder the service trusts and cannot be moved aside; look at it and remove it yourself"
    }
    Say "$Data is not a folder the service trusts: moved it aside to $(Join-Path $env:ProgramData "shmbroker.old-$stamp") instead of deleting it; look at it and remove it yourself"
}
Say 'done'
exit 0
