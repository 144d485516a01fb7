@echo off
rem SPDX-License-Identifier: MPL-2.0
rem install.cmd - install or upgrade shmbroker as a LocalSystem service
rem (run elevated). install.ps1 does exactly the same, step for step, with
rem the same messages and exit codes: change both together.
rem
rem   install.cmd [BINDIR] [/keepconfig]
rem
rem BINDIR holds shmbroker.exe (default: the folder of this script, then
rem ..\bin). The binaries go to %ProgramFiles%\shmbroker, the data folder
rem (config and log) is %ProgramData%\shmbroker.
rem
rem Fresh install (no service named shmbroker): the data folder must not
rem exist - whatever is at its path (a folder someone else made, a junction,
rem a link) is refused, never reused; /keepconfig instead moves it aside and
rem carries its config.json over if the service would trust it where it
rem lies. The data folder itself is made by "shmbroker.exe --init-data",
rem as the MSI makes it (docs/configuration.md). The service is created
rem (automatic start, LocalSystem), with its description, recovery actions
rem (restart after 5 s, twice; reset after a day), an unrestricted service
rem SID, and its Event Log source, then started; the script waits for
rem RUNNING.
rem
rem Upgrade (the service exists and %ProgramFiles%\shmbroker\shmbroker.exe
rem too): stop, replace the binaries, start. The config is kept as it is;
rem the default one is written only if there is none ("shmbroker.exe
rem --init-data" again: it keeps a folder the service trusts; one it would
rem not trust - say an administrator gave users write access - stops the
rem upgrade with exit code 1, the service stopped and the folder untouched,
rem rather than replacing the administrator's rules with the example ones).
rem
rem Every failing step stops the script with a non-zero exit code, so a
rem partial install is visible. The one exception: a step this system does
rem not implement (Wine: sc sidtype, sc failure), identified exactly, is
rem reported as "not supported by this system" and skipped.
rem Exit codes: 0 done, 1 a step failed, 2 shmbroker.exe not found,
rem 5 not elevated.
rem
rem Written for Wine's cmd.exe as well as Windows': no "&&" or "||" (Wine
rem runs what follows either way), no findstr (Wine's always matches), and
rem ERRORLEVEL reset with "call :reset" before a built-in command is
rem checked (built-ins may leave an older error in place when they succeed).
setlocal EnableExtensions
set "SRC=%~1"
set "KEEP="
set "ASIDE="
if /i "%~1"=="/keepconfig" set "SRC="
if /i "%~1"=="/keepconfig" set "KEEP=1"
if /i "%~2"=="/keepconfig" set "KEEP=1"
if "%SRC%"=="" set "SRC=%~dp0"
if "%SRC:~-1%"=="\" set "SRC=%SRC:~0,-1%"
if not exist "%SRC%\shmbroker.exe" set "SRC=%~dp0..\bin"
if not exist "%SRC%\shmbroker.exe" (
  echo install: shmbroker.exe not found in "%SRC%" 1>&2
  exit /b 2
)
set "NAME=shmbroker"
set "DEST=%ProgramFiles%\shmbroker"
set "DATA=%ProgramData%\shmbroker"
set "EVKEY=HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\shmbroker"
set "OUT=%TEMP%\shmbroker-install-%RANDOM%%RANDOM%.txt"

rem A 32-bit prompt on 64-bit Windows would see the x86 Program Files.
if defined PROCESSOR_ARCHITEW6432 (
  echo install: run this from a 64-bit command prompt 1>&2
  exit /b 1
)
net session >nul 2>&1
if errorlevel 1 (
  echo install: run this from an elevated prompt 1>&2
  exit /b 5
)

rem Wine implements some verbs as stubs; only these, and only there, may be
rem skipped (shared/WINE.md lists them).
set "WINE="
reg query "HKLM\Software\Wine" >nul 2>&1
if not errorlevel 1 set "WINE=1"

set "MODE=install"
sc.exe query %NAME% >nul 2>&1
if not errorlevel 1 set "MODE=upgrade"
if "%MODE%"=="install" goto fresh
if not exist "%DEST%\shmbroker.exe" (
  echo install: a service named %NAME% exists but %DEST%\shmbroker.exe does not; run uninstall.cmd first 1>&2
  exit /b 1
)
goto upgrade

rem ---- fresh install -----------------------------------------------------
rem The data folder holds the policy. Users may create folders in
rem %ProgramData%, so anything already at its path - a folder made before
rem this install with rules of its own, a junction or a link, even a
rem dangling one - is never reused and never has its owner or ACL "fixed".
:fresh
call :present
if errorlevel 1 goto fresh_files
if not defined KEEP (
  echo install: %DATA% already exists; a fresh install does not reuse it. Move it away, or run install.cmd /keepconfig to move it aside and keep its config 1>&2
  exit /b 1
)
set "STAMP=%RANDOM%%RANDOM%"
set "ASIDE=%ProgramData%\shmbroker.old-%STAMP%"
call :reset
ren "%DATA%" "shmbroker.old-%STAMP%"
if errorlevel 1 goto aside_failed
call :present
if not errorlevel 1 goto aside_failed
echo install: moved the existing %DATA% aside to %ASIDE%
goto fresh_files
:aside_failed
echo install: cannot move the existing %DATA% aside; remove it and run this again 1>&2
exit /b 1

:fresh_files
if exist "%DEST%\" goto fresh_copy
call :reset
mkdir "%DEST%"
if not exist "%DEST%\" (
  echo install: cannot create %DEST% 1>&2
  exit /b 1
)
:fresh_copy
call :copy_binaries
if errorlevel 1 exit /b 1
call :make_data
if errorlevel 1 exit /b 1
call :carry_config
if errorlevel 1 exit /b 1
rem The config path is explicit: under Wine the service's %ProgramData% is
rem not the one this script sees, and it must read the file written here.
sc.exe create %NAME% binPath= "\"%DEST%\shmbroker.exe\" --config \"%DATA%\config.json\" --log \"%DATA%\shmbroker.log\"" start= auto obj= LocalSystem DisplayName= "Shared memory broker" >"%OUT%" 2>&1
if errorlevel 1 (
  type "%OUT%" 1>&2
  del "%OUT%" 2>nul
  echo install: sc create failed 1>&2
  exit /b 1
)
del "%OUT%" 2>nul
echo install: created the service %NAME% ^(automatic start, LocalSystem^)
goto configure

rem ---- upgrade in place --------------------------------------------------
:upgrade
echo install: %NAME% is installed in %DEST%: upgrading in place
call :stop_service
if errorlevel 1 exit /b 1
call :copy_binaries
if errorlevel 1 exit /b 1
rem The folder the install made is kept as it is (--init-data keeps what
rem the service trusts). Should it be gone, it is made again the safe way;
rem if a junction, a link or a file now stands at its path, stop.
call :present
if errorlevel 1 goto upgrade_data
call :is_link
if not errorlevel 1 (
  echo install: %DATA% is a junction or a link; remove it and run this again 1>&2
  exit /b 1
)
if not exist "%DATA%\" (
  echo install: %DATA% is not a folder; remove it and run this again 1>&2
  exit /b 1
)
:upgrade_data
call :make_data
if errorlevel 1 exit /b 1

