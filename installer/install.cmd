@echo off
rem SPDX-License-Identifier: MPL-2.0
rem install.cmd - install shmbroker as a LocalSystem service (run elevated).
rem
rem   install.cmd [BINDIR]
rem
rem BINDIR holds shmbroker.exe (default: the folder of this script, then
rem ..\bin). Copies it to %ProgramFiles%\shmbroker, creates the service with
rem sc.exe, sets its description and recovery actions (restart after 5 s,
rem twice; reset after a day), and starts it. Every step that fails stops the
rem script with its exit code, so a partial install is visible.
setlocal
set "SRC=%~1"
if "%SRC%"=="" set "SRC=%~dp0"
if not exist "%SRC%\shmbroker.exe" set "SRC=%~dp0..\bin"
if not exist "%SRC%\shmbroker.exe" (
  echo install: shmbroker.exe not found in "%SRC%" 1>&2
  exit /b 2
)
set "DEST=%ProgramFiles%\shmbroker"
set "DATA=%ProgramData%\shmbroker"

net session >nul 2>&1 || (echo install: run this from an elevated prompt 1>&2 & exit /b 5)

if not exist "%DEST%" mkdir "%DEST%" || exit /b 1
if not exist "%DATA%" mkdir "%DATA%" || exit /b 1
copy /y "%SRC%\shmbroker.exe" "%DEST%\" >nul || exit /b 1
if exist "%SRC%\shmbctl.exe" copy /y "%SRC%\shmbctl.exe" "%DEST%\" >nul
if exist "%DATA%\config.json" (
  echo install: keeping the existing %DATA%\config.json - check that its rules are yours
) else (
  if exist "%~dp0config.example.json" copy /y "%~dp0config.example.json" "%DATA%\config.json" >nul
)

rem The data folder holds the policy: only SYSTEM and Administrators may
rem change it; users may read it. The service refuses a config whose file
rem or folder anyone else owns or may write, so fix owner and ACL of the
rem folder and everything in it (it may have existed before this install).
icacls "%DATA%" /setowner *S-1-5-32-544 /T /C >nul || exit /b 1
icacls "%DATA%" /inheritance:r /grant:r "*S-1-5-18:(OI)(CI)F" "*S-1-5-32-544:(OI)(CI)F" "*S-1-5-11:(OI)(CI)RX" /T /C >nul || exit /b 1

sc.exe query shmbroker >nul 2>&1 && (
  echo install: a service named shmbroker exists; run uninstall.cmd first 1>&2
  exit /b 1
)
sc.exe create shmbroker binPath= "\"%DEST%\shmbroker.exe\" --log \"%DATA%\shmbroker.log\"" start= auto obj= LocalSystem DisplayName= "Shared memory broker" || exit /b 1
sc.exe description shmbroker "Hands shared memory sections to sandboxed and low-integrity processes with exactly the access its policy grants." || exit /b 1
sc.exe failure shmbroker reset= 86400 actions= restart/5000/restart/5000// || exit /b 1
rem A per-service SID lets the config name NT SERVICE\shmbroker.
sc.exe sidtype shmbroker unrestricted || exit /b 1
sc.exe start shmbroker || exit /b 1
echo install: shmbroker installed in %DEST% and started
exit /b 0
