@echo off
rem SPDX-License-Identifier: MPL-2.0
rem install.cmd - install shmbroker as a LocalSystem service (run elevated).
rem
rem   install.cmd [BINDIR] [/keepconfig]
rem
rem BINDIR holds shmbroker.exe (default: the folder of this script, then
rem ..\bin). /keepconfig carries the rules of a previous config over (see
rem below); without it the previous folder is only moved aside. Copies it to %ProgramFiles%\shmbroker, makes a fresh data folder
rem %ProgramData%\shmbroker (anything already there is moved aside, see
rem below), creates the service with
rem sc.exe, sets its description and recovery actions (restart after 5 s,
rem twice; reset after a day), and starts it. Every step that fails stops the
rem script with its exit code, so a partial install is visible.
setlocal
set "SRC=%~1"
set "KEEP="
if /i "%~1"=="/keepconfig" (set "SRC=" & set "KEEP=1")
if /i "%~2"=="/keepconfig" set "KEEP=1"
if "%SRC%"=="" set "SRC=%~dp0"
if not exist "%SRC%\shmbroker.exe" set "SRC=%~dp0..\bin"
if not exist "%SRC%\shmbroker.exe" (
  echo install: shmbroker.exe not found in "%SRC%" 1>&2
  exit /b 2
)
set "DEST=%ProgramFiles%\shmbroker"
set "DATA=%ProgramData%\shmbroker"

net session >nul 2>&1 || (echo install: run this from an elevated prompt 1>&2 & exit /b 5)

sc.exe query shmbroker >nul 2>&1 && (
  echo install: a service named shmbroker exists; run uninstall.cmd first 1>&2
  exit /b 1
)

if not exist "%DEST%" mkdir "%DEST%" || exit /b 1
copy /y "%SRC%\shmbroker.exe" "%DEST%\" >nul || exit /b 1
if exist "%SRC%\shmbctl.exe" copy /y "%SRC%\shmbctl.exe" "%DEST%\" >nul

rem ---- the data folder (docs/security.md, "Round two: the Windows backend")
rem It holds the policy. Users may create folders in %ProgramData%, so
rem whatever is already at its path - a folder someone made before this
rem install with rules of their own, a junction or a symbolic link to
rem somewhere else, even a dangling one - is never reused and never has its
rem owner or ACL "fixed": it is renamed aside. The new folder is made in
rem %DEST% (only administrators can write there), given its owner and a
rem protected DACL, filled, and only then moved into place, so at no moment
rem can a user write into it or hold a handle opened for writing in it.
set "STAMP=%RANDOM%%RANDOM%"
set "ASIDE=%ProgramData%\shmbroker.old-%STAMP%"
set "STAGE=%DEST%\data.new-%STAMP%"
call :present && (
  ren "%DATA%" "shmbroker.old-%STAMP%" || (
    echo install: cannot move the existing %DATA% aside; remove it and run this again 1>&2
    exit /b 1
  )
  echo install: moved the existing %DATA% aside to %ASIDE%
)
call :present && (
  echo install: %DATA% exists again: someone is creating it during the install 1>&2
  exit /b 1
)

mkdir "%STAGE%" || exit /b 1
icacls "%STAGE%" /setowner *S-1-5-32-544 >nul || goto staging_failed
rem Nobody else may even read it: the log names every region, user and process.
icacls "%STAGE%" /inheritance:r /grant:r "*S-1-5-18:(OI)(CI)F" "*S-1-5-32-544:(OI)(CI)F" >nul || goto staging_failed
rem A previous config is carried over only when the administrator asks for
rem it (/keepconfig) and the service itself would have trusted it where it
rem was (file and folder owned and writable by administrators only, no
rem reparse point): --check-config judges exactly that. Never by default: an
rem older installer "fixed" the owner of whatever it found, so a planted
rem file can look like an administrator's.
set "CARRIED="
if exist "%ASIDE%\config.json" if not defined KEEP (
  echo install: the previous config was moved to %ASIDE%\config.json and is NOT used; review it and copy its rules by hand ^(or install with /keepconfig^)
)
if exist "%ASIDE%\config.json" if defined KEEP (
  "%DEST%\shmbroker.exe" --check-config --config "%ASIDE%\config.json" >nul 2>&1 && (
    copy /y "%ASIDE%\config.json" "%STAGE%\config.json" >nul || goto staging_failed
    set "CARRIED=1"
    echo install: kept the rules of the previous %DATA%\config.json
  ) || (
    echo install: NOT keeping %ASIDE%\config.json: the service would not trust it ^(check it, then copy its rules by hand^)
  )
)
if not defined CARRIED if exist "%~dp0config.example.json" (
  copy /y "%~dp0config.example.json" "%STAGE%\config.json" >nul || goto staging_failed
)
if exist "%STAGE%\config.json" (
  icacls "%STAGE%\config.json" /setowner *S-1-5-32-544 >nul || goto staging_failed
)
move "%STAGE%" "%DATA%" >nul || goto staging_failed
rem Had someone created %DATA% between the check and the move, ours would
rem now be inside theirs: refuse (the service would refuse their folder too).
if exist "%DATA%\data.new-%STAMP%\" (
  echo install: %DATA% was created by someone else during the install; remove it and run this again 1>&2
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

rem :present - exit code 0 if anything named shmbroker is in %ProgramData%:
rem a folder, a file, a junction or a symbolic link (dangling ones too, which
rem "if exist" does not see).
:present
dir /a /b "%ProgramData%" 2>nul | findstr /x /i /c:"shmbroker" >nul
exit /b %ERRORLEVEL%

:staging_failed
echo install: cannot prepare the data folder in %STAGE% 1>&2
rmdir /s /q "%STAGE%" 2>nul
exit /b 1
