@echo off
rem SPDX-License-Identifier: MPL-2.0
rem uninstall.cmd - stop and remove the shmbroker service (run elevated).
rem Keeps %ProgramData%\shmbroker (config and log) unless /purge is given.
setlocal
sc.exe query shmbroker >nul 2>&1 || (echo uninstall: service not installed & goto files)
sc.exe stop shmbroker >nul 2>&1
rem Wait up to 30 s for STOPPED.
for /l %%i in (1,1,30) do (
  sc.exe query shmbroker | find "STOPPED" >nul && goto stopped
  ping -n 2 127.0.0.1 >nul
)
:stopped
sc.exe delete shmbroker || exit /b 1
:files
if exist "%ProgramFiles%\shmbroker" rmdir /s /q "%ProgramFiles%\shmbroker"
if /i "%~1"=="/purge" if exist "%ProgramData%\shmbroker" rmdir /s /q "%ProgramData%\shmbroker"
echo uninstall: done
exit /b 0
