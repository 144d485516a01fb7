# SPDX-License-Identifier: MPL-2.0
# common.ps1 - what install.ps1 and uninstall.ps1 share: where shmbroker
# lives, how they report, run a program and look at the service and the
# data folder. Dot-sourced by both (it must sit beside them, as it does in
# the zip); set $Prog ('install' or 'uninstall') before, for the messages.

$Name = 'shmbroker'
$Dest = Join-Path $env:ProgramFiles 'shmbroker'
$Data = Join-Path $env:ProgramData 'shmbroker'
$EvKey = 'HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\shmbroker'

function Say([string]$m) { Write-Output "${Prog}: $m" }
function Die([string]$m, [int]$code = 1) {
    [Console]::Error.WriteLine("${Prog}: $m")
    exit $code
}

# Runs a program; returns @{ Rc; Out } (stdout and stderr together).
function Invoke-Tool([string]$exe, [string[]]$argv) {
    # Windows PowerShell turns a native program's stderr into error records:
    # with 'Stop' the first one would end the script.
    $ErrorActionPreference = 'Continue'
    $out = & $exe @argv 2>&1 | Out-String
    return @{ Rc = $LASTEXITCODE; Out = $out.TrimEnd() }
}

# Anything named shmbroker in %ProgramData%: a folder, a file, a junction or
# a symbolic link, dangling ones too (Test-Path does not see those).
function Test-DataPresent {
    return $null -ne (Get-ChildItem -Force -LiteralPath $env:ProgramData |
            Where-Object { $_.Name -ieq 'shmbroker' })
}

function Test-State([string]$state) {
    $r = Invoke-Tool 'sc.exe' @('query', $Name)
    return $r.Out -match "STATE\s*:\s*\d+\s*$state"
}

# Refuses a 32-bit PowerShell on 64-bit Windows (it would see the x86
# Program Files) and a prompt that is not elevated.
function Assert-Admin64 {
    if ($env:PROCESSOR_ARCHITEW6432) { Die 'run this from a 64-bit command prompt' }
    $principal = New-Object Security.Principal.WindowsPrincipal(
        [Security.Principal.WindowsIdentity]::GetCurrent())
    if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
        Die 'run this from an elevated prompt' 5
    }
}
