#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# check-portable.sh SOURCE_DIR
# The portable files (everything in common/, service/ and client/ but the
# *_win.c / *_win.h backend files) must compile and mean the same on any OS:
# they include no <windows.h> and name no Win32 type or call. This lists
# every line that breaks the rule and fails if there is one.
set -euo pipefail
cd "$1"
win_names='windows\.h|\b(HANDLE|DWORD|WORD|BOOL|WCHAR|LPWSTR|LPVOID|PSID|HMODULE|SECURITY_ATTRIBUTES|OVERLAPPED|CRITICAL_SECTION|INVALID_HANDLE_VALUE|ERROR_[A-Z_]+|CreateFile[AW]?|CloseHandle|GetLastError|DuplicateHandle|MapViewOfFile|CreateFileMapping[AW]?|OpenProcess|WaitForSingleObject|Sleep|SetEvent|_open_osfhandle|_get_osfhandle)\b'
files=$(find common service client -name '*.[ch]' ! -name '*_win.[ch]' | sort)
if hits=$(grep -nE "$win_names" $files); then
    echo "Win32 outside the *_win.c files:" >&2
    echo "$hits" >&2
    exit 1
fi
echo "portable: $(echo "$files" | wc -l) files name no Win32 type or call"
