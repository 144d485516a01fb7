/* SPDX-License-Identifier: MPL-2.0 */
/*
 * sddl_of.c - shmb-sddl-of PATH: prints the owner and DACL of a file or
 * folder as SDDL, as Windows reports them (GetNamedSecurityInfoW), so the
 * installer tests can check what an install left on disk without relying
 * on icacls, which Wine does not implement.
 */
#include <windows.h>

#include <aclapi.h>
#include <sddl.h>
#include <shellapi.h>
#include <stdio.h>

int main(void)
{
    const SECURITY_INFORMATION what =
        OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION;
    PSECURITY_DESCRIPTOR sd = NULL;
    LPWSTR text = NULL;
    DWORD rc;
    int argc = 0;
    /* Not wmain: MinGW would need -municode for it. */
    LPWSTR *argv = CommandLineToArgvW(GetCommandLineW(), &argc);

    if (argv == NULL || argc != 2) {
        fprintf(stderr, "usage: shmb-sddl-of PATH\n");
        return 2;
    }
    rc = GetNamedSecurityInfoW(argv[1], SE_FILE_OBJECT, what, NULL, NULL, NULL,
                               NULL, &sd);
    if (rc != ERROR_SUCCESS) {
        fprintf(stderr, "shmb-sddl-of: error %lu\n", rc);
        return 1;
    }
    if (!ConvertSecurityDescriptorToStringSecurityDescriptorW(
            sd, SDDL_REVISION_1, what, &text, NULL)) {
        fprintf(stderr, "shmb-sddl-of: cannot convert (%lu)\n", GetLastError());
        LocalFree(sd);
        return 1;
    }
    printf("%ls\n", text);
    LocalFree(text);
    LocalFree(sd);
    LocalFree(argv);
    return 0;
}