rem ---- both: service settings, event source, start -----------------------
:configure
rem sc.exe's arguments go through SCARGS: "=" splits a call's arguments.
set SCARGS=%NAME% "Hands shared memory sections to sandboxed and low-integrity processes with exactly the access its policy grants."
call :sc_step description "sc description"
if errorlevel 1 exit /b 1
rem Wine's sc failure exits 0 and stores nothing; the SCM keeps the actions
rem in the service's FailureActions value, so that is what is checked.
set "SCARGS=%NAME% reset= 86400 actions= restart/5000/restart/5000//"
set "LABEL=sc failure, restart after 5 s twice, reset after a day"
sc.exe failure %SCARGS% >"%OUT%" 2>&1
if errorlevel 1 (
  type "%OUT%" 1>&2
  del "%OUT%" 2>nul
  echo install: %LABEL% failed 1>&2
  exit /b 1
)
del "%OUT%" 2>nul
reg query "HKLM\SYSTEM\CurrentControlSet\Services\%NAME%" /v FailureActions >nul 2>&1
if not errorlevel 1 goto failure_done
if not defined WINE (
  echo install: %LABEL%: sc reported success but no FailureActions were stored 1>&2
  exit /b 1
)
echo install: %LABEL%: not supported by this system
goto failure_end
:failure_done
echo install: %LABEL%: done
:failure_end
rem A per-service SID lets the config name NT SERVICE\shmbroker.
set "SCARGS=%NAME% unrestricted"
call :sc_step sidtype "sc sidtype unrestricted"
if errorlevel 1 exit /b 1
reg add "%EVKEY%" /v EventMessageFile /t REG_EXPAND_SZ /d "%DEST%\shmbroker.exe" /f >nul 2>&1
if errorlevel 1 goto eventlog_failed
reg add "%EVKEY%" /v TypesSupported /t REG_DWORD /d 7 /f >nul 2>&1
if errorlevel 1 goto eventlog_failed
echo install: registered the Event Log source %NAME%
sc.exe start %NAME% >"%OUT%" 2>&1
if errorlevel 1 (
  type "%OUT%" 1>&2
  del "%OUT%" 2>nul
  echo install: sc start failed; see %DATA%\shmbroker.log and the Application event log 1>&2
  exit /b 1
)
del "%OUT%" 2>nul
call :wait_state RUNNING
if errorlevel 1 (
  echo install: %NAME% did not reach RUNNING within 30 s; see %DATA%\shmbroker.log and the Application event log 1>&2
  exit /b 1
)
if "%MODE%"=="upgrade" (
  echo install: shmbroker upgraded in %DEST% and RUNNING
) else (
  echo install: shmbroker installed in %DEST% and RUNNING
)
exit /b 0
:eventlog_failed
echo install: cannot register the Event Log source %EVKEY% 1>&2
exit /b 1

