# SPDX-License-Identifier: MPL-2.0
# install-ps1.ps1 -Installer DIR -Broker EXE -Ctl EXE -SddlOf EXE
# installer/install.ps1 and uninstall.ps1 on real Windows (elevated; Wine
# has no working PowerShell, so there ctest skips this test): the same
# sequence as tests/wine/install-scripts.sh for the .cmd pair, and what Wine
# cannot show - the protected DACL of the data folder (SYSTEM and
# Administrators only), the recovery actions and the SID type read back.
# It installs the real "shmbroker" service: run it on a test machine with
# no shmbroker installed. Exit 0 pass, 1 fail, 77 skip.
param(
    [Parameter(Mandatory)][string]$Installer,
    [Parameter(Mandatory)][string]$Broker,
    [Parameter(Mandatory)][string]$Ctl,
    [Parameter(Mandatory)][string]$SddlOf
)
$ErrorActionPreference = 'Stop'
$Dest = Join-Path $env:ProgramFiles 'shmbroker'
$Data = Join-Path $env:ProgramData 'shmbroker'
$EvKey = 'HKLM:\SYSTEM\CurrentControlSet\Services\EventLog\Application\shmbroker'
$script:Out = ''
$script:Rc = 0

function Fail([string]$m) {
    [Console]::Error.WriteLine("FAIL: $m")
    [Console]::Error.WriteLine("last script output:`n$script:Out")
    exit 1
}
function Run([string]$script, [string[]]$argv) {
    $ErrorActionPreference = 'Continue'
    $script:Out = & powershell -NoProfile -ExecutionPolicy Bypass -File (Join-Path $Pkg $script) @argv 2>&1 | Out-String
    $script:Rc = $LASTEXITCODE
    $script:Out -split "`r?`n" | ForEach-Object { "  [$script] $_" }
}
function Says([string]$line) {
    if (-not $script:Out.Contains($line)) { Fail "no line `"$line`"" }
}
function State {
    $s = Get-Service -Name shmbroker -ErrorAction SilentlyContinue
    if ($null -eq $s) { return 'NONE' }
    return $s.Status.ToString()
}
function Grant([string]$when) {
    $ctl = Join-Path $Dest 'shmbctl.exe'
    & $ctl write telemetry/counters "install-$when" | Out-Null
    if ($LASTEXITCODE -ne 0) { Fail "${when}: write grant refused" }
    $got = (& $ctl read telemetry/counters | Out-String)
    if ($LASTEXITCODE -ne 0 -or -not $got.StartsWith("install-$when")) { Fail "${when}: read back `"$got`"" }
}

$principal = New-Object Security.Principal.WindowsPrincipal(
    [Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    Write-Output 'SKIP: needs an elevated prompt'
    exit 77
}
if ((State) -ne 'NONE' -or (Test-Path -LiteralPath $Data)) {
    Write-Output 'SKIP: shmbroker is already installed here (or its data folder exists)'
    exit 77
}

$Pkg = Join-Path $env:TEMP ("shmb-install-pkg-{0}" -f (Get-Random))
New-Item -ItemType Directory -Path $Pkg | Out-Null
foreach ($f in $Broker, $Ctl, "$Installer\install.ps1", "$Installer\uninstall.ps1",
               "$Installer\common.ps1", "$Installer\config.example.json") {
    Copy-Item -LiteralPath $f -Destination $Pkg
}

# A data folder that already exists is refused.
New-Item -ItemType Directory -Path $Data | Out-Null
Run 'install.ps1' @()
if ($script:Rc -ne 1) { Fail "pre-existing data folder: exit $script:Rc" }
Says 'already exists; a fresh install does not reuse it'
if ((State) -ne 'NONE') { Fail 'service created anyway' }
Remove-Item -Force -LiteralPath $Data

# Fresh install: every step must succeed here.
Run 'install.ps1' @()
if ($script:Rc -ne 0) { Fail "install: exit $script:Rc" }
if ($script:Out.Contains('not supported by this system')) { Fail 'a step was skipped on Windows' }
Says 'install: sc sidtype unrestricted: done'
Says "init-data: created $Data"
Says "install: shmbroker installed in $Dest and RUNNING"
if ((State) -ne 'Running') { Fail 'not running' }
# The check of tests/wine/data-folder.sh, where Windows shows the
# protected DACL: exactly SYSTEM and Administrators, and owner
# Administrators (--init-data run elevated can name it).
$sd = (& $SddlOf $Data | Out-String).Trim()
Write-Output "data folder: $sd"
if ($sd -ne 'O:BAD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)') {
    Fail "data folder is not owned by Administrators with the protected SYSTEM + Administrators DACL: $sd"
}
$ev = Get-ItemProperty -LiteralPath $EvKey
if ($ev.EventMessageFile -ne "$Dest\shmbroker.exe" -or $ev.TypesSupported -ne 7) { Fail 'event source' }
if (-not ((sc.exe qfailure shmbroker | Out-String) -match 'RESTART')) { Fail 'no restart actions' }
if (-not ((sc.exe qsidtype shmbroker | Out-String) -match 'UNRESTRICTED')) { Fail 'SID type' }
Grant 'install'

# Upgrade in place keeps a changed config.
$cfg = Join-Path $Data 'config.json'
(Get-Content -Raw -LiteralPath $cfg) -replace '"size": 65536', '"size": 8192' |
    Set-Content -NoNewline -LiteralPath $cfg
$changed = Get-FileHash -LiteralPath $cfg
Run 'install.ps1' @()
if ($script:Rc -ne 0) { Fail "upgrade: exit $script:Rc" }
Says "install: shmbroker upgraded in $Dest and RUNNING"
if ((Get-FileHash -LiteralPath $cfg).Hash -ne $changed.Hash) { Fail 'upgrade changed the config' }
Grant 'upgrade'

# Uninstall keeps the data; -Purge removes it.
Run 'uninstall.ps1' @()
if ($script:Rc -ne 0) { Fail "uninstall: exit $script:Rc" }
if ((State) -ne 'NONE' -or (Test-Path -LiteralPath $Dest) -or (Test-Path -LiteralPath $EvKey)) {
    Fail 'uninstall left the service, the binaries or the event source'
}
if ((Get-FileHash -LiteralPath $cfg).Hash -ne $changed.Hash) { Fail 'uninstall changed the config' }
Run 'install.ps1' @('-KeepConfig')
if ($script:Rc -ne 0) { Fail "install -KeepConfig: exit $script:Rc" }
Says 'install: kept the rules of the previous C:\ProgramData\shmbroker\config.json'
Grant 'keepconfig'
Run 'uninstall.ps1' @('-Bogus')
if ($script:Rc -ne 1) { Fail "uninstall -Bogus: exit $script:Rc, want 1" }
Says 'uninstall: unknown option -Bogus; the only one is -Purge'
Run 'uninstall.ps1' @('-Purge')
if ($script:Rc -ne 0 -or (Test-Path -LiteralPath $Data)) { Fail 'uninstall -Purge' }
Says "uninstall: removed $Data"
Get-ChildItem -Force -LiteralPath $env:ProgramData -Filter 'shmbroker.old-*' |
    Remove-Item -Recurse -Force
Remove-Item -Recurse -Force -LiteralPath $Pkg
Write-Output 'install-ps1: refused, installed, granted, upgraded, uninstalled, reinstalled, purged'
exit 0
