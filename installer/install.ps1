# SPDX-License-Identifier: MPL-2.0
# install.ps1 - install or upgrade shmbroker as a LocalSystem service (run
# elevated). The same behaviour as install.cmd, step for step, with the same
# messages and exit codes: change both together.
#
#   install.ps1 [-BinDir DIR] [-KeepConfig]
#
# BinDir holds shmbroker.exe (default: the folder of this script, then
# ..\bin). The binaries go to %ProgramFiles%\shmbroker, the data folder
# (config and log) is %ProgramData%\shmbroker.
#
# Fresh install (no service named shmbroker): the data folder must not
# exist - whatever is at its path (a folder someone else made, a junction,
# a link) is refused, never reused; -KeepConfig instead moves it aside and
# carries its config.json over if the service would trust it where it lies.
# The data folder itself is made by "shmbroker.exe --init-data", as the MSI
# makes it (docs/configuration.md). The service is created (automatic
# start, LocalSystem), with its description, recovery actions (restart after
# 5 s, twice; reset after a day), an unrestricted service SID, and its Event
# Log source, then started; the script waits for RUNNING.
#
# Upgrade (the service exists and %ProgramFiles%\shmbroker\shmbroker.exe
# too): stop, replace the binaries, start. The config is kept as it is; the
# default one is written only if there is none ("shmbroker.exe --init-data"
# again: it keeps a folder the service trusts; one it would not trust -
# say an administrator gave users write access - stops the upgrade with
# exit code 1, the service stopped and the folder untouched, rather than
# replacing the administrator's rules with the example ones).
#
# Every failing step stops the script with a non-zero exit code. The one
# exception: a step this system does not implement (Wine: sc sidtype,
# sc failure), identified exactly, is reported as "not supported by this
# system" and skipped - as in install.cmd, though Wine has no PowerShell.
# Exit codes: 0 done, 1 a step failed, 2 shmbroker.exe not found,
# 5 not elevated.
param(
    [string]$BinDir = "",
    [switch]$KeepConfig
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 2.0

$Prog = 'install'
# The shared half (names, Say/Die, Invoke-Tool, ...) sits beside this
# file; without it the script stops here with exit code 1.
. (Join-Path $PSScriptRoot 'common.ps1')
$Here = $PSScriptRoot
$script:Aside = $null

# Up to 30 s; a service that falls back to STOPPED while we wait for
# another state has failed.
function Wait-State([string]$state) {
    for ($i = 0; $i -lt 30; $i++) {
        if (Test-State $state) { return $true }
        if ($state -ne 'STOPPED' -and (Test-State 'STOPPED')) { return $false }
        Start-Sleep -Seconds 1
    }
    return (Test-State $state)
}

# sc.exe VERB ARGS. On Wine a verb it does not implement exits with 1 and
# prints nothing (real sc.exe always prints "[SC] ... FAILED n"): that case
# alone is skipped.
function Invoke-ScStep([string]$verb, [string]$label, [string[]]$argv) {
    $r = Invoke-Tool 'sc.exe' (@($verb) + $argv)
    if ($r.Rc -eq 0) { Say "${label}: done"; return }
    if ($script:Wine -and $r.Rc -eq 1 -and $r.Out -eq '') {
        Say "${label}: not supported by this system"
        return
    }
    [Console]::Error.WriteLine($r.Out)
    Die "$label failed, exit code $($r.Rc)"
}

function Copy-Binaries {
    try {
        Copy-Item -Force -LiteralPath (Join-Path $Src 'shmbroker.exe') -Destination $Dest
    } catch { Die "cannot copy shmbroker.exe to $Dest" }
    foreach ($f in 'shmbctl.exe', 'shmb.dll') {
        $p = Join-Path $Src $f
        if (Test-Path -LiteralPath $p) {
            try { Copy-Item -Force -LiteralPath $p -Destination $Dest }
            catch { Die "cannot copy $f to $Dest" }
        }
    }
    $example = Join-Path $Here 'config.example.json'
    if (Test-Path -LiteralPath $example) {
        Copy-Item -Force -LiteralPath $example -Destination $Dest
    }
    Say "copied the binaries to $Dest"
}

# "shmbroker.exe --init-data", the MSI's step too: it creates the data
# folder with its protected DACL (SYSTEM and Administrators only) in one
# call, so at no moment can a user write into it; keeps a folder the
# service would trust (judged as the service's account, not as the
# administrator running this); refuses anything else at the path; and writes
# the default config from the config.example.json copied beside it only
# where there is no config.json. Its lines are shown as it prints them.
function Initialize-DataFolder {
    $r = Invoke-Tool "$Dest\shmbroker.exe" @('--init-data')
    if ($r.Rc -ne 0) {
        [Console]::Error.WriteLine($r.Out)
        Die "cannot prepare the data folder $Data"
    }
    if ($r.Out -ne '') { Write-Output $r.Out }
}

# With -KeepConfig, the config.json moved aside replaces the default one,
# but only if the service itself would have trusted it where it was:
# --check-config judges exactly that. Never by default: an older installer
# "fixed" the owner of whatever it found, so a planted file can look like
# an administrator's.
function Copy-KeptConfig {
    if ($null -eq $script:Aside -or -not (Test-Path -LiteralPath "$script:Aside\config.json")) {
        return
    }
    $r = Invoke-Tool "$Dest\shmbroker.exe" @('--check-config', '--as-service', '--config', "$script:Aside\config.json")
    if ($r.Rc -ne 0) {
        Say "NOT keeping $script:Aside\config.json: the service would not trust it (check it, then copy its rules by hand)"
        return
    }
    try { Copy-Item -Force -LiteralPath "$script:Aside\config.json" -Destination "$Data\config.json" }
    catch { Die "cannot copy $script:Aside\config.json to $Data" }
    Say "kept the rules of the previous $Data\config.json"
}

function Stop-Broker {
    if (Test-State 'STOPPED') { return }
    Invoke-Tool 'sc.exe' @('stop', $Name) | Out-Null
    if (-not (Wait-State 'STOPPED')) { Die "$Name did not stop within 30 s" }
    Say "stopped $Name"
}

# ---- main ----------------------------------------------------------------
$Src = $BinDir
if ($Src -eq '') { $Src = $Here }
$Src = $Src.TrimEnd('\')
if (-not (Test-Path -LiteralPath (Join-Path $Src 'shmbroker.exe'))) {
    $Src = Join-Path $Here '..\bin'
}
if (-not (Test-Path -LiteralPath (Join-Path $Src 'shmbroker.exe'))) {
    Die "shmbroker.exe not found in `"$Src`"" 2
}
Assert-Admin64
# Wine implements some verbs as stubs; only these, and only there, may be
# skipped.
$script:Wine = Test-Path -LiteralPath 'HKLM:\Software\Wine'

$Mode = 'install'
if ((Invoke-Tool 'sc.exe' @('query', $Name)).Rc -eq 0) { $Mode = 'upgrade' }
if ($Mode -eq 'upgrade' -and -not (Test-Path -LiteralPath "$Dest\shmbroker.exe")) {
    Die "a service named $Name exists but $Dest\shmbroker.exe does not; run uninstall.ps1 first"
}

if ($Mode -eq 'install') {
    # The data folder holds the policy. Users may create folders in
    # %ProgramData%, so anything already at its path is never reused and
    # never has its owner or ACL "fixed".
    if (Test-DataPresent) {
        if (-not $KeepConfig) {
            Die "$Data already exists; a fresh install does not reuse it. Move it away, or run install.ps1 -KeepConfig to move it aside and keep its config"
        }
        $stamp = '{0}{1}' -f (Get-Random -Maximum 32768), (Get-Random -Maximum 32768)
        $script:Aside = Join-Path $env:ProgramData "shmbroker.old-$stamp"
        try { Rename-Item -LiteralPath $Data -NewName "shmbroker.old-$stamp" }
        catch { Die "cannot move the existing $Data aside; remove it and run this again" }
        Say "moved the existing $Data aside to $script:Aside"
    }
    if (-not (Test-Path -LiteralPath $Dest)) {
        try { New-Item -ItemType Directory -Path $Dest | Out-Null } catch { Die "cannot create $Dest" }
    }
    Copy-Binaries
    Initialize-DataFolder
    Copy-KeptConfig
    # binPath holds quotes; Windows PowerShell 5.1 does not escape quotes
    # inside a native argument, so the line goes to sc.exe verbatim (--%),
    # the paths through environment variables, as install.cmd writes it. The
    # config path is explicit: under Wine the service's %ProgramData% is not
    # the one this script sees.
    $env:SHMB_INSTALL_DEST = $Dest
    $env:SHMB_INSTALL_DATA = $Data
    $out = sc.exe --% create shmbroker binPath= "\"%SHMB_INSTALL_DEST%\shmbroker.exe\" --config \"%SHMB_INSTALL_DATA%\config.json\" --log \"%SHMB_INSTALL_DATA%\shmbroker.log\"" start= auto obj= LocalSystem DisplayName= "Shared memory broker"
    if ($LASTEXITCODE -ne 0) {
        [Console]::Error.WriteLine(($out | Out-String).TrimEnd())
        Die 'sc create failed'
    }
    Say "created the service $Name (automatic start, LocalSystem)"
} else {
    Say "$Name is installed in ${Dest}: upgrading in place"
    Stop-Broker
    Copy-Binaries
    # The folder the install made is kept as it is (--init-data keeps what
    # the service trusts). Should it be gone, it is made again the safe
    # way; if a junction, a link or a file now stands at its path, stop.
    if (Test-DataPresent) {
        $item = Get-Item -Force -LiteralPath $Data
        if ($item.Attributes -band [IO.FileAttributes]::ReparsePoint) {
            Die "$Data is a junction or a link; remove it and run this again"
        }
        if (-not $item.PSIsContainer) {
            Die "$Data is not a folder; remove it and run this again"
        }
    }
    Initialize-DataFolder
}

Invoke-ScStep 'description' 'sc description' @($Name,
    'Hands shared memory sections to sandboxed and low-integrity processes with exactly the access its policy grants.')
# Wine's sc failure exits 0 and stores nothing; the SCM keeps the actions in
# the service's FailureActions value, so that is what is checked.
$label = 'sc failure, restart after 5 s twice, reset after a day'
$r = Invoke-Tool 'sc.exe' @('failure', $Name, 'reset=', '86400', 'actions=', 'restart/5000/restart/5000//')
if ($r.Rc -ne 0) {
    [Console]::Error.WriteLine($r.Out)
    Die "$label failed"
}
if ((Invoke-Tool 'reg.exe' @('query', "HKLM\SYSTEM\CurrentControlSet\Services\$Name", '/v', 'FailureActions')).Rc -eq 0) {
    Say "${label}: done"
} elseif ($script:Wine) {
    Say "${label}: not supported by this system"
} else {
    Die "${label}: sc reported success but no FailureActions were stored"
}
# A per-service SID lets the config name NT SERVICE\shmbroker.
Invoke-ScStep 'sidtype' 'sc sidtype unrestricted' @($Name, 'unrestricted')
$r1 = Invoke-Tool 'reg.exe' @('add', $EvKey, '/v', 'EventMessageFile', '/t', 'REG_EXPAND_SZ', '/d', "$Dest\shmbroker.exe", '/f')
$r2 = Invoke-Tool 'reg.exe' @('add', $EvKey, '/v', 'TypesSupported', '/t', 'REG_DWORD', '/d', '7', '/f')
if ($r1.Rc -ne 0 -or $r2.Rc -ne 0) { Die "cannot register the Event Log source $EvKey" }
Say "registered the Event Log source $Name"
$r = Invoke-Tool 'sc.exe' @('start', $Name)
if ($r.Rc -ne 0) {
    [Console]::Error.WriteLine($r.Out)
    Die "sc start failed; see $Data\shmbroker.log and the Application event log"
}
if (-not (Wait-State 'RUNNING')) {
    Die "$Name did not reach RUNNING within 30 s; see $Data\shmbroker.log and the Application event log"
}
if ($Mode -eq 'upgrade') {
    Say "shmbroker upgraded in $Dest and RUNNING"
} else {
    Say "shmbroker installed in $Dest and RUNNING"
}
exit 0
