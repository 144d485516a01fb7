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

$Name = 'shmbroker'
$Dest = Join-Path $env:ProgramFiles 'shmbroker'
$Data = Join-Path $env:ProgramData 'shmbroker'
$EvKey = 'HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\shmbroker'

function Say([string]$m) { Write-Output "uninstall: $m" }
function Die([string]$m, [int]$code = 1) {
    [Console]::Error.WriteLine("uninstall: $m")
    exit $code
}
function Invoke-Tool([string]$exe, [string[]]$argv) {
    # Windows PowerShell turns a native program's stderr into error records.
    $ErrorActionPreference = 'Continue'
    $out = & $exe @argv 2>&1 | Out-String
    return @{ Rc = $LASTEXITCODE; Out = $out.TrimEnd() }
}
function Test-State([string]$state) {
    return (Invoke-Tool 'sc.exe' @('query', $Name)).Out -match "STATE\s*:\s*\d+\s*$state"
}
# Anything named shmbroker in %ProgramData%, dangling links too.
function Test-DataPresent {
    return $null -ne (Get-ChildItem -Force -LiteralPath $env:ProgramData |
            Where-Object { $_.Name -ieq 'shmbroker' })
}

if ($env:PROCESSOR_ARCHITEW6432) { Die 'run this from a 64-bit command prompt' }
$principal = New-Object Security.Principal.WindowsPrincipal(
    [Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    Die 'run this from an elevated prompt' 5
}

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
