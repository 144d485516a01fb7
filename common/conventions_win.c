/* SPDX-License-Identifier: MPL-2.0 */
/*
 * conventions_win.c - the Windows conventions (shmb_conventions.h) as plain
 * data and string checks. No <windows.h>: this file is built and unit-tested
 * on every platform.
 */
#include <string.h>

#include "shmb_conventions.h"
#include "shmb_types.h"

/* Control pipe DACL: SYSTEM and Administrators full control; Authenticated
 * Users and ALL APPLICATION PACKAGES read+write *without*
 * FILE_CREATE_PIPE_INSTANCE (0x12019b = FILE_GENERIC_READ|FILE_GENERIC_WRITE
 * minus FILE_APPEND_DATA), so a client cannot create server instances of
 * our pipe; low mandatory label, no-write-up, so low-IL clients can connect. */
#define WIN_PIPE_SDDL                                                          \
    "D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;0x12019b;;;AU)(A;;0x12019b;;;AC)"          \
    "S:(ML;;NW;;;LW)"

/* Only a local pipe: "\\.\pipe\..." (a "\\host\pipe\..." name would let the
 * service talk to, or be reached from, another machine). */
static int win_pipe_name_ok(const char *name)
{
    return strncmp(name, "\\\\.\\pipe\\", 9) == 0;
}

/* "Global\NAME": a section in the global namespace (visible across
 * sessions), with no further backslash - "Global\Session\1\x" or
 * "Global\BaseNamedObjects\x" would reach into other namespaces. */
static int win_global_name_ok(const char *name)
{
    return strncmp(name, "Global\\", 7) == 0 && name[7] != '\0' &&
           strchr(name + 7, '\\') == NULL;
}

/* A SID in text form: "S-1-", then digits and single dashes, not ending in
 * a dash. Only the syntax: whether the SID exists is the system's to say. */
static int win_principal_ok(const char *s)
{
    size_t i;
    if (strncmp(s, "S-1-", 4) != 0 || strlen(s) >= SHMB_SID_MAX)
        return 0;
    for (i = 4; s[i]; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '-') ||
            (s[i] == '-' && (s[i + 1] == '-' || s[i + 1] == '\0')))
            return 0;
    }
    return s[4] != '\0';
}

const shmb_conventions shmb_conventions_windows = {
    "windows",
    "\\\\.\\pipe\\shmbroker",
    WIN_PIPE_SDDL,
    win_pipe_name_ok,
    "must start with \\\\.\\pipe\\ (a local pipe)",
    win_global_name_ok,
    "must be \"Global\\\\NAME\" with no further backslash",
    win_principal_ok,
    "a SID (S-1-...)",
    /* NTFS paths: '\\' separates, and names compare case-insensitively. */
    '\\',
    1,
    /* The CRT's descriptor table (one descriptor per connection, through
     * libuv) caps the clients a server can hold. */
    2000,
    /* BUILTIN\Administrators, and LocalSystem (the service's account). */
    "S-1-5-32-544",
    "S-1-5-18",
};
