@echo off
rem SPDX-License-Identifier: MPL-2.0
rem uninstall.cmd - stop and remove the shmbroker service (run elevated).
rem uninstall.ps1 does exactly the same, step for step, with the same
rem messages and exit codes: change both together.
rem
rem   uninstall.cmd [/purge]
rem
rem Stops the service (waiting up to 30 s for STOPPED), deletes it, removes
rem its Event Log source and %ProgramFiles%\shmbroker. Keeps
rem %ProgramData%\shmbroker (config and log) unless /purge is given; even
rem then it is deleted only if the service would trust it (written by
rem administrators only: nothing in it can have been planted, which
rem "shmbroker.exe --check-data" judges, before the binaries go); anything
rem else there is renamed aside to shmbroker.old-N and reported, never
rem deleted as an administrator.
rem Exit codes: 0 done, 1 a step failed, 5 not elevated.
rem Written for Wine's cmd.exe as well (see install.cmd): no "&&", "||" or
rem findstr.
setlocal EnableExtensions
set "NAME=shmbroker"
set "DEST=%ProgramFiles%\shmbroker"
set "DATA=%ProgramData%\shmbroker"
set "EVKEY=HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\shmbroker"
set "PURGE="
if /i "%~1"=="/purge" set "PURGE=1"
if "%~1"=="" goto args_ok
if defined PURGE goto args_ok
echo uninstall: unknown option %1; the only one is /purge 1>&2
exit /b 1
:args_ok
if defined PROCESSOR_ARCHITEW6432 (
  echo uninstall: run this from a 64-bit command prompt 1>&2
  exit /b 1
)
net session >nul 2>&1
if errorlevel 1 (
  echo uninstall: run this from an elevated prompt 1>&2
  exit /b 5
)

sc.exe query %NAME% >nul 2>&1
if not errorlevel 1 goto service
echo uninstall: the service %NAME% is not installed
goto files
:service
call :is_state STOPPED
if not errorlevel 1 goto stopped
sc.exe stop %NAME% >nul 2>&1
rem Up to 30 s; "ping -n 2" is the portable 1 s sleep.
set "TRIES=0"
:wait_again
call :is_state STOPPED
if not errorlevel 1 goto stopped
set /a TRIES+=1
if %TRIES% geq 30 (
  echo uninstall: %NAME% did not stop within 30 s 1>&2
  exit /b 1
)
ping -n 2 127.0.0.1 >nul
goto wait_again
:stopped
sc.exe delete %NAME% >nul 2>&1
if errorlevel 1 (
  echo uninstall: sc delete %NAME% failed 1>&2
  exit /b 1
)
echo uninstall: stopped and deleted the service %NAME%

:files
set "TRUSTED="
if not defined PURGE goto evlog
call :present
if errorlevel 1 goto evlog
if not exist "%DEST%\shmbroker.exe" goto evlog
"%DEST%\shmbroker.exe" --check-data >nul 2>&1
if not errorlevel 1 set "TRUSTED=1"
:evlog
reg query "%EVKEY%" >nul 2>&1
if errorlevel 1 goto binaries
reg delete "%EVKEY%" /f >nul 2>&1
if errorlevel 1 (
  echo uninstall: cannot remove the Event Log source %EVKEY% 1>&2
  exit /b 1
)
echo uninstall: removed the Event Log source %NAME%
:binaries
if not exist "%DEST%\" goto data
rem The stopped service's process may hold its image a moment longer.
set "TRIES=0"
:rm_again
rmdir /s /q "%DEST%" >nul 2>&1
if not exist "%DEST%\" goto rm_done
set /a TRIES+=1
if %TRIES% geq 10 (
  echo uninstall: cannot remove %DEST% 1>&2
  exit /b 1
)
ping -n 2 127.0.0.1 >nul
goto rm_again
:rm_done
echo uninstall: removed %DEST%
:data
if defined PURGE goto purge
if not exist "%DATA%\" goto done
echo uninstall: kept %DATA% ^(config and log^); uninstall.cmd /purge removes it
goto done
:purge
call :present
if errorlevel 1 goto done
if not defined TRUSTED goto purge_aside
rmdir /s /q "%DATA%" >nul 2>&1
call :present
if errorlevel 1 goto purged
echo uninstall: cannot remove %DATA% 1>&2
exit /b 1
:purged
echo uninstall: removed %DATA%
goto done
rem Not the service's folder (a user may have made it or written into it):
rem renamed - a junction or link itself, never what it points to - and
rem left for the administrator to look at.
:purge_aside
set "STAMP=%RANDOM%%RANDOM%"
ren "%DATA%" "shmbroker.old-%STAMP%" >nul 2>&1
call :present
if errorlevel 1 goto purge_moved
echo uninstall: %DATA% is not a folder the service trusts and cannot be moved aside; look at it and remove it yourself 1>&2
exit /b 1
:purge_moved
echo uninstall: %DATA% is not a folder the service trusts: moved it aside to %ProgramData%\shmbroker.old-%STAMP% instead of deleting it; look at it and remove it yourself
:done
echo uninstall: done
exit /b 0

rem :present - exit code 0 if anything named shmbroker is in %ProgramData%.
:present
set "FOUND="
for /f "delims=" %%n in ('dir /a /b "%ProgramData%" 2^>nul') do if /i "%%n"=="shmbroker" set "FOUND=1"
if defined FOUND exit /b 0
exit /b 1

rem :is_state STATE - exit code 0 if sc query shows the service in STATE.
:is_state
set "STATE="
for /f "tokens=1,4" %%a in ('sc.exe query %NAME% 2^>nul') do if "%%a"=="STATE" set "STATE=%%b"
if "%STATE%"=="%~1" exit /b 0
exit /b 1