rem ---- subroutines -------------------------------------------------------

:reset
exit /b 0

rem :present - exit code 0 if anything named shmbroker is in %ProgramData%:
rem a folder, a file, a junction or a symbolic link (dangling ones too, which
rem "if exist" does not see).
:present
set "FOUND="
for /f "delims=" %%n in ('dir /a /b "%ProgramData%" 2^>nul') do if /i "%%n"=="shmbroker" set "FOUND=1"
if defined FOUND exit /b 0
exit /b 1

rem :is_link - exit code 0 if %ProgramData%\shmbroker is a reparse point.
:is_link
set "FOUND="
for /f "delims=" %%n in ('dir /a:l /b "%ProgramData%" 2^>nul') do if /i "%%n"=="shmbroker" set "FOUND=1"
if defined FOUND exit /b 0
exit /b 1

rem :copy_one FILE - copies SRC\FILE over DEST\FILE, checked byte for byte.
:copy_one
call :reset
copy /y "%SRC%\%~1" "%DEST%\%~1" >nul 2>&1
if errorlevel 1 goto copy_failed
fc /b "%SRC%\%~1" "%DEST%\%~1" >nul 2>&1
if errorlevel 1 goto copy_failed
exit /b 0
:copy_failed
echo install: cannot copy %~1 to %DEST% 1>&2
exit /b 1

:copy_binaries
call :copy_one shmbroker.exe
if errorlevel 1 exit /b 1
if not exist "%SRC%\shmbctl.exe" goto copy_dll
call :copy_one shmbctl.exe
if errorlevel 1 exit /b 1
:copy_dll
if not exist "%SRC%\shmb.dll" goto copy_example
call :copy_one shmb.dll
if errorlevel 1 exit /b 1
:copy_example
if exist "%~dp0config.example.json" copy /y "%~dp0config.example.json" "%DEST%\" >nul 2>&1
echo install: copied the binaries to %DEST%
exit /b 0

rem :make_data - "shmbroker.exe --init-data", the MSI's step too: it creates
rem the data folder with its protected DACL (SYSTEM and Administrators only)
rem in one call, so at no moment can a user write into it; keeps a folder
rem the service would trust (judged as the service's account, not as the
rem administrator running this); refuses anything else at the path; and
rem writes the default config from the config.example.json copied beside
rem it only where there is no config.json. It prints what it did.
:make_data
"%DEST%\shmbroker.exe" --init-data
if errorlevel 1 (
  echo install: cannot prepare the data folder %DATA% 1>&2
  exit /b 1
)
exit /b 0

rem :carry_config - with /keepconfig, the config.json moved aside replaces
rem the default one, but only if the service itself would have trusted it
rem where it was (file and folder owned and writable by administrators only,
rem no reparse point): --check-config judges exactly that. Never by default:
rem an older installer "fixed" the owner of whatever it found, so a planted
rem file can look like an administrator's.
:carry_config
if not defined ASIDE exit /b 0
if not exist "%ASIDE%\config.json" exit /b 0
"%DEST%\shmbroker.exe" --check-config --as-service --config "%ASIDE%\config.json" >nul 2>&1
if not errorlevel 1 goto carry_copy
echo install: NOT keeping %ASIDE%\config.json: the service would not trust it ^(check it, then copy its rules by hand^)
exit /b 0
:carry_copy
call :reset
copy /y "%ASIDE%\config.json" "%DATA%\config.json" >nul 2>&1
if errorlevel 1 goto carry_failed
fc /b "%ASIDE%\config.json" "%DATA%\config.json" >nul 2>&1
if errorlevel 1 goto carry_failed
echo install: kept the rules of the previous %DATA%\config.json
exit /b 0
:carry_failed
echo install: cannot copy %ASIDE%\config.json to %DATA% 1>&2
exit /b 1

rem :sc_step VERB LABEL - sc.exe VERB %SCARGS%. On Wine a verb it does not
rem implement exits with 1 and prints nothing (real sc.exe always prints
rem "[SC] ... FAILED n"): that case alone is skipped.
:sc_step
set "LABEL=%~2"
sc.exe %~1 %SCARGS% >"%OUT%" 2>&1
set "RC=%ERRORLEVEL%"
set "SIZE=0"
for %%s in ("%OUT%") do set "SIZE=%%~zs"
if "%RC%"=="0" goto sc_done
if not defined WINE goto sc_failed
if not "%RC%"=="1" goto sc_failed
if not "%SIZE%"=="0" goto sc_failed
del "%OUT%" 2>nul
echo install: %LABEL%: not supported by this system
exit /b 0
:sc_done
del "%OUT%" 2>nul
echo install: %LABEL%: done
exit /b 0
:sc_failed
type "%OUT%" 1>&2
del "%OUT%" 2>nul
echo install: %LABEL% failed, exit code %RC% 1>&2
exit /b 1

rem :stop_service - stop it (if running) and wait up to 30 s for STOPPED.
:stop_service
call :is_state STOPPED
if not errorlevel 1 exit /b 0
sc.exe stop %NAME% >nul 2>&1
call :wait_state STOPPED
if errorlevel 1 (
  echo install: %NAME% did not stop within 30 s 1>&2
  exit /b 1
)
echo install: stopped %NAME%
exit /b 0

rem :is_state STATE - exit code 0 if sc query shows the service in STATE.
:is_state
set "STATE="
for /f "tokens=1,4" %%a in ('sc.exe query %NAME% 2^>nul') do if "%%a"=="STATE" set "STATE=%%b"
if "%STATE%"=="%~1" exit /b 0
exit /b 1

rem :wait_state STATE - up to 30 s; "ping -n 2" is the portable 1 s sleep.
rem A service that falls back to STOPPED while starting has failed.
:wait_state
set "TRIES=0"
:wait_again
call :is_state %1
if not errorlevel 1 exit /b 0
if not "%~1"=="STOPPED" if "%STATE%"=="STOPPED" exit /b 1
set /a TRIES+=1
if %TRIES% geq 30 exit /b 1
ping -n 2 127.0.0.1 >nul
goto wait_again
